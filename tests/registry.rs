//! `gitops image tags`: a real registry (Debian's `docker-registry`, CNCF
//! Distribution, tests/common/registry.rs) for tags, creation times, anonymous
//! and htpasswd basic access; a local HTTP double answering as the Distribution
//! spec documents (tests/fixtures/registry/) for the bearer-token challenge,
//! `Link` paging, 429 with `Retry-After` and 5xx retries.

mod common;

use std::time::{Duration, Instant};

use common::registry::{basic, Registry, PASSWORD, USER};
use common::shapes::{config, container, deployment, Shape};
use common::{Run, TestEnv};
use gitops::cli::commands::image::tags::EnvTagsOut;
use gitops::cli::commands::image::TagsOut;
use gitops::config::newest::Why;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

/// A configuration repository whose dev, stage and prod run `image` at their
/// tags (the default policies: commit-sha, semver-rc, semver).
fn shop<'t>(t: &'t TestEnv, image: &str, dev: &str, stage: &str, prod: &str) -> Shape<'t> {
    let file = deployment(
        "apps/v1",
        "cart",
        &container("cart", &format!("{image}:{dev}")),
    );
    let shape = Shape::new(
        t,
        "shop",
        &[
            (".gitops.yaml", config("").as_str()),
            ("apps/cart/deployment.yaml", file.as_str()),
        ],
    );
    let from = format!("{image}:{dev}");
    shape.retag("stage", &from, &format!("{image}:{stage}"), "Pin stage");
    shape.retag("prod", &from, &format!("{image}:{prod}"), "Pin prod");
    shape
}

fn env<'a>(out: &'a TagsOut, name: &str) -> &'a EnvTagsOut {
    out.environment(name).expect("the environment asked for")
}

fn tags(t: &TestEnv, s: &Shape, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut all = vec!["image", "tags"];
    all.extend_from_slice(args);
    t.gitops_with(&s.repo, &all, vars)
}

fn fixture(name: &str) -> String {
    let file = format!(
        "{}/tests/fixtures/registry/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Writes a docker config with `auth` for `host` in `dir/config.json`.
fn docker_config(dir: &std::path::Path, host: &str, user: &str, password: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!(
            r#"{{"auths": {{"{host}": {{"auth": "{}"}}}}}}"#,
            basic(user, password)
        ),
    )
    .unwrap();
}

#[test]
fn a_real_registry_lists_the_tags_and_each_environment_takes_its_newest() {
    let reg = Registry::start();
    for (tag, created) in [
        ("aaaaaaa", "2026-11-01T08:00:00Z"),
        ("ccccccc", "2026-11-10T08:00:00Z"),
        // The newest commit, whatever its id's order.
        ("bbbbbbb", "2026-11-20T08:00:00.5+01:00"),
        ("1.2.0", "2026-10-01T08:00:00Z"),
        ("1.3.0-rc.1", "2026-10-02T08:00:00Z"),
        ("1.3.0-rc.2", "2026-10-03T08:00:00Z"),
        ("1.3.0-rc.9", "2026-10-04T08:00:00Z"),
        // Pushed before rc.9's rebuild: a number, not a date, makes it newer.
        ("1.3.0-rc.10", "2026-09-01T08:00:00Z"),
        ("1.3.0", "2026-10-06T08:00:00Z"),
        ("1.4.0-beta", "2026-10-07T08:00:00Z"),
        ("latest", "2026-10-08T08:00:00Z"),
    ] {
        reg.push_image("shop/cart", tag, created);
    }
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", reg.host);
    let s = shop(&t, &image, "ccccccc", "1.3.0-rc.2", "1.2.0");

    let out: TagsOut = tags(&t, &s, &["cart", "--json"], &[]).expect(0).parse();
    assert_eq!(out.image, image);
    assert_eq!(out.registry, reg.host);
    assert_eq!(out.repository, "shop/cart");
    let listed: Vec<&str> = out.tags.iter().map(|t| t.tag.as_str()).collect();
    assert_eq!(
        listed,
        [
            "1.3.0",
            "1.3.0-rc.10",
            "1.3.0-rc.9",
            "1.3.0-rc.2",
            "1.3.0-rc.1",
            "1.2.0",
            "bbbbbbb",
            "ccccccc",
            "aaaaaaa",
            "1.4.0-beta",
            "latest"
        ],
        "versions newest first, then commits by creation time, then the rest"
    );

    let dev = env(&out, "dev");
    assert_eq!(dev.policy, "commit-sha");
    assert_eq!(dev.running, ["ccccccc"]);
    assert_eq!(dev.accepted, ["bbbbbbb", "ccccccc", "aaaaaaa"]);
    assert_eq!(
        (dev.pick.as_deref(), dev.why),
        (Some("bbbbbbb"), Why::Newer)
    );
    let created = |tag: &str| {
        out.tags
            .iter()
            .find(|t| t.tag == tag)
            .and_then(|t| t.created.clone())
    };
    assert_eq!(
        created("bbbbbbb").as_deref(),
        Some("2026-11-20T08:00:00.5+01:00")
    );
    assert_eq!(created("1.3.0"), None, "read for commit tags only");

    let stage = env(&out, "stage");
    assert_eq!(stage.running, ["1.3.0-rc.2"]);
    assert_eq!(
        (stage.pick.as_deref(), stage.why),
        (Some("1.3.0-rc.10"), Why::Newer),
        "rc.10 beats rc.9"
    );
    let prod = env(&out, "prod");
    assert_eq!(
        (prod.pick.as_deref(), prod.why),
        (Some("1.3.0"), Why::Newer)
    );
    for e in &out.environments {
        for never in ["1.4.0-beta", "latest"] {
            assert!(
                !e.accepted.iter().any(|a| a == never),
                "{} accepts {never}",
                e.env
            );
        }
    }

    // The table, by the image's full name, one environment.
    let run = tags(&t, &s, &[&image, "--env", "stage"], &[]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("stage (semver-rc): runs 1.3.0-rc.2; update would take 1.3.0-rc.10"),
        "{}",
        run.stdout
    );
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("1.3.0-rc.10 "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(row.ends_with("pick"), "{row}");
    assert!(!run.stdout.contains("prod"), "{}", run.stdout);

    // Prod already runs the newest release: nothing newer to take.
    let s2 = {
        let t2 = &t;
        let shape = Shape::new(
            t2,
            "current",
            &[
                (".gitops.yaml", config("").as_str()),
                (
                    "apps/cart/deployment.yaml",
                    deployment(
                        "apps/v1",
                        "cart",
                        &container("cart", &format!("{image}:1.3.0")),
                    )
                    .as_str(),
                ),
            ],
        );
        shape
    };
    let out: TagsOut = tags(&t, &s2, &["cart", "--env", "prod", "--json"], &[])
        .expect(0)
        .parse();
    assert_eq!(out.environments.len(), 1);
    assert_eq!(
        (env(&out, "prod").pick.as_deref(), env(&out, "prod").why),
        (None, Why::Current)
    );
}

#[test]
fn user_errors_are_one_line_with_their_exit_code() {
    let reg = Registry::start();
    reg.push_image("shop/cart", "1.0.0", "2026-10-01T08:00:00Z");
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", reg.host);
    let s = shop(&t, &image, "aaaaaaa", "1.0.0-rc.1", "1.0.0");

    let run = tags(&t, &s, &[&format!("{}/shop/nope", reg.host)], &[]);
    let line = run.refused();
    assert!(
        line.contains(&format!(
            "the registry {} has no repository shop/nope",
            reg.host
        )) && line.contains("NAME_UNKNOWN"),
        "{line}"
    );
    let line = tags(&t, &s, &["Shop/Cart"], &[]).refused();
    assert!(line.contains("`Shop/Cart` is not an image name"), "{line}");
    let line = tags(&t, &s, &["cart:1.0.0"], &[]).refused();
    assert!(line.contains("has a tag or digest"), "{line}");
    let line = tags(&t, &s, &["cart", "--env", "qa"], &[]).refused();
    assert!(
        line.contains("environment `qa` is not configured"),
        "{line}"
    );

    let host = reg.host.clone();
    drop(reg);
    let run = tags(&t, &s, &["cart"], &[]);
    run.expect(3);
    let line = run.error_line();
    assert!(
        line.contains(&format!("could not reach the registry {host}"))
            && line.contains("after 3 attempts"),
        "{line}"
    );
}

#[test]
fn htpasswd_basic_auth_with_credentials_where_users_keep_them() {
    let reg = Registry::start_with_htpasswd();
    reg.push_image("shop/cart", "1.0.0", "2026-10-01T08:00:00Z");
    reg.push_image("shop/cart", "1.1.0", "2026-10-02T08:00:00Z");
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", reg.host);
    let s = shop(&t, &image, "aaaaaaa", "1.0.0-rc.1", "1.0.0");
    let no_secret = |run: &Run| {
        for secret in [
            PASSWORD,
            "wrong-pass-77",
            &basic(USER, PASSWORD),
            &basic(USER, "wrong-pass-77"),
        ] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a secret in the output:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    };

    // Anonymous: refused, with how to log in.
    let run = tags(&t, &s, &["cart"], &[]);
    run.expect(3);
    assert!(
        run.error_line().contains(&format!(
            "the registry {} refused anonymous access to shop/cart: 401 Unauthorized",
            reg.host
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.hint().contains(&format!("docker login {}", reg.host)),
        "{}",
        run.stderr
    );

    // A wrong password in ~/.docker/config.json: refused, never shown.
    docker_config(&t.home().join(".docker"), &reg.host, USER, "wrong-pass-77");
    let run = tags(&t, &s, &["cart"], &[]);
    run.expect(3);
    assert!(
        run.error_line()
            .contains("refused the credentials from ~/.docker/config.json"),
        "{}",
        run.stderr
    );
    no_secret(&run);

    // podman's REGISTRY_AUTH_FILE comes first.
    let podman = t.mkdir("podman");
    docker_config(&podman, &reg.host, USER, PASSWORD);
    let auth_file = podman.join("config.json");
    let run = tags(
        &t,
        &s,
        &["cart", "--json"],
        &[("REGISTRY_AUTH_FILE", auth_file.to_str().unwrap())],
    );
    let out: TagsOut = run.expect(0).parse();
    no_secret(&run);
    let listed: Vec<&str> = out.tags.iter().map(|t| t.tag.as_str()).collect();
    assert_eq!(listed, ["1.1.0", "1.0.0"]);
    assert_eq!(env(&out, "prod").pick.as_deref(), Some("1.1.0"));

    // A credential helper (`credHelpers`), asked with the server on stdin.
    let bin = t.mkdir("bin");
    let helper = bin.join("docker-credential-gitops-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\n[ \"$server\" = {} ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n",
            reg.host
        ),
    )
    .unwrap();
    let executable = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(&helper, executable).unwrap();
    std::fs::write(
        t.home().join(".docker/config.json"),
        format!(r#"{{"credHelpers": {{"{}": "gitops-test"}}}}"#, reg.host),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = tags(&t, &s, &["cart"], &[("PATH", path.as_str())]);
    run.expect(0);
    no_secret(&run);
    assert!(
        run.stdout.contains("update would take 1.1.0"),
        "{}",
        run.stdout
    );

    // $DOCKER_CONFIG instead of ~/.docker.
    let dir = t.mkdir("docker-config");
    docker_config(&dir, &reg.host, USER, PASSWORD);
    let run = tags(
        &t,
        &s,
        &["cart"],
        &[("DOCKER_CONFIG", dir.to_str().unwrap())],
    );
    run.expect(0);
    no_secret(&run);
    assert!(
        run.stdout
            .contains("prod (semver): runs 1.0.0; update would take 1.1.0"),
        "{}",
        run.stdout
    );
}

/// A local double of a registry and its token service, on a runtime of its own.
struct Double(common::Served);

impl std::ops::Deref for Double {
    type Target = common::Served;
    fn deref(&self) -> &common::Served {
        &self.0
    }
}

impl Double {
    fn start() -> Double {
        Double(common::Served::start())
    }

    fn host(&self) -> String {
        self.server.uri().trim_start_matches("http://").to_owned()
    }

    /// GETs of `at` answered in turn: each of `first` once, then `then` for good.
    fn in_turn(&self, at: &str, first: Vec<ResponseTemplate>, then: ResponseTemplate) {
        let mut priority = 1;
        for answer in first {
            self.mount(
                Mock::given(method("GET"))
                    .and(path(at))
                    .respond_with(answer)
                    .up_to_n_times(1)
                    .with_priority(priority),
            );
            priority += 1;
        }
        self.mount(
            Mock::given(method("GET"))
                .and(path(at))
                .respond_with(then)
                .with_priority(priority),
        );
    }

    /// The requests received: method, path and query.
    fn received(&self) -> Vec<String> {
        self.0
            .received()
            .iter()
            .map(|r| {
                let query = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{} {}{query}", r.method, r.url.path())
            })
            .collect()
    }
}

fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json")
}

#[test]
fn the_bearer_challenge_and_link_pages() {
    let d = Double::start();
    let uri = d.server.uri();
    let token = serde_json::from_str::<serde_json::Value>(&fixture("token.json")).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let list = "/v2/shop/cart/tags/list";
    // Without a token: the challenge.
    d.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .respond_with(json(401, &fixture("unauthorized.json")).insert_header(
                "WWW-Authenticate",
                format!(r#"Bearer realm="{uri}/token",service="registry.test",scope="repository:shop/cart:pull""#).as_str(),
            ))
            .with_priority(5),
    );
    // The token service, with the user's credentials.
    d.mount(
        Mock::given(method("GET"))
            .and(path("/token"))
            .and(query_param("service", "registry.test"))
            .and(query_param("scope", "repository:shop/cart:pull"))
            .and(header(
                "authorization",
                format!("Basic {}", basic(USER, PASSWORD)).as_str(),
            ))
            .respond_with(json(200, &fixture("token.json"))),
    );
    // Three pages: a relative link, then an absolute one, then none.
    d.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .and(header("authorization", bearer.as_str()))
            .respond_with(json(200, &fixture("tags-page-1.json")).insert_header(
                "Link",
                format!(r#"<{list}?n=2&last=1.3.0-rc.1>; rel="next""#).as_str(),
            ))
            .with_priority(3),
    );
    d.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .and(query_param("last", "1.3.0-rc.1"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(json(200, &fixture("tags-page-2.json")).insert_header(
                "Link",
                format!(r#"<{uri}{list}?n=2&last=1.3.0-rc.9>; rel="next""#).as_str(),
            ))
            .with_priority(1),
    );
    d.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .and(query_param("last", "1.3.0-rc.9"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(json(200, &fixture("tags-page-3.json")))
            .with_priority(1),
    );

    let t = TestEnv::new();
    let image = format!("{}/shop/cart", d.host());
    let s = shop(&t, &image, "aaaaaaa", "1.3.0-rc.1", "1.2.0");
    docker_config(&t.home().join(".docker"), &d.host(), USER, PASSWORD);
    let run = tags(
        &t,
        &s,
        &["cart", "--env", "stage", "--env", "prod", "--json"],
        &[],
    );
    let out: TagsOut = run.expect(0).parse();
    for secret in [PASSWORD, &token[..40]] {
        assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret));
    }
    let listed: Vec<&str> = out.tags.iter().map(|t| t.tag.as_str()).collect();
    assert_eq!(
        listed,
        [
            "1.3.0-rc.10",
            "1.3.0-rc.9",
            "1.3.0-rc.1",
            "1.2.0",
            "1.4.0-beta"
        ]
    );
    assert_eq!(env(&out, "stage").pick.as_deref(), Some("1.3.0-rc.10"));
    assert_eq!(
        (env(&out, "prod").pick.as_deref(), env(&out, "prod").why),
        (None, Why::Current)
    );
    assert_eq!(
        d.received(),
        [
            format!("GET {list}?n=1000"),
            "GET /token?service=registry.test&scope=repository:shop/cart:pull".to_owned(),
            format!("GET {list}?n=1000"),
            format!("GET {list}?n=2&last=1.3.0-rc.1"),
            format!("GET {list}?n=2&last=1.3.0-rc.9"),
        ],
        "one challenge, one token, then the pages"
    );
}

#[test]
fn too_many_requests_waits_as_asked_and_server_errors_are_retried() {
    let d = Double::start();
    let list = "/v2/shop/cart/tags/list";
    d.in_turn(
        list,
        vec![
            json(429, &fixture("toomanyrequests.json")).insert_header("Retry-After", "1"),
            ResponseTemplate::new(503),
        ],
        json(200, &fixture("tags-page-2.json")),
    );
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", d.host());
    let s = shop(&t, &image, "aaaaaaa", "1.3.0-rc.1", "1.2.0");
    let start = Instant::now();
    let out: TagsOut = tags(&t, &s, &["cart", "--json"], &[]).expect(0).parse();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not waited"
    );
    assert_eq!(env(&out, "stage").pick.as_deref(), Some("1.3.0-rc.10"));
    assert_eq!(d.received().len(), 3, "429, 503, then the tags");

    // A registry that keeps failing: three attempts, then one line, exit 3.
    let d = Double::start();
    d.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .respond_with(ResponseTemplate::new(500)),
    );
    let image = format!("{}/shop/cart", d.host());
    let run = t.gitops_with(&s.repo, &["image", "tags", &image], &[]);
    run.expect(3);
    assert!(
        run.error_line().contains(
            "failed to list the tags of shop/cart after 3 attempts: 500 Internal Server Error"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(d.received().len(), 3);

    // A wait longer than a minute is not waited: it says so at once.
    let d = Double::start();
    d.mount(Mock::given(method("GET")).and(path(list)).respond_with(
        json(429, &fixture("toomanyrequests.json")).insert_header("Retry-After", "3600"),
    ));
    let image = format!("{}/shop/cart", d.host());
    let run = t.gitops_with(&s.repo, &["image", "tags", &image], &[]);
    run.expect(3);
    let line = run.error_line();
    assert!(
        line.contains("limited the requests")
            && line.contains("TOOMANYREQUESTS")
            && line.contains("3600 s"),
        "{line}"
    );
    assert_eq!(d.received().len(), 1);

    // Retry-After as an HTTP-date: two seconds away is waited (a second at
    // least: the date has whole seconds), an hour away is not.
    let date =
        |secs| httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(secs));
    let d = Double::start();
    d.in_turn(
        list,
        vec![json(429, &fixture("toomanyrequests.json"))
            .insert_header("Retry-After", date(2).as_str())],
        json(200, &fixture("tags-page-2.json")),
    );
    let image = format!("{}/shop/cart", d.host());
    let start = Instant::now();
    t.gitops_with(&s.repo, &["image", "tags", &image], &[])
        .expect(0);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "an HTTP-date two seconds away was not waited"
    );
    assert_eq!(d.received().len(), 2);
    let d = Double::start();
    d.mount(
        Mock::given(method("GET")).and(path(list)).respond_with(
            json(429, &fixture("toomanyrequests.json"))
                .insert_header("Retry-After", date(3600).as_str()),
        ),
    );
    let image = format!("{}/shop/cart", d.host());
    let run = t.gitops_with(&s.repo, &["image", "tags", &image], &[]);
    run.expect(3);
    let line = run.error_line();
    assert!(
        line.contains("limited the requests")
            && (line.contains("3599 s") || line.contains("3600 s")),
        "{line}"
    );
    assert_eq!(d.received().len(), 1);
}

#[test]
fn commit_tags_order_by_annotation_config_or_index_within_the_cap() {
    let d = Double::start();
    let slow = |body: String, media: &str| {
        ResponseTemplate::new(200)
            .set_body_raw(body, media)
            .set_delay(Duration::from_millis(300))
    };
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let annotated = |created: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{oci}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":2}},"layers":[],"annotations":{{"org.opencontainers.image.created":"{created}"}}}}"#,
            "0".repeat(64)
        )
    };
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    d.mount(
        Mock::given(method("GET"))
            .and(path("/v2/shop/cart/tags/list"))
            .respond_with(json(
                200,
                r#"{"name":"shop/cart","tags":["1.0.0","aaaaaaa","bbbbbbb","ccccccc","ddddddd"]}"#,
            )),
    );
    for (tag, created) in [
        ("aaaaaaa", "2026-11-01T00:00:00Z"),
        ("ccccccc", "2026-11-03T00:00:00Z"),
        ("ddddddd", "2026-11-02T00:00:00Z"),
    ] {
        d.mount(
            Mock::given(method("GET"))
                .and(path(format!("/v2/shop/cart/manifests/{tag}")))
                .respond_with(slow(annotated(created), oci)),
        );
    }
    // bbbbbbb: an index, its first image, that image's config: the newest.
    d.mount(
        Mock::given(method("GET"))
            .and(path("/v2/shop/cart/manifests/bbbbbbb"))
            .respond_with(slow(
                format!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"{oci}","digest":"{}","size":7,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
                    digest('1')
                ),
                "application/vnd.oci.image.index.v1+json",
            )),
    );
    d.mount(
        Mock::given(method("GET"))
            .and(path(format!("/v2/shop/cart/manifests/{}", digest('1'))))
            .respond_with(slow(
                format!(
                    r#"{{"schemaVersion":2,"mediaType":"{oci}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[]}}"#,
                    digest('2')
                ),
                oci,
            )),
    );
    d.mount(
        Mock::given(method("GET"))
            .and(path(format!("/v2/shop/cart/blobs/{}", digest('2'))))
            .respond_with(slow(
                r#"{"architecture":"amd64","os":"linux","created":"2026-11-05T00:00:00Z"}"#
                    .to_owned(),
                "application/vnd.oci.image.config.v1+json",
            )),
    );

    let t = TestEnv::new();
    let image = format!("{}/shop/cart", d.host());
    let s = shop(&t, &image, "ccccccc", "1.0.0-rc.1", "1.0.0");
    let start = Instant::now();
    let run = tags(
        &t,
        &s,
        &["cart", "--env", "dev", "--json"],
        &[("GITOPS_REGISTRY_CONCURRENCY", "1")],
    );
    let out: TagsOut = run.expect(0).parse();
    let dev = env(&out, "dev");
    assert_eq!(dev.accepted, ["bbbbbbb", "ccccccc", "ddddddd", "aaaaaaa"]);
    assert_eq!(
        (dev.pick.as_deref(), dev.why),
        (Some("bbbbbbb"), Why::Newer)
    );
    // Six slow answers (four manifests, the index's image, its config), one at
    // a time.
    assert!(
        start.elapsed() >= Duration::from_millis(1800),
        "{:?}: the cap of 1 was not kept",
        start.elapsed()
    );
    assert_eq!(
        d.received().len(),
        7,
        "the tag list, then the candidates only"
    );

    let line = tags(&t, &s, &["cart"], &[("GITOPS_REGISTRY_CONCURRENCY", "0")]).refused();
    assert!(
        line.contains("GITOPS_REGISTRY_CONCURRENCY must be a whole number from 1 to 256"),
        "{line}"
    );
}

#[test]
fn a_next_page_on_another_server_is_refused() {
    let d = Double::start();
    d.mount(
        Mock::given(method("GET"))
            .and(path("/v2/shop/cart/tags/list"))
            .respond_with(json(200, &fixture("tags-page-1.json")).insert_header(
                "Link",
                r#"<https://elsewhere.example/v2/shop/cart/tags/list?n=2&last=1.3.0-rc.1>; rel="next""#,
            )),
    );
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", d.host());
    let s = shop(&t, &image, "aaaaaaa", "1.3.0-rc.1", "1.2.0");
    let run = tags(&t, &s, &["cart"], &[]);
    run.expect(3);
    assert!(
        run.error_line().contains(
            "sent the next page of shop/cart's tags on another server (https://elsewhere.example/"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(d.received().len(), 1);
}

/// The creation times of commit tags are kept by digest in the user's cache
/// (`$XDG_CACHE_HOME/gitops/image-created`, else `~/.cache/gitops/`): a second
/// run reads each candidate's manifest (its tag may have moved) but no image
/// config; a damaged cache file is ignored (the same answer, exit 0) and
/// written anew.
#[test]
fn creation_times_are_cached_by_digest_and_a_damaged_cache_is_rewritten() {
    let d = Double::start();
    let oci = "application/vnd.oci.image.manifest.v1+json";
    d.mount(
        Mock::given(method("GET"))
            .and(path("/v2/shop/cart/tags/list"))
            .respond_with(json(
                200,
                r#"{"name":"shop/cart","tags":["1.0.0","aaaaaaa","bbbbbbb","ccccccc"]}"#,
            )),
    );
    for (i, (tag, created)) in [
        ("aaaaaaa", "2026-11-01T00:00:00Z"),
        ("bbbbbbb", "2026-11-03T00:00:00Z"),
        ("ccccccc", "2026-11-02T00:00:00Z"),
    ]
    .into_iter()
    .enumerate()
    {
        let config = format!("sha256:{}", i.to_string().repeat(64));
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{oci}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":2}},"layers":[]}}"#
        );
        d.mount(
            Mock::given(method("GET"))
                .and(path(format!("/v2/shop/cart/manifests/{tag}")))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_raw(manifest.clone(), oci)
                        .insert_header(
                            "Docker-Content-Digest",
                            common::registry::digest(manifest.as_bytes()).as_str(),
                        ),
                ),
        );
        d.mount(
            Mock::given(method("GET"))
                .and(path(format!("/v2/shop/cart/blobs/{config}")))
                .respond_with(json(
                    200,
                    &format!(r#"{{"architecture":"amd64","os":"linux","created":"{created}"}}"#),
                )),
        );
    }

    let t = TestEnv::new();
    let image = format!("{}/shop/cart", d.host());
    let s = shop(&t, &image, "ccccccc", "1.0.0-rc.1", "1.0.0");
    let xdg = t.root().join("xdg-cache");
    let vars = [("XDG_CACHE_HOME", xdg.to_str().unwrap())];
    let file = xdg.join("gitops").join("image-created");
    // Requests since the last look: (manifests, blobs).
    let seen = std::cell::Cell::new(0);
    let counts = || {
        let all = d.received();
        let new = &all[seen.get()..];
        seen.set(all.len());
        let n = |what: &str| new.iter().filter(|r| r.contains(what)).count();
        (n("/manifests/"), n("/blobs/"))
    };
    let answer = |run: &Run| {
        let out: TagsOut = run.parse();
        let dev = env(&out, "dev");
        let created: Vec<(String, Option<String>)> = out
            .tags
            .iter()
            .map(|t| (t.tag.clone(), t.created.clone()))
            .collect();
        (dev.pick.clone(), dev.why, created)
    };

    let first = tags(&t, &s, &["cart", "--env", "dev", "--json"], &vars);
    first.expect(0);
    let want = answer(&first);
    assert_eq!((want.0.as_deref(), want.1), (Some("bbbbbbb"), Why::Newer));
    assert_eq!(
        counts(),
        (3, 3),
        "cold: each candidate's manifest and config"
    );
    let good = std::fs::read(&file).expect("the cache file in $XDG_CACHE_HOME/gitops");
    assert!(
        good.starts_with(b"gitops-cache image-created "),
        "{}",
        String::from_utf8_lossy(&good)
    );

    let second = tags(&t, &s, &["cart", "--env", "dev", "--json"], &vars);
    assert_eq!(answer(second.expect(0)), want);
    assert_eq!(
        counts(),
        (3, 0),
        "warm: the manifests (for their digests), no config"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        good,
        "nothing new: not rewritten"
    );

    let mut flipped = good.clone();
    let last = flipped.len() - 2;
    flipped[last] ^= 1;
    for (how, damaged) in [
        ("a byte changed", flipped),
        ("cut short", good[..good.len() / 2].to_vec()),
        ("not a cache", b"2026-11-03T00:00:00Z\n".to_vec()),
    ] {
        std::fs::write(&file, &damaged).unwrap();
        let run = tags(&t, &s, &["cart", "--env", "dev", "--json"], &vars);
        assert_eq!(answer(run.expect(0)), want, "{how}");
        assert_eq!(counts(), (3, 3), "{how}: the configs read again");
        assert_eq!(std::fs::read(&file).unwrap(), good, "{how}: rewritten");
    }

    // Without XDG_CACHE_HOME: ~/.cache/gitops.
    tags(&t, &s, &["cart", "--env", "dev", "--json"], &[]).expect(0);
    assert!(t.home().join(".cache/gitops/image-created").is_file());
}

/// Docker's `identitytoken` (what `docker login` keeps for registries that log
/// in with OAuth2): a refresh token, traded at the challenge's realm by `POST`
/// with `grant_type=refresh_token`, as the Distribution token spec's OAuth2
/// page says, for the `access_token` the requests then carry. Neither token
/// shows anywhere, not even when the token service refuses.
#[test]
fn an_identity_token_is_traded_by_the_oauth2_refresh_grant_and_never_shown() {
    use wiremock::matchers::body_string_contains;
    const REFRESH: &str = "kas9Da81Dfa8";
    let d = Double::start();
    let uri = d.server.uri();
    let list = "/v2/shop/cart/tags/list";
    let answer: serde_json::Value = serde_json::from_str(&fixture("oauth-token.json")).unwrap();
    let access = answer["access_token"].as_str().unwrap().to_owned();
    let challenge = || {
        Mock::given(method("GET"))
            .and(path(list))
            .respond_with(json(401, &fixture("unauthorized.json")).insert_header(
                "WWW-Authenticate",
                format!(r#"Bearer realm="{uri}/token",service="registry.test",scope="repository:shop/cart:pull""#).as_str(),
            ))
            .with_priority(5)
    };
    d.mount(challenge());
    d.mount(
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string_contains("grant_type=refresh_token"))
            .and(body_string_contains(
                format!("refresh_token={REFRESH}").as_str(),
            ))
            .and(body_string_contains("service=registry.test"))
            .and(body_string_contains("scope=repository:shop/cart:pull"))
            .and(body_string_contains("client_id=gitops"))
            .respond_with(json(200, &fixture("oauth-token.json"))),
    );
    d.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .and(header("authorization", format!("Bearer {access}").as_str()))
            .respond_with(json(200, &fixture("tags-page-3.json")))
            .with_priority(1),
    );
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", d.host());
    let s = shop(&t, &image, "aaaaaaa", "1.3.0-rc.1", "1.2.0");
    let docker = t.home().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{}", "identitytoken": "{REFRESH}"}}}}}}"#,
            d.host(),
            basic("<token>", "")
        ),
    )
    .unwrap();

    let run = tags(&t, &s, &["cart", "--json"], &[]);
    let out: TagsOut = run.expect(0).parse();
    assert!(!out.tags.is_empty(), "{}", run.stdout);
    assert_eq!(
        d.received(),
        [
            format!("GET {list}?n=1000"),
            "POST /token".to_owned(),
            format!("GET {list}?n=1000"),
        ],
        "the challenge, the refresh grant (no GET on the realm), the tags"
    );
    for secret in [REFRESH, access.as_str()] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }

    // Refused, with a body that repeats the token: exit 3, one line, no token.
    let d = Double::start();
    let uri = d.server.uri();
    d.mount(Mock::given(method("GET")).and(path(list)).respond_with(
        json(401, &fixture("unauthorized.json")).insert_header(
            "WWW-Authenticate",
            format!(r#"Bearer realm="{uri}/token",service="registry.test""#).as_str(),
        ),
    ));
    d.mount(
        Mock::given(method("POST")).and(path("/token")).respond_with(json(
            401,
            &format!(r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"refresh token {REFRESH} expired"}}]}}"#),
        )),
    );
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "{REFRESH}"}}}}}}"#,
            d.host()
        ),
    )
    .unwrap();
    let image = format!("{}/shop/cart", d.host());
    let run = t.gitops_with(&s.repo, &["image", "tags", &image], &[]);
    run.expect(3);
    assert!(
        run.error_line()
            .contains("refused the credentials from ~/.docker/config.json"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains(REFRESH) && !run.stderr.contains(REFRESH),
        "{}",
        run.stderr
    );
}

//! `gitops image update`: the real registry (tests/common/registry.rs) tells
//! which tags are new; each pick goes through `image set`'s code path, to a
//! bare origin and, for pull requests, the local GitHub double (bodies:
//! GitHub's documented examples, tests/fixtures/github).

mod common;

use common::github::{Double, FIRST};
use common::registry::Registry;
use common::shapes::{config, container, deployment, Shape};
use common::{Run, TestEnv};
use gitops::cli::commands::image::update::{RowAction, UpdateRow};
use gitops::cli::commands::image::{SetOut, UpdateOut};
use gitops::cli::commands::Action;
use gitops::config::newest::Why;

const FILE: &str = "apps/cart/deployment.yaml";

/// dev, stage and prod run `images` (name, dev tag, stage tag, prod tag), one
/// deployment each, under the default policies (commit-sha with auto-merge,
/// semver-rc, semver); `extra` is more config.
fn shop<'t>(t: &'t TestEnv, images: &[(&str, &str, &str, &str)], extra: &str) -> Shape<'t> {
    let gitops = config(extra);
    let mut files = vec![(".gitops.yaml".to_owned(), gitops)];
    for (image, dev, _, _) in images {
        let short = image.rsplit('/').next().unwrap();
        files.push((
            format!("apps/{short}/deployment.yaml"),
            deployment(
                "apps/v1",
                short,
                &container(short, &format!("{image}:{dev}")),
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, f)| (p.as_str(), f.as_str()))
        .collect();
    let shape = Shape::new(t, "shop", &refs);
    for (image, dev, stage, prod) in images {
        let from = format!("{image}:{dev}");
        shape.retag("stage", &from, &format!("{image}:{stage}"), "Pin stage");
        shape.retag("prod", &from, &format!("{image}:{prod}"), "Pin prod");
    }
    shape
}

fn update(t: &TestEnv, s: &Shape, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut all = vec!["image", "update"];
    all.extend_from_slice(args);
    t.gitops_with(&s.repo, &all, vars)
}

fn row<'a>(out: &'a UpdateOut, env: &str, image: &str) -> &'a UpdateRow {
    out.updates
        .iter()
        .find(|r| r.env == env && r.image.ends_with(image))
        .unwrap_or_else(|| panic!("no row for {env} {image}: {out:#?}"))
}

fn gitops_branches(t: &TestEnv, s: &Shape) -> Vec<String> {
    t.git(
        &s.origin,
        &["for-each-ref", "--format=%(refname)", "refs/heads/gitops/"],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn new_tags_in_the_registry_go_through_image_sets_path_and_a_rerun_pushes_nothing() {
    let reg = Registry::start();
    for (tag, created) in [
        ("aaaaaaa", "2026-11-01T08:00:00Z"),
        ("ccccccc", "2026-11-10T08:00:00Z"),
        ("1.2.0", "2026-10-01T08:00:00Z"),
        ("1.3.0-rc.1", "2026-10-02T08:00:00Z"),
        ("1.3.0-rc.2", "2026-10-03T08:00:00Z"),
        // Newer versions, but no policy of these environments takes them.
        ("1.4.0-beta", "2026-10-07T08:00:00Z"),
        ("2.0.0-RC1", "2026-10-07T08:00:00Z"),
        ("latest", "2026-12-01T08:00:00Z"),
    ] {
        reg.push_image("shop/cart", tag, created);
    }
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", reg.host);
    let s = shop(
        &t,
        &[(image.as_str(), "ccccccc", "1.3.0-rc.1", "1.2.0")],
        "",
    );

    // Nothing new on dev and prod; rc.2 for stage. A dry run pushes nothing.
    let before = s.refs();
    let out: UpdateOut = update(&t, &s, &["--dry-run", "--json"], &[])
        .expect(0)
        .parse();
    assert!(out.dry_run);
    assert_eq!(out.updates.len(), 3, "{out:#?}");
    let dev = row(&out, "dev", "cart");
    assert_eq!(
        (dev.action, dev.why, dev.newest.as_deref()),
        (RowAction::Nothing, Some(Why::Current), Some("ccccccc"))
    );
    let stage = row(&out, "stage", "cart");
    assert_eq!(stage.action, RowAction::Planned);
    assert_eq!(stage.pick.as_deref(), Some("1.3.0-rc.2"));
    assert_eq!(stage.branch.as_deref(), Some("gitops/image-stage-cart"));
    assert_eq!(row(&out, "prod", "cart").action, RowAction::Nothing);
    assert_eq!(s.refs(), before, "a dry run pushes nothing");

    // The update: the stage branch and nothing else.
    let out: UpdateOut = update(&t, &s, &["--json"], &[]).expect(0).parse();
    let stage = row(&out, "stage", "cart");
    assert_eq!(stage.action, RowAction::Pushed, "{out:#?}");
    assert_eq!(stage.running, ["1.3.0-rc.1"]);
    assert_eq!(
        gitops_branches(&t, &s),
        ["refs/heads/gitops/image-stage-cart"]
    );
    let tip = t.rev(&s.origin, "gitops/image-stage-cart");
    assert_eq!(
        s.show(&tip, FILE),
        s.show("stage", FILE)
            .replace("cart:1.3.0-rc.1", "cart:1.3.0-rc.2"),
        "only the tag's bytes changed"
    );
    // The same as `image set` gives: it finds the branch already there.
    let set: SetOut = t
        .gitops(
            &s.repo,
            &[
                "image",
                "set",
                "cart",
                "1.3.0-rc.2",
                "--env",
                "stage",
                "--json",
            ],
        )
        .expect(0)
        .parse();
    assert_eq!(set.action, Action::Unchanged, "{set:#?}");
    assert_eq!(t.rev(&s.origin, "gitops/image-stage-cart"), tip);

    // A rerun with nothing new pushes nothing.
    let before = s.refs();
    let out: UpdateOut = update(&t, &s, &["--json"], &[]).expect(0).parse();
    assert_eq!(row(&out, "stage", "cart").action, RowAction::Unchanged);
    assert_eq!(s.refs(), before);

    // New builds: a commit on dev, rc.9 and rc.10 (pushed before rc.9: a
    // number, not a date, makes it newer), 1.3.0.
    reg.push_image("shop/cart", "bbbbbbb", "2026-11-20T08:00:00Z");
    reg.push_image("shop/cart", "1.3.0-rc.9", "2026-10-04T08:00:00Z");
    reg.push_image("shop/cart", "1.3.0-rc.10", "2026-09-01T08:00:00Z");
    reg.push_image("shop/cart", "1.3.0", "2026-10-06T08:00:00Z");
    let run = update(&t, &s, &[], &[]);
    run.expect(0);
    for expected in ["bbbbbbb", "1.3.0-rc.10", "1.3.0", "ENV", "NEWEST ELIGIBLE"] {
        assert!(run.stdout.contains(expected), "{expected}: {}", run.stdout);
    }
    assert_eq!(
        gitops_branches(&t, &s),
        [
            "refs/heads/gitops/image-dev-cart",
            "refs/heads/gitops/image-prod-cart",
            "refs/heads/gitops/image-stage-cart"
        ],
        "one branch per environment and image: stage's is refreshed"
    );
    let on = |branch: &str| s.show(branch, FILE);
    assert!(on("gitops/image-dev-cart").contains(&format!("{image}:bbbbbbb")));
    assert!(on("gitops/image-stage-cart").contains(&format!("{image}:1.3.0-rc.10")));
    assert!(on("gitops/image-prod-cart").contains(&format!("{image}:1.3.0")));
    let stage_tip = t.rev(&s.origin, "gitops/image-stage-cart");
    assert_eq!(
        t.git(&s.origin, &["rev-parse", &format!("{stage_tip}^")])
            .trim(),
        t.rev(&s.origin, "stage"),
        "one commit on origin/stage"
    );

    // And again: nothing new, nothing pushed.
    let before = s.refs();
    let out: UpdateOut = update(&t, &s, &["--json"], &[]).expect(0).parse();
    assert!(
        out.updates
            .iter()
            .all(|r| matches!(r.action, RowAction::Unchanged)),
        "{out:#?}"
    );
    assert_eq!(s.refs(), before);
}

/// `shop/cart` in a registry with new tags for dev (`bbbbbbb`) and stage
/// (`1.3.0-rc.2`) and none for prod, and the shop running `ccccccc`,
/// `1.3.0-rc.1` and `1.2.0`, its config naming GitHub's `shop/config`; and
/// that repository's double (pulls and GraphQL over the pull requests opened
/// so far). The registry stops when it is dropped.
fn cart_on_github(t: &TestEnv) -> (Registry, Shape<'_>, Double) {
    let (reg, s) = cart_with_news(t, "github:\n  repository: shop/config\n");
    let gh = Double::start("shop", "config", "graphql-auto-merge-enabled");
    (reg, s, gh)
}

/// A registry with newer cart images for dev (`bbbbbbb`) and stage
/// (`1.3.0-rc.2`) than they run, none for prod, and the shop configured with
/// `extra`.
fn cart_with_news<'t>(t: &'t TestEnv, extra: &str) -> (Registry, Shape<'t>) {
    let reg = Registry::start();
    for (tag, created) in [
        ("ccccccc", "2026-11-10T08:00:00Z"),
        ("bbbbbbb", "2026-11-20T08:00:00Z"),
        ("1.3.0-rc.1", "2026-10-02T08:00:00Z"),
        ("1.3.0-rc.2", "2026-10-03T08:00:00Z"),
        ("1.2.0", "2026-10-01T08:00:00Z"),
    ] {
        reg.push_image("shop/cart", tag, created);
    }
    let image = format!("{}/shop/cart", reg.host);
    let s = shop(
        t,
        &[(image.as_str(), "ccccccc", "1.3.0-rc.1", "1.2.0")],
        extra,
    );
    (reg, s)
}

/// dev's new commit tag gets a pull request with auto-merge, stage's rc a pull
/// request without: as `image set` does, per the environment's promotion mode.
#[test]
fn pull_requests_and_auto_merge_follow_each_environments_promotion() {
    use serde_json::{json, Value};

    let t = TestEnv::new();
    let (_reg, s, gh) = cart_on_github(&t);
    let pulls = &gh.pulls;
    let run = update(
        &t,
        &s,
        &["--json"],
        &[
            ("GITHUB_API_URL", &gh.uri()),
            ("GH_TOKEN", "ghp_updateTOKEN42"),
        ],
    );
    run.expect(0);
    let out: UpdateOut = run.parse();
    for (env, number) in [("dev", FIRST), ("stage", FIRST + 1)] {
        let r = row(&out, env, "cart");
        assert_eq!(
            r.action,
            RowAction::Opened,
            "{env}: {out:#?}\n{}",
            run.stderr
        );
        let pull = r.pull_request.as_ref().expect("a pull request");
        assert_eq!(pull.number, number);
    }
    let open = pulls.open();
    assert_eq!(
        open.iter()
            .map(|p| (p.base.as_str(), p.auto_merge))
            .collect::<Vec<_>>(),
        [("dev", true), ("stage", false)]
    );
    assert_eq!(row(&out, "prod", "cart").action, RowAction::Nothing);

    let requests = gh.received();
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /repos/shop/config/pulls",
            "POST /repos/shop/config/pulls",
            "POST /graphql",
            "GET /repos/shop/config/pulls",
            "POST /repos/shop/config/pulls",
        ],
        "auto-merge for dev only"
    );
    let dev: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(dev["title"], "Set cart to bbbbbbb on dev");
    assert_eq!(
        (&dev["head"], &dev["base"]),
        (&json!("gitops/image-dev-cart"), &json!("dev"))
    );
    let stage: Value = serde_json::from_slice(&requests[4].body).unwrap();
    assert_eq!(stage["title"], "Set cart to 1.3.0-rc.2 on stage");
    assert_eq!(stage["base"], "stage");
    assert!(!run.stdout.contains("ghp_updateTOKEN42") && !run.stderr.contains("ghp_updateTOKEN42"));
}

/// The same on GitLab: a merge request per environment and image, dev's set
/// to merge when the pipeline succeeds, in a subgroup on a self-managed host.
#[test]
fn merge_requests_on_gitlab_follow_each_environments_promotion() {
    use common::gitlab::{Double, Merge};

    let t = TestEnv::new();
    let (_reg, s) = cart_with_news(
        &t,
        "forge: gitlab\nhost: git.example.com\ngitlab:\n  repository: shop/team/config\n",
    );
    let gl = Double::start(
        "git.example.com",
        "shop/team/config",
        "dev",
        &[],
        Merge::Accept,
    );
    let api = gl.api();
    let token = "glpat-updateTOKEN42";
    let run = update(
        &t,
        &s,
        &["--json"],
        &[("CI_API_V4_URL", &api), ("GITLAB_TOKEN", token)],
    );
    run.expect(0);
    let out: UpdateOut = run.parse();
    for (env, iid) in [("dev", 1), ("stage", 2)] {
        let r = row(&out, env, "cart");
        assert_eq!(
            r.action,
            RowAction::Opened,
            "{env}: {out:#?}\n{}",
            run.stderr
        );
        let pull = r.pull_request.as_ref().expect("a merge request");
        assert_eq!(pull.number, iid);
        assert_eq!(pull.forge, gitops::forge::Kind::GitLab);
        assert_eq!(
            pull.url,
            format!("https://git.example.com/shop/team/config/-/merge_requests/{iid}")
        );
    }
    let open = gl.project.open();
    assert_eq!(
        open.iter()
            .map(|m| (m.target.as_str(), m.title.as_str(), m.auto_merge))
            .collect::<Vec<_>>(),
        [
            ("dev", "Set cart to bbbbbbb on dev", true),
            ("stage", "Set cart to 1.3.0-rc.2 on stage", false)
        ]
    );
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token));

    // A rerun with nothing new: one lookup per open merge request.
    let before = gl.received().len();
    let run = update(
        &t,
        &s,
        &["--json"],
        &[("CI_API_V4_URL", &api), ("GITLAB_TOKEN", token)],
    );
    run.expect(0);
    let calls = &gl.calls()[before..];
    assert_eq!(
        calls, ["GET /api/v4/projects/shop%2Fteam%2Fconfig/merge_requests"; 2],
        "{}",
        run.stderr
    );
}

/// An image whose registry cannot be reached is reported on its rows; the
/// other images are updated; exit 3.
#[test]
fn an_unreachable_registry_fails_its_image_only() {
    let reg = Registry::start();
    reg.push_image("shop/cart", "1.3.0-rc.1", "2026-10-02T08:00:00Z");
    reg.push_image("shop/cart", "1.3.0-rc.2", "2026-10-03T08:00:00Z");
    let t = TestEnv::new();
    let cart = format!("{}/shop/cart", reg.host);
    // Nothing listens on port 1.
    let web = "127.0.0.1:1/shop/web".to_owned();
    let s = shop(
        &t,
        &[
            (cart.as_str(), "ccccccc", "1.3.0-rc.1", "1.2.0"),
            (web.as_str(), "ccccccc", "1.3.0-rc.1", "1.2.0"),
        ],
        "",
    );

    let run = update(&t, &s, &["--env", "stage", "--json"], &[]);
    run.expect(3);
    let out: UpdateOut = run.parse();
    assert_eq!(out.updates.len(), 2, "{out:#?}");
    assert_eq!(row(&out, "stage", "cart").action, RowAction::Pushed);
    let failed = row(&out, "stage", "web");
    assert_eq!(failed.action, RowAction::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("127.0.0.1:1"),
        "{failed:#?}"
    );
    assert_eq!(
        gitops_branches(&t, &s),
        ["refs/heads/gitops/image-stage-cart"]
    );

    // `--image` narrows to the reachable one: exit 0.
    let out: UpdateOut = update(
        &t,
        &s,
        &["--env", "stage", "--image", "cart", "--json"],
        &[],
    )
    .expect(0)
    .parse();
    assert_eq!(out.updates.len(), 1);
    assert_eq!(out.updates[0].action, RowAction::Unchanged);
    // An image no environment runs is refused.
    update(&t, &s, &["--image", "nope"], &[]).expect(2);
}

/// Every image's tags are asked for at once, within its registry's cap
/// (`GITOPS_REGISTRY_CONCURRENCY`), which holds for all the images of that
/// registry together; the rows come in the images' order, as before.
#[test]
fn images_are_listed_concurrently_within_the_registrys_cap() {
    use std::time::{Duration, Instant};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(MockServer::start());
    let host = server.uri().trim_start_matches("http://").to_owned();
    let names = ["a", "b", "c", "d"];
    for name in names {
        runtime.block_on(
            Mock::given(method("GET"))
                .and(path(format!("/v2/shop/{name}/tags/list")))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_raw(
                            format!(
                                r#"{{"name":"shop/{name}","tags":["1.0.0","1.1.0-rc.1","1.1.0"]}}"#
                            ),
                            "application/json",
                        )
                        .set_delay(Duration::from_millis(600)),
                )
                .mount(&server),
        );
    }
    let t = TestEnv::new();
    let images: Vec<String> = names.iter().map(|n| format!("{host}/shop/{n}")).collect();
    let shape: Vec<(&str, &str, &str, &str)> = images
        .iter()
        .map(|i| (i.as_str(), "ccccccc", "1.0.0-rc.1", "1.0.0"))
        .collect();
    let s = shop(&t, &shape, "");

    let timed = |cap: &str| {
        let start = Instant::now();
        let run = update(
            &t,
            &s,
            &["--dry-run", "--json"],
            &[("GITOPS_REGISTRY_CONCURRENCY", cap)],
        );
        let out: UpdateOut = run.expect(0).parse();
        (start.elapsed(), out)
    };
    let (together, out) = timed("4");
    let order: Vec<(&str, &str)> = out
        .updates
        .iter()
        .map(|r| (r.env.as_str(), r.image.rsplit('/').next().unwrap()))
        .collect();
    let mut want = Vec::new();
    for name in names {
        for env in ["dev", "stage", "prod"] {
            want.push((env, name));
        }
    }
    assert_eq!(
        order, want,
        "images in name order, environments in the config's"
    );
    for name in names {
        assert_eq!(row(&out, "stage", name).pick.as_deref(), Some("1.1.0-rc.1"));
        assert_eq!(row(&out, "prod", name).action, RowAction::Planned);
    }
    // Four slow answers: at once, about one answer's time; one at a time, four.
    let (one_by_one, _) = timed("1");
    assert!(
        one_by_one >= Duration::from_millis(2400),
        "{one_by_one:?}: the cap of 1 was not kept across the images"
    );
    assert!(
        together < Duration::from_millis(1800),
        "{together:?}: the four images were not asked for at once"
    );
    let requests = runtime.block_on(server.received_requests()).unwrap();
    assert_eq!(requests.len(), 8, "one tag list per image and run");
}

/// On a terminal (a pseudo-terminal from util-linux's `script`) a progress bar
/// shows while the registries answer; with `--json`, and off a terminal,
/// nothing but the document.
#[test]
fn a_progress_bar_on_a_terminal_only_and_never_with_json() {
    let reg = Registry::start();
    reg.push_image("shop/cart", "1.3.0-rc.2", "2026-10-03T08:00:00Z");
    let t = TestEnv::new();
    let image = format!("{}/shop/cart", reg.host);
    let s = shop(
        &t,
        &[(image.as_str(), "ccccccc", "1.3.0-rc.1", "1.2.0")],
        "",
    );
    let on_terminal = |args: &str| {
        let cmd = format!(
            "{} image update --dry-run --color never {args}",
            env!("CARGO_BIN_EXE_gitops")
        );
        let out = t
            .command("script", &s.repo)
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            // indicatif draws on a terminal that can move the cursor.
            .env("TERM", "xterm")
            .output()
            .expect("util-linux `script` runs the command on a pseudo-terminal");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let screen = on_terminal("");
    assert!(screen.contains("checking the registries"), "{screen}");
    assert!(screen.contains("would set 1.3.0-rc.2"), "{screen}");
    let screen = on_terminal("--json");
    assert!(!screen.contains("checking the registries"), "{screen}");
    let run = update(&t, &s, &["--dry-run"], &[]);
    run.expect(0);
    assert!(
        !run.stderr.contains("checking the registries"),
        "{}",
        run.stderr
    );
}

/// A rerun with nothing new pushes nothing (origin's branches, as `git
/// ls-remote` lists them, stay where they are) and asks GitHub once per open
/// pull request: to find it, as it was opened.
#[test]
fn a_rerun_with_nothing_new_pushes_nothing_and_asks_github_once_per_open_pull_request() {
    use serde_json::Value;

    let t = TestEnv::new();
    let (_reg, s, gh) = cart_on_github(&t);
    let pulls = &gh.pulls;
    let vars = [
        ("GITHUB_API_URL", gh.uri()),
        ("GH_TOKEN", "ghp_rerunTOKEN77".to_owned()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ls_remote = || t.git(&s.repo, &["ls-remote", "origin"]);

    // The first run opens dev's and stage's pull requests.
    let out: UpdateOut = update(&t, &s, &["--json"], &vars).expect(0).parse();
    assert_eq!(row(&out, "dev", "cart").action, RowAction::Opened);
    assert_eq!(row(&out, "stage", "cart").action, RowAction::Opened);
    let opened: Vec<Value> = gh
        .received()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/repos/shop/config/pulls")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(opened.len(), 2);

    // GitHub now has them open, as they were asked for (dev's with auto-merge).
    assert_eq!(pulls.open().len(), 2);
    let seen = gh.received().len();
    let before = ls_remote();
    let run = update(&t, &s, &["--json"], &vars);
    let out: UpdateOut = run.expect(0).parse();
    for env in ["dev", "stage"] {
        let r = row(&out, env, "cart");
        assert_eq!(
            r.action,
            RowAction::Unchanged,
            "{env}: {out:#?}\n{}",
            run.stderr
        );
        assert!(r.pull_request.is_some(), "{env}");
    }
    assert_eq!(row(&out, "prod", "cart").action, RowAction::Nothing);
    assert_eq!(ls_remote(), before, "nothing pushed");
    let calls: Vec<String> = gh
        .received()
        .iter()
        .skip(seen)
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    let open_pulls = 2;
    assert!(
        calls.len() <= open_pulls,
        "at most one GitHub request per open pull request: {calls:#?}"
    );
    assert!(calls.iter().all(|c| c.starts_with("GET ")), "{calls:#?}");
    assert!(!run.stdout.contains("ghp_rerunTOKEN77") && !run.stderr.contains("ghp_rerunTOKEN77"));
}

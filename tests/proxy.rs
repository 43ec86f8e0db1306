//! Proxies: with `HTTP_PROXY`/`HTTPS_PROXY` set (or their lowercase names), every
//! GitHub call goes through the proxy; `NO_PROXY` hosts are reached directly.
//! Everything is on 127.0.0.1: a GitHub double (wiremock) and a forwarding proxy
//! (tests/common/proxy.rs) that records what it was asked.

mod common;

use common::github::Double;
use common::proxy::Proxy;
use common::{env, Sample, TestEnv};
use serde_json::Value;

const TOKEN: &str = "ghp_proxyTOKEN13579abcdef2468";

/// The quickstart sample, its config naming octocat/Hello-World.
fn sample(t: &TestEnv) -> Sample {
    let s = t.quickstart();
    t.name_github_repository(&s.origin, "dev-clone");
    s
}

/// A GitHub double that knows stage's promotion pull request (#1347) and none
/// for prod, and the runtime that talks to it.
struct GitHub(Double);

impl GitHub {
    fn start() -> GitHub {
        let gh = Double::empty("octocat", "Hello-World");
        gh.mount_open_pull_with_checks("gitops/promote-dev-to-stage", "stage");
        GitHub(gh)
    }

    fn uri(&self) -> String {
        self.0.uri()
    }

    /// The requests it received, each with its Authorization header.
    fn received(&self) -> Vec<(String, String)> {
        self.0
            .received()
            .iter()
            .map(|r| {
                let auth = r
                    .headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                (format!("{} {}", r.method, r.url.path()), auth)
            })
            .collect()
    }
}

/// `gitops status --json` with a token, GitHub at `api`, and `vars`.
fn status(t: &TestEnv, s: &Sample, api: &str, vars: &[(&str, &str)]) -> common::Run {
    let mut all = vec![("GITHUB_API_URL", api), ("GH_TOKEN", TOKEN)];
    all.extend_from_slice(vars);
    t.gitops_with(&s.repo, &["status", "--json"], &all)
}

/// Stage's pull request came back from the double.
fn assert_answered(run: &common::Run) {
    run.expect(0);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let status = run.json();
    assert_eq!(
        env(&status, "stage")["pull_request"]["number"],
        1347,
        "{status:#}"
    );
    assert_eq!(env(&status, "prod")["pull_request"], Value::Null);
}

#[test]
fn github_calls_go_through_http_proxy_with_its_credentials() {
    let t = TestEnv::new();
    let s = sample(&t);
    let github = GitHub::start();
    let proxy = Proxy::start();
    // user:secret@ in the proxy's URL, percent-encoded as curl takes it.
    let with_user = proxy.url.replace("http://", "http://user:s%40cret@");
    let run = status(&t, &s, &github.uri(), &[("HTTP_PROXY", &with_user)]);
    assert_answered(&run);

    let graphql = format!("POST {}/graphql", github.uri());
    let seen = proxy.seen();
    assert_eq!(seen.len(), 2, "one request per environment: {seen:?}");
    for s in &seen {
        assert_eq!(s.request, graphql);
        // base64("user:s@cret")
        assert_eq!(
            s.proxy_authorization.as_deref(),
            Some("Basic dXNlcjpzQGNyZXQ=")
        );
    }
    // The proxy forwarded them, with the token for GitHub.
    let received = github.received();
    assert_eq!(received.len(), 2, "{received:?}");
    for (request, auth) in received {
        assert_eq!(request, "POST /graphql");
        assert_eq!(auth, format!("Bearer {TOKEN}"));
    }
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(TOKEN) && !text.contains("s%40cret"),
            "{text}"
        );
    }
}

#[test]
fn lowercase_names_work_and_no_proxy_bypasses_the_proxy() {
    let t = TestEnv::new();
    let s = sample(&t);
    let github = GitHub::start();
    let proxy = Proxy::start();

    // Lowercase, as curl and git read it.
    assert_answered(&status(
        &t,
        &s,
        &github.uri(),
        &[("http_proxy", &proxy.url)],
    ));
    assert_eq!(proxy.requests().len(), 2, "{:?}", proxy.requests());

    // NO_PROXY names the host: straight to GitHub.
    for (var, list) in [
        ("NO_PROXY", "127.0.0.1"),
        ("no_proxy", "example.com, 127.0.0.0/8"),
        ("NO_PROXY", "*"),
    ] {
        let before = github.received().len();
        let run = status(
            &t,
            &s,
            &github.uri(),
            &[
                ("HTTP_PROXY", &proxy.url),
                ("http_proxy", &proxy.url),
                (var, list),
            ],
        );
        assert_answered(&run);
        assert_eq!(
            proxy.requests().len(),
            2,
            "{var}={list}: {:?}",
            proxy.requests()
        );
        assert_eq!(github.received().len(), before + 2, "{var}={list}");
    }

    // HTTPS_PROXY is for https URLs only: an http API goes direct.
    assert_answered(&status(
        &t,
        &s,
        &github.uri(),
        &[("HTTPS_PROXY", &proxy.url)],
    ));
    assert_eq!(proxy.requests().len(), 2, "{:?}", proxy.requests());
}

#[test]
fn an_https_api_goes_through_a_connect_tunnel() {
    let t = TestEnv::new();
    let s = sample(&t);
    let github = GitHub::start();
    let proxy = Proxy::start();
    // The double speaks plain HTTP, so TLS inside the tunnel fails; what counts
    // here is that gitops asked the proxy for the tunnel, and to GitHub's host.
    let https = github.uri().replace("http://", "https://");
    let authority = https.trim_start_matches("https://").to_owned();
    let run = status(
        &t,
        &s,
        &https,
        &[("HTTPS_PROXY", &proxy.url), ("GITOPS_TIMEOUT", "20")],
    );
    run.expect(0);
    assert!(
        run.stderr.contains("could not ask GitHub"),
        "a GitHub failure is a warning in status: {}",
        run.stderr
    );
    let requests = proxy.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r, &format!("CONNECT {authority}"));
    }
    assert!(github.received().is_empty());
}

#[test]
fn a_proxy_that_cannot_be_reached_is_named() {
    let t = TestEnv::new();
    let s = sample(&t);
    let github = GitHub::start();
    // A port nobody listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = format!("http://127.0.0.1:{port}");
    let run = status(&t, &s, &github.uri(), &[("HTTP_PROXY", &proxy)]);
    run.expect(0);
    assert!(
        run.stderr.contains(&format!("through the proxy {proxy}")),
        "{}",
        run.stderr
    );
    assert!(github.received().is_empty());
}

#[test]
fn a_proxy_gitops_cannot_speak_to_is_refused_not_bypassed() {
    let t = TestEnv::new();
    let s = sample(&t);
    let github = GitHub::start();
    let run = status(
        &t,
        &s,
        &github.uri(),
        &[("HTTP_PROXY", "socks5h://127.0.0.1:1")],
    );
    run.expect(0);
    assert!(
        run.stderr.contains("socks5h://127.0.0.1:1")
            && run.stderr.contains("is not an http:// proxy"),
        "{}",
        run.stderr
    );
    assert!(github.received().is_empty());
}

#[test]
fn check_over_three_repositories_goes_through_the_proxy() {
    let t = TestEnv::new();
    let github = GitHub::start();
    github.0.mount_protection("dev", &[]);
    let mut repos = Vec::new();
    for name in ["one", "two", "three"] {
        let dir = t.root().join(name);
        t.gitops(t.root(), &["quickstart", dir.to_str().unwrap()])
            .expect(0);
        let work = dir.join("shop-config");
        let config = t.git(&work, &["show", "HEAD:.gitops.yaml"]);
        t.commit_file(
            &work,
            ".gitops.yaml",
            &format!("{config}github:\n  repository: octocat/Hello-World\n"),
            "Name the GitHub repository",
        );
        t.git(&work, &["push", "--quiet", "origin", "dev"]);
        repos.push(work.to_str().unwrap().to_owned());
    }
    let proxy = Proxy::start();
    let mut args = vec!["check", "--json"];
    args.extend(repos.iter().map(String::as_str));
    let run = t.gitops_with(
        t.root(),
        &args,
        &[
            ("GITHUB_API_URL", &github.uri()),
            ("GH_TOKEN", TOKEN),
            ("http_proxy", &proxy.url),
        ],
    );
    run.expect(1);
    let doc = run.json();
    let reports = doc["repos"].as_array().unwrap();
    assert_eq!(reports.len(), 3);
    for r in reports {
        let protection: Vec<&Value> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "protection")
            .collect();
        // stage and prod are not protected; the default branch is right.
        assert_eq!(protection.len(), 2, "{r:#}");
    }
    // Each repository: the repository, then stage's and prod's protection.
    assert_eq!(proxy.requests().len(), 9, "{:?}", proxy.requests());
    assert_eq!(github.received().len(), 9);
}

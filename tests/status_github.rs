//! `gitops status` with a token: each environment's open promotion pull request,
//! one GitHub request per environment, against a local GitHub double.

mod common;

use common::github::Double;
use common::{env, TestEnv};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

const TOKEN: &str = "ghp_statusTOKEN0987654321abcdef";

use common::github_fixture as fixture;

/// Points origin/HEAD's config at octocat/Hello-World.
fn configure(t: &TestEnv, s: &common::Sample) {
    t.name_github_repository(&s.origin, "dev-clone");
}

#[test]
fn shows_each_promotion_pull_request_with_one_request_per_environment() {
    let t = TestEnv::new();
    let s = t.quickstart();
    configure(&t, &s);
    let gh = Double::empty("octocat", "Hello-World");
    gh.mount_open_pull_with_checks("gitops/promote-dev-to-stage", "stage");
    let run = t.gitops_with(
        &s.repo,
        &["status", "--json"],
        &[("GITHUB_API_URL", &gh.uri()), ("GH_TOKEN", TOKEN)],
    );
    run.expect(0);
    let status = run.json();
    assert_eq!(env(&status, "dev")["pull_request"], Value::Null);
    let stage = &env(&status, "stage")["pull_request"];
    assert_eq!(stage["number"], 1347, "{status:#}");
    assert_eq!(stage["checks"], "success");
    assert_eq!(stage["state"], "open");
    assert_eq!(env(&status, "prod")["pull_request"], Value::Null);
    let requests = gh.received();
    assert_eq!(
        requests.len(),
        2,
        "one request per environment with an upstream"
    );
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));

    // The human view has the column.
    let run = t.gitops_with(
        &s.repo,
        &["status"],
        &[("GITHUB_API_URL", &gh.uri()), ("GH_TOKEN", TOKEN)],
    );
    run.expect(0);
    assert!(run.stdout.contains("#1347 success"), "{}", run.stdout);
}

#[test]
fn without_a_token_it_says_what_it_did_not_ask_and_github_failing_is_a_warning() {
    let t = TestEnv::new();
    let s = t.quickstart();
    configure(&t, &s);
    let run = t.gitops(&s.repo, &["status", "--json"]);
    run.expect(0);
    assert!(run.stderr.contains("not asked"), "{}", run.stderr);
    assert_eq!(env(&run.json(), "stage")["pull_request"], Value::Null);

    // A GitHub that answers 401: the local answer still comes, with a warning.
    let gh = Double::empty("octocat", "Hello-World");
    gh.mount(
        Mock::given(method("POST")).respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error-bad-credentials")),
        ),
    );
    let run = t.gitops_with(
        &s.repo,
        &["status", "--json"],
        &[("GITHUB_API_URL", &gh.uri()), ("GH_TOKEN", TOKEN)],
    );
    run.expect(0);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains("GH_TOKEN")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN));
    assert_eq!(run.json()["environments"].as_array().unwrap().len(), 3);
}

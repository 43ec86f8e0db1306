//! The GitHub client against a local HTTP double (wiremock, one server per test)
//! whose bodies are GitHub's documented examples: tests/fixtures/github/README.md
//! names where each comes from. The client's methods block, so they run on the
//! test thread; the mock server runs on its own thread, and a small runtime here
//! only mounts mocks and reads what the server received.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitops::error::{exit, exit_code, hint};
use gitops::forge::github::{
    api_base, graphql_url, AutoMerge, GitHub, MergeMethod, RepoId, RepoSource, RetryPolicy, Token,
    TokenSource,
};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, body_partial_json, method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

/// Distinctive, so that finding it anywhere in an error is unambiguous.
const TOKEN: &str = "ghp_T0KEN4gitopsTESTS9q8w7e6r5t4y3u2i1o0p";
/// The documented examples are about octocat/Hello-World, head `new-topic`
/// into `master`; the tests use the same names so the bodies need no edits.
const PULLS: &str = "/repos/octocat/Hello-World/pulls";
const HEAD: &str = "new-topic";
const BASE: &str = "master";

use common::github::{Create, List, Pulls};
use common::github_fixture as fixture;

fn retry_fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(1),
        max_wait: Duration::from_secs(60),
        timeout: Duration::from_secs(10),
        total: Duration::from_secs(60),
    }
}

fn hello_world() -> RepoId {
    RepoId {
        host: "github.com".to_owned(),
        owner: "octocat".to_owned(),
        name: "Hello-World".to_owned(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The clients here run in this process, whose one HTTP client reads the proxy
/// variables once, when the first client is made: a developer's `HTTP_PROXY`
/// must not send the calls meant for the doubles on 127.0.0.1 elsewhere. Called
/// before any client is made; clears them once.
fn without_proxies() {
    static CLEARED: std::sync::Once = std::sync::Once::new();
    CLEARED.call_once(|| {
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
            std::env::remove_var(var);
            std::env::remove_var(var.to_ascii_lowercase());
        }
    });
}

/// A wiremock server and the runtime that talks to it.
struct Fake(common::Served);

impl std::ops::Deref for Fake {
    type Target = common::Served;
    fn deref(&self) -> &common::Served {
        &self.0
    }
}

impl Fake {
    fn start() -> Fake {
        without_proxies();
        Fake(common::Served::start())
    }

    /// A client as `GITHUB_API_URL=<server>` makes it.
    fn client(&self) -> GitHub {
        self.client_with(self.server.uri(), RepoSource::Origin)
    }

    fn client_with(&self, github_api_url: String, source: RepoSource) -> GitHub {
        let repo = hello_world();
        GitHub::new(
            &api_base(&repo.host, Some(&github_api_url)),
            &graphql_url(&repo.host, Some(&github_api_url)),
            Token::new(TOKEN),
            TokenSource::Env("GH_TOKEN"),
            repo,
            source,
        )
        .unwrap()
        .with_retry(retry_fast())
    }
}

/// Asserts a remote failure (exit 3) with the token nowhere in it, and returns
/// the text a user would see: the chain and the hint.
fn remote_failure(err: &anyhow::Error) -> String {
    assert_eq!(exit_code(err), exit::REMOTE, "{err:#}");
    assert_no_token(err);
    format!("{err:#}\nhint: {}", hint(err).unwrap_or(""))
}

fn assert_no_token(err: &anyhow::Error) {
    let mut seen = vec![
        format!("{err}"),
        format!("{err:#}"),
        format!("{err:?}"),
        format!("{err:#?}"),
        hint(err).unwrap_or("").to_owned(),
    ];
    seen.extend(err.chain().map(|c| format!("{c} {c:?}")));
    for text in seen {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
        assert!(
            !text.contains(&TOKEN[4..20]),
            "part of the token leaked: {text}"
        );
    }
}

// ---------------------------------------------------------------------------
// A stateful double for the upsert flow: GitHub's list, create and update
// endpoints over one list of pull requests.

/// Answers 502 the first time although the inner responder did its work: a
/// create that succeeded on GitHub but whose answer was lost.
struct LoseFirstAnswer<R> {
    inner: R,
    calls: AtomicUsize,
}

impl<R: Respond> Respond for LoseFirstAnswer<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let answer = self.inner.respond(request);
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            ResponseTemplate::new(502)
        } else {
            answer
        }
    }
}

fn mount_pulls(fake: &Fake, pulls: &Pulls) {
    pulls.mount_pulls(|m| fake.mount(m));
}

// ---------------------------------------------------------------------------
// Pull requests

#[test]
fn upsert_creates_then_finds_then_adopts_then_updates() {
    let fake = Fake::start();
    let pulls = Pulls::new("octocat", "Hello-World");
    mount_pulls(&fake, &pulls);
    let gh = fake.client();

    assert_eq!(gh.find_open_pull(HEAD, BASE).unwrap(), None);
    assert_eq!(gh.requests(), 1);

    let created = gh
        .create_pull("Promote dev to stage", "the body", HEAD, BASE, false)
        .unwrap();
    assert_eq!(created.number, 1347);
    assert_eq!(
        created.url,
        "https://github.com/octocat/Hello-World/pull/1347"
    );
    assert_eq!(created.state, "open");
    assert_eq!(created.title, "Promote dev to stage");
    assert_eq!(created.body, "the body");
    assert!(!created.draft);
    assert_eq!(created.id, "MDExOlB1bGxSZXF1ZXN0MQ==");
    assert_eq!(created.head_sha, "6dcb09b5b57875f334f61aebed695e2e4193db5e");
    assert_eq!(created.author, "octocat");
    assert_eq!(gh.requests(), 2);

    // A rerun finds it with one request.
    let found = gh.find_open_pull(HEAD, BASE).unwrap().unwrap();
    assert_eq!(
        (found.number, found.title.as_str()),
        (1347, "Promote dev to stage")
    );
    assert_eq!(gh.requests(), 3);

    // Creating it again meets GitHub's 422 and adopts the open one: no duplicate.
    let again = gh
        .create_pull("Promote dev to stage", "the body", HEAD, BASE, false)
        .unwrap();
    assert_eq!(again.number, 1347);
    assert_eq!(gh.requests(), 5);
    assert_eq!(pulls.open().len(), 1);

    let updated = gh
        .update_pull(1347, "Promote dev to stage", "new body")
        .unwrap();
    assert_eq!(updated.body, "new body");
    assert_eq!(
        gh.find_open_pull(HEAD, BASE).unwrap().unwrap().body,
        "new body"
    );
    assert_eq!(gh.requests(), 7);

    // What GitHub was asked, as GitHub documents it.
    let received = fake.received();
    let find = &received[0];
    let query: HashMap<String, String> = find.url.query_pairs().into_owned().collect();
    assert_eq!(query["head"], "octocat:new-topic");
    assert_eq!(query["base"], "master");
    assert_eq!(query["state"], "open");
    let create: Value = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(
        create,
        json!({"title": "Promote dev to stage", "body": "the body", "head": HEAD, "base": BASE, "draft": false})
    );
    let update: Value = serde_json::from_slice(&received[5].body).unwrap();
    assert_eq!(
        update,
        json!({"title": "Promote dev to stage", "body": "new body"})
    );
    for request in &received {
        assert_eq!(
            request.headers["authorization"],
            format!("Bearer {TOKEN}").as_str()
        );
        assert_eq!(request.headers["accept"], "application/vnd.github+json");
    }
}

#[test]
fn a_create_retried_after_it_succeeded_adopts_the_pull_request() {
    let fake = Fake::start();
    let pulls = Pulls::new("octocat", "Hello-World");
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(List(pulls.clone())),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(LoseFirstAnswer {
                inner: Create(pulls.clone()),
                calls: AtomicUsize::new(0),
            }),
    );
    let gh = fake.client();
    let pull = gh
        .create_pull("Promote dev to stage", "b", HEAD, BASE, true)
        .unwrap();
    assert_eq!(pull.number, 1347);
    assert!(pull.draft);
    // POST (502), POST again (422: it exists), GET to find it.
    assert_eq!(gh.requests(), 3);
    assert_eq!(pulls.open().len(), 1);
}

#[test]
fn an_update_of_a_missing_pull_request_names_it() {
    let fake = Fake::start();
    mount_pulls(&fake, &Pulls::new("octocat", "Hello-World"));
    let err = fake.client().update_pull(1347, "t", "b").unwrap_err();
    let text = remote_failure(&err);
    assert!(
        text.contains("pull request #1347 not found in octocat/Hello-World (from the origin URL)"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Labels, reviewers, statuses, protection, the repository

#[test]
fn labels_are_added_in_one_request() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/repos/octocat/Hello-World/issues/1347/labels"))
            .and(body_json(json!({"labels": ["bug", "enhancement"]})))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("labels-added")))
            .expect(1),
    );
    let gh = fake.client();
    gh.add_labels(1347, &["bug".into(), "enhancement".into()])
        .unwrap();
    gh.add_labels(1347, &[]).unwrap();
    assert_eq!(gh.requests(), 1);
}

#[test]
fn reviewers_are_users_and_org_slash_team_is_a_team() {
    let fake = Fake::start();
    let reviewers = "/repos/octocat/Hello-World/pulls/1347/requested_reviewers";
    fake.mount(
        Mock::given(method("POST"))
            .and(path(reviewers))
            .and(body_json(
                json!({"reviewers": ["alice"], "team_reviewers": ["platform"]}),
            ))
            .respond_with(ResponseTemplate::new(201).set_body_json(fixture("review-requested")))
            .expect(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(reviewers))
            .and(body_json(
                json!({"reviewers": ["bob"], "team_reviewers": []}),
            ))
            .respond_with(ResponseTemplate::new(201).set_body_json(fixture("review-requested")))
            .expect(1),
    );
    let gh = fake.client();
    gh.request_reviewers(1347, &["alice".into(), "octocat/platform".into()])
        .unwrap();
    gh.request_reviewers(1347, &["bob".into()]).unwrap();
    gh.request_reviewers(1347, &[]).unwrap();
    assert_eq!(gh.requests(), 2);
}

#[test]
fn combined_status_of_a_commit_and_of_a_branch_with_a_slash() {
    let fake = Fake::start();
    let sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!(
                "/repos/octocat/Hello-World/commits/{sha}/status"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("combined-status"))),
    );
    let mut pending = fixture("combined-status");
    pending["state"] = json!("pending");
    fake.mount(
        Mock::given(method("GET"))
            .and(path(
                "/repos/octocat/Hello-World/commits/release%2F1.0/status",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(pending)),
    );
    let gh = fake.client();
    assert_eq!(gh.combined_status(sha).unwrap(), "success");
    assert_eq!(gh.combined_status("release/1.0").unwrap(), "pending");
}

#[test]
fn branch_protection_or_none() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path(
                "/repos/octocat/Hello-World/branches/master/protection",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("branch-protection"))),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octocat/Hello-World/branches/dev/protection"))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(fixture("error-branch-not-protected")),
            ),
    );
    let gh = fake.client();
    let protection = gh.branch_protection("master").unwrap().unwrap();
    assert_eq!(
        protection["required_status_checks"]["contexts"],
        json!(["continuous-integration/travis-ci"])
    );
    assert_eq!(gh.branch_protection("dev").unwrap(), None);
    assert_eq!(gh.requests(), 2);
}

#[test]
fn the_repository() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octocat/Hello-World"))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("repository"))),
    );
    let repo = fake.client().repository().unwrap();
    assert_eq!(repo.full_name, "octocat/Hello-World");
    assert_eq!(repo.default_branch, "master");
    assert_eq!(repo.allow_auto_merge, Some(false));
}

// ---------------------------------------------------------------------------
// Auto-merge (GraphQL)

#[test]
fn auto_merge_enabled_through_graphql() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .and(body_partial_json(
                json!({"variables": {"id": "MDExOlB1bGxSZXF1ZXN0MQ==", "method": "SQUASH"}}),
            ))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture("graphql-auto-merge-enabled")),
            )
            .expect(1),
    );
    let gh = fake.client();
    assert_eq!(
        gh.enable_auto_merge("MDExOlB1bGxSZXF1ZXN0MQ==", MergeMethod::Squash)
            .unwrap(),
        AutoMerge::Enabled
    );
    let received = fake.received();
    let sent: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(sent["query"]
        .as_str()
        .unwrap()
        .contains("enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method})"));
    assert_eq!(
        received[0].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
}

#[test]
fn auto_merge_not_allowed_is_an_answer() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture("graphql-auto-merge-not-allowed")),
            ),
    );
    let answer = fake
        .client()
        .enable_auto_merge("MDExOlB1bGxSZXF1ZXN0MQ==", MergeMethod::Merge)
        .unwrap();
    assert_eq!(
        answer,
        AutoMerge::NotAllowed("Auto merge is not allowed for this repository".to_owned())
    );
}

/// GitHub Enterprise Server: REST under /api/v3, GraphQL at /api/graphql (where
/// octocrab's own `graphql()` would not post).
#[test]
fn enterprise_layout_routes_rest_and_graphql() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/api/v3/repos/octocat/Hello-World/pulls"))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pulls-list"))),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/api/graphql"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture("graphql-auto-merge-enabled")),
            ),
    );
    let gh = fake.client_with(format!("{}/api/v3", fake.server.uri()), RepoSource::Origin);
    let pull = gh.find_open_pull(HEAD, BASE).unwrap().unwrap();
    assert_eq!(pull.number, 1347);
    assert_eq!(
        gh.enable_auto_merge(&pull.id, MergeMethod::Rebase).unwrap(),
        AutoMerge::Enabled
    );
    assert_eq!(gh.requests(), 2);
}

// ---------------------------------------------------------------------------
// Retries

#[test]
fn server_errors_are_retried_with_backoff() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(2),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pulls-list"))),
    );
    let gh = fake.client();
    assert_eq!(gh.find_open_pull(HEAD, BASE).unwrap().unwrap().number, 1347);
    assert_eq!(gh.requests(), 3);
    assert_eq!(fake.received().len(), 3);
}

/// A GitHub that accepts the connection and never answers: the call, retries
/// included, gives up within the network time limit (`GITOPS_TIMEOUT`), not
/// after three times the per-request timeout.
#[test]
fn a_github_that_never_answers_is_given_up_on_within_the_limit() {
    let url = common::silent_server();
    let fake = Fake::start();
    let gh = fake
        .client_with(url, RepoSource::Origin)
        .with_retry(RetryPolicy {
            timeout: Duration::from_secs(30),
            total: Duration::from_secs(2),
            ..retry_fast()
        });
    let err = gh.find_open_pull(HEAD, BASE).unwrap_err();
    let text = remote_failure(&err);
    assert!(text.contains("no answer within 2 s"), "{text}");
    assert_eq!(gh.requests(), 1, "no retry after the time was up: {text}");
}

#[test]
fn a_secondary_rate_limit_is_waited_out() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header("retry-after", "0")
                    .set_body_json(fixture("error-secondary-rate-limit")),
            )
            .up_to_n_times(1),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pulls-list"))),
    );
    let gh = fake.client();
    assert!(gh.find_open_pull(HEAD, BASE).unwrap().is_some());
    assert_eq!(gh.requests(), 2);
}

#[test]
fn a_rate_limit_that_has_just_reset_is_retried() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", (now() - 1).to_string().as_str())
                    .set_body_json(fixture("error-rate-limit")),
            )
            .up_to_n_times(1),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pulls-list"))),
    );
    let gh = fake.client();
    assert!(gh.find_open_pull(HEAD, BASE).unwrap().is_some());
    assert_eq!(gh.requests(), 2);
}

// ---------------------------------------------------------------------------
// Errors: exit 3, one line, a hint, never the token

#[test]
fn bad_token_names_its_variable() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error-bad-credentials")),
        ),
    );
    let gh = fake.client();
    let err = gh.find_open_pull(HEAD, BASE).unwrap_err();
    let text = remote_failure(&err);
    assert!(
        text.starts_with("GitHub rejected the token from GH_TOKEN (401 Bad credentials)"),
        "{text}"
    );
    assert!(text.contains("set GH_TOKEN to a valid token"), "{text}");
    assert!(
        text.contains("gh auth login --hostname github.com"),
        "{text}"
    );
    assert_eq!(gh.requests(), 1, "a 401 is not retried");
}

#[test]
fn an_exhausted_rate_limit_says_when_it_resets() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", (now() + 3600).to_string().as_str())
                .set_body_json(fixture("error-rate-limit")),
        ),
    );
    let gh = fake.client();
    let err = gh.find_open_pull(HEAD, BASE).unwrap_err();
    let text = remote_failure(&err);
    assert!(
        text.contains("GitHub's API rate limit for the token from GH_TOKEN is used up; it resets in 60 minutes"),
        "{text}"
    );
    assert_eq!(gh.requests(), 1, "an hour is not waited for");
}

/// A secondary rate limit that asks for 10 minutes is not waited for: it
/// fails at once and says when to try again.
fn a_long_wait_is_not_waited_for(retry_after: &str) {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", retry_after)
                .set_body_json(fixture("error-secondary-rate-limit")),
        ),
    );
    let gh = fake.client();
    let err = gh.find_open_pull(HEAD, BASE).unwrap_err();
    let text = remote_failure(&err);
    assert!(text.contains("secondary rate limit"), "{text}");
    assert!(text.contains("try again in 10 minutes"), "{text}");
    assert_eq!(gh.requests(), 1);
}

#[test]
fn a_long_secondary_rate_limit_is_not_waited_for() {
    a_long_wait_is_not_waited_for("600");
}

/// `Retry-After` may also be an HTTP-date (RFC 9110): ten minutes from now
/// is as long a wait as 600 seconds, and is not waited for either.
#[test]
fn a_retry_after_date_counts_as_its_seconds() {
    let in_ten_minutes = SystemTime::now() + Duration::from_secs(600);
    a_long_wait_is_not_waited_for(&httpdate::fmt_http_date(in_ten_minutes));
}

#[test]
fn an_unknown_repository_names_it_and_where_it_came_from() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(404).set_body_json(fixture("error-not-found"))),
    );
    let text = remote_failure(&fake.client().find_open_pull(HEAD, BASE).unwrap_err());
    assert!(
        text.starts_with(
            "repository octocat/Hello-World not found on GitHub (from the origin URL)"
        ),
        "{text}"
    );
    assert!(text.contains("git remote get-url origin"), "{text}");

    let gh = fake.client_with(fake.server.uri(), RepoSource::Config);
    let text = remote_failure(&gh.repository().unwrap_err());
    assert!(
        text.starts_with(
            "repository octocat/Hello-World not found on GitHub (from github.repository in .gitops.yaml)"
        ),
        "{text}"
    );
    assert!(
        text.contains("check github.repository in .gitops.yaml"),
        "{text}"
    );
}

#[test]
fn a_validation_failure_shows_githubs_message() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(ResponseTemplate::new(422).set_body_json(fixture("error-invalid-base"))),
    );
    let gh = fake.client();
    let err = gh.create_pull("t", "b", HEAD, "nope", false).unwrap_err();
    let text = remote_failure(&err);
    assert!(
        text.starts_with("GitHub refused to open the pull request from new-topic into nope: Validation Failed: PullRequest base invalid"),
        "{text}"
    );
    assert_eq!(gh.requests(), 1);
}

#[test]
fn a_forbidden_call_is_not_a_rate_limit() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST")).respond_with(
            ResponseTemplate::new(403).set_body_json(json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue",
                "status": "403"
            })),
        ),
    );
    let gh = fake.client();
    let text = remote_failure(&gh.add_labels(1347, &["bug".into()]).unwrap_err());
    assert!(
        text.starts_with("GitHub refused to label pull request #1347: Resource not accessible by integration (403)"),
        "{text}"
    );
    assert_eq!(gh.requests(), 1);
}

#[test]
fn server_errors_fail_after_three_attempts() {
    let fake = Fake::start();
    fake.mount(Mock::given(method("GET")).respond_with(ResponseTemplate::new(502)));
    let gh = fake.client();
    let text = remote_failure(&gh.combined_status("master").unwrap_err());
    assert!(
        text.starts_with(
            "GitHub failed to read the status of master: 502 Bad Gateway after 3 attempts"
        ),
        "{text}"
    );
    assert_eq!(gh.requests(), 3);
}

#[test]
fn connection_refused_says_where() {
    // A port nobody listens on any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    without_proxies();
    let gh = GitHub::new(
        &base,
        &format!("{base}/graphql"),
        Token::new(TOKEN),
        TokenSource::GhCli,
        hello_world(),
        RepoSource::Origin,
    )
    .unwrap()
    .with_retry(retry_fast());
    let text = remote_failure(&gh.find_open_pull(HEAD, BASE).unwrap_err());
    assert!(
        text.starts_with(&format!(
            "could not reach GitHub at {base} after 3 attempts:"
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert_eq!(gh.requests(), 3);
    let text = remote_failure(&gh.enable_auto_merge("x", MergeMethod::Merge).unwrap_err());
    assert!(text.starts_with("could not reach GitHub"), "{text}");
}

// ---------------------------------------------------------------------------
// The token never shows

#[test]
fn the_token_never_appears() {
    let fake = Fake::start();
    // A server that echoes the token back in its messages.
    let echo = json!({
        "message": format!("Validation Failed for {TOKEN}"),
        "errors": [{"resource": "Label", "code": "custom", "message": format!("bad {TOKEN}")}],
        "documentation_url": "https://docs.github.com/rest",
        "status": "422"
    });
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/repos/octocat/Hello-World/issues/1347/labels"))
            .respond_with(ResponseTemplate::new(422).set_body_json(echo)),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": {"enablePullRequestAutoMerge": null},
                "errors": [{"type": "FORBIDDEN", "message": format!("token {TOKEN} may not")}]
            }))),
    );
    fake.mount(
        Mock::given(method("GET")).respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error-bad-credentials")),
        ),
    );
    let gh = fake.client();
    assert!(!format!("{gh:?}").contains(TOKEN));
    assert!(!format!("{:?}", Token::new(TOKEN)).contains(TOKEN));

    let err = gh.add_labels(1347, &["bug".into()]).unwrap_err();
    let text = remote_failure(&err);
    assert!(
        text.contains("Validation Failed for ***: bad ***"),
        "{text}"
    );
    remote_failure(&gh.enable_auto_merge("x", MergeMethod::Merge).unwrap_err());
    remote_failure(&gh.find_open_pull(HEAD, BASE).unwrap_err());
    remote_failure(&gh.branch_protection("master").unwrap_err());

    // A token that cannot be sent is refused before any request, without a panic.
    let err = GitHub::new(
        &fake.server.uri(),
        &format!("{}/graphql", fake.server.uri()),
        Token::new(format!("{TOKEN}\n")),
        TokenSource::Env("GITHUB_TOKEN"),
        hello_world(),
        RepoSource::Origin,
    )
    .unwrap_err();
    assert_eq!(exit_code(&err), exit::USAGE);
    assert_no_token(&err);
    assert!(
        format!("{err}").contains("the token from GITHUB_TOKEN"),
        "{err}"
    );
}

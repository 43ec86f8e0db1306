//! `gitops promote ENV` end to end against a local GitHub double: the real binary,
//! the quickstart sample (its origin a local bare repository) and a wiremock
//! server standing in for the GitHub API (`GITHUB_API_URL`). The repository comes
//! from `github.repository` in the `.gitops.yaml` the tests push to dev; the
//! double answers with GitHub's documented bodies (tests/fixtures/github/README.md).

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::github::Stored;
use common::{Run, Sample, TestEnv};
use gitops::cli::commands::promote::PromoteOut;
use gitops::cli::commands::{Action, PullOut};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

/// Distinctive, so that finding it in any output is unambiguous.
const TOKEN: &str = "ghp_e2eTOKEN123";
const BRANCH: &str = "gitops/promote-dev-to-stage";
const PULLS: &str = "/repos/shop/config/pulls";
const MARKER: &str = "<!-- gitops:promotion dev->stage -->";
use common::github::FIRST;

use common::github_fixture as fixture;

// ---------------------------------------------------------------------------
// Running the binary

/// `GITHUB_API_URL`, `GH_TOKEN` and fast retries for the double at `api`.
fn github_env(api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_API_URL", api.to_owned()),
        ("GH_TOKEN", TOKEN.to_owned()),
        ("GITOPS_RETRY_BASE_MS", "1".to_owned()),
    ]
}

/// Runs `gitops ARGS` in `dir`, sealed as `TestEnv::gitops` does, with `vars` added.
fn gitops_with(t: &TestEnv, dir: &Path, vars: &[(&'static str, String)], args: &[&str]) -> Run {
    let mut cmd = t.command(env!("CARGO_BIN_EXE_gitops"), dir);
    cmd.args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running gitops");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_no_token(&run);
    run
}

/// Runs `gitops ARGS` in `dir` against the double.
fn gitops_gh(t: &TestEnv, dir: &Path, fake: &Fake, args: &[&str]) -> Run {
    gitops_with(t, dir, &github_env(&fake.server.uri()), args)
}

fn assert_no_token(run: &Run) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(TOKEN) && !text.contains(&TOKEN[4..]),
            "the token leaked on {name}:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------
// The sample, configured for GitHub

const GITHUB_BLOCK: &str =
    "github:\n  repository: shop/config\n  labels: [promotion]\n  reviewers: [alice, shop/platform]\n";

/// The quickstart sample with a `.gitops.yaml` on dev that names the GitHub
/// repository, its labels and reviewers; `edit` changes the sample's file first.
/// Returns the sample and the second clone (on dev) that pushed it.
fn sample_on_github(t: &TestEnv, edit: impl Fn(&str) -> String) -> (Sample, std::path::PathBuf) {
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let config = t.git(&dev, &["show", "origin/dev:.gitops.yaml"]);
    assert!(!config.contains("github:"), "{config}");
    let config = format!("{}{GITHUB_BLOCK}", edit(&config));
    t.commit_file(
        &dev,
        ".gitops.yaml",
        &config,
        "gitops: open promotions on shop/config",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    (s, dev)
}

/// Pushes one more change to dev from `dev` (the second clone).
fn push_to_dev(t: &TestEnv, dev: &Path) -> String {
    let file = "apps/checkout/deployment.yaml";
    let text = std::fs::read_to_string(dev.join(file)).unwrap();
    let changed = text.replace("cpu: 100m", "cpu: 200m");
    assert_ne!(changed, text, "the sample's checkout asks for 100m");
    t.commit_file(dev, file, &changed, "checkout: more cpu");
    t.git(dev, &["push", "--quiet", "origin", "dev"]);
    t.rev(dev, "HEAD")
}

fn has_branch(t: &TestEnv, origin: &Path, branch: &str) -> bool {
    t.try_git(
        origin,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
    )
    .code
        == 0
}

// ---------------------------------------------------------------------------
// The double: GitHub's pulls, labels, reviewers and GraphQL endpoints over one
// list of pull requests, kept across runs of the binary.

/// The shared GitHub double (`tests/common/github.rs`) for shop/config.
struct Fake(common::github::Double);

impl std::ops::Deref for Fake {
    type Target = common::github::Double;
    fn deref(&self) -> &common::github::Double {
        &self.0
    }
}

impl Fake {
    /// A server with nothing mounted: every request gets wiremock's 404.
    fn bare() -> Fake {
        Fake(common::github::Double::empty("shop", "config"))
    }

    /// A working GitHub: pulls (list, create, update), labels, reviewers, and
    /// GraphQL answering `graphql` (a fixture's name).
    fn start(graphql: &str) -> Fake {
        let fake = Fake::bare();
        fake.mount_github(graphql);
        fake
    }

    fn mount_github(&self, graphql: &str) {
        self.pulls.mount_all(graphql, |m| self.mount(m));
    }

    /// The pull requests open on the double.
    fn open(&self) -> Vec<Stored> {
        self.pulls.open()
    }
}

/// `METHOD /path` of each request, for messages and exact comparisons.
fn calls(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body)
        .unwrap_or_else(|e| panic!("{} {}: not JSON: {e}", request.method, request.url))
}

fn is_create(r: &Request) -> bool {
    r.method.as_str() == "POST" && r.url.path() == PULLS
}

/// Asserts `request` is the one lookup of the open promotion pull request.
fn assert_find(request: &Request) {
    assert_eq!(request.method.as_str(), "GET", "{}", request.url);
    assert_eq!(request.url.path(), PULLS);
    let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
    let want: HashMap<String, String> = [
        ("head", format!("shop:{BRANCH}")),
        ("base", "stage".to_owned()),
        ("state", "open".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(query, want, "{}", request.url);
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn the_first_promotion_opens_the_pull_request_with_labels_and_reviewers() {
    let t = TestEnv::new();
    let (s, _) = sample_on_github(&t, str::to_owned);
    let fake = Fake::start("graphql-auto-merge-enabled");

    let run = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Opened, "{out:#?}\n{}", run.stderr);
    assert_eq!(out.branch.as_deref(), Some(BRANCH));
    assert_eq!(
        out.pull_request,
        Some(PullOut {
            number: FIRST,
            url: format!("https://github.com/shop/config/pull/{FIRST}"),
            forge: gitops::forge::Kind::GitHub,
        })
    );
    assert_eq!(out.compare_url, None);
    assert!(
        run.stderr
            .contains(&format!("https://github.com/shop/config/pull/{FIRST}")),
        "{}",
        run.stderr
    );
    assert!(has_branch(&t, &s.origin, BRANCH));

    let received = fake.received();
    assert!(received.len() <= 5, "{:#?}", calls(&received));
    assert_eq!(
        calls(&received),
        [
            format!("GET {PULLS}"),
            format!("POST {PULLS}"),
            format!("POST {PULLS}/{FIRST}/requested_reviewers"),
            format!("POST /repos/shop/config/issues/{FIRST}/labels"),
        ],
        "stage is a pull-request environment: no GraphQL; labels last, as the mark of a finished setup"
    );
    assert_find(&received[0]);
    let create = body(&received[1]);
    assert_eq!(create["title"], "Promote dev to stage");
    assert_eq!(create["head"], BRANCH);
    assert_eq!(create["base"], "stage");
    assert_eq!(create["draft"], false);
    let sent = create["body"].as_str().unwrap();
    assert!(sent.contains(MARKER), "{sent}");
    assert_eq!(
        out.body.as_deref(),
        Some(sent),
        "the body printed is the one sent"
    );
    assert_eq!(
        body(&received[2]),
        json!({"reviewers": ["alice"], "team_reviewers": ["platform"]})
    );
    assert_eq!(body(&received[3]), json!({"labels": ["promotion"]}));
    for request in &received {
        assert_eq!(
            request.headers["authorization"],
            format!("Bearer {TOKEN}").as_str()
        );
    }
    assert_eq!(fake.open().len(), 1);
}

#[test]
fn steady_state_costs_one_request_and_a_new_commit_one_more() {
    let t = TestEnv::new();
    let (s, dev) = sample_on_github(&t, str::to_owned);
    let fake = Fake::start("graphql-auto-merge-enabled");

    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Opened, "{out:#?}");
    let first = fake.received().len();
    let tip = t.rev(&s.origin, BRANCH);

    // Nothing new: the double lists the pull request exactly as gitops opened it.
    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Unchanged, "{out:#?}");
    assert_eq!(out.pull_request.map(|p| p.number), Some(FIRST));
    assert_eq!(t.rev(&s.origin, BRANCH), tip);
    let received = fake.received();
    let steady = &received[first..];
    eprintln!(
        "requests: first promotion {first}, rerun {}: {:?}",
        steady.len(),
        calls(steady)
    );
    assert!(steady.len() <= 2, "{:?}", calls(steady));
    assert_eq!(steady.len(), 1, "only the lookup: {:?}", calls(steady));
    assert_find(&steady[0]);

    // One more commit on dev: the branch moves and the pull request's body follows.
    let before = received.len();
    let new = push_to_dev(&t, &dev);
    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Updated, "{out:#?}");
    assert_eq!(out.pull_request.map(|p| p.number), Some(FIRST));
    assert_ne!(t.rev(&s.origin, BRANCH), tip);
    let received = fake.received();
    let refresh = &received[before..];
    eprintln!(
        "requests: after a new commit {}: {:?}",
        refresh.len(),
        calls(refresh)
    );
    assert!(refresh.len() <= 4, "{:?}", calls(refresh));
    assert_eq!(
        calls(refresh),
        [format!("GET {PULLS}"), format!("PATCH {PULLS}/{FIRST}")]
    );
    assert_find(&refresh[0]);
    let patch = body(&refresh[1]);
    assert_eq!(patch["title"], "Promote dev to stage");
    let sent = patch["body"].as_str().unwrap();
    assert!(sent.contains(MARKER), "{sent}");
    assert!(
        sent.contains("checkout: more cpu") && sent.contains(&new[..7]),
        "the new commit is listed: {sent}"
    );
    assert_eq!(out.body.as_deref(), Some(sent));
    let open = fake.open();
    assert_eq!(open.len(), 1, "never a duplicate");
    assert_eq!(open[0].body, sent);

    // And steady again.
    let before = received.len();
    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Unchanged, "{out:#?}");
    assert_eq!(fake.received().len() - before, 1);
}

#[test]
fn auto_merge_environments_ask_for_auto_merge_and_a_refusal_is_a_warning() {
    let t = TestEnv::new();
    // stage merges by itself in this repository.
    let (s, _) = sample_on_github(&t, |config| {
        let edited = config.replacen("promotion: pull-request", "promotion: auto-merge", 1);
        assert!(
            edited.contains(
                "name: stage\n  branch: stage\n  tags: semver-rc\n  promotion: auto-merge"
            ),
            "{edited}"
        );
        edited
    });
    let fake = Fake::start("graphql-auto-merge-not-allowed");

    let run = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"]);
    run.expect(0);
    let out = run.json();
    assert_eq!(out["action"], "opened", "{out:#}");
    assert_eq!(out["pull_request"]["number"], FIRST);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].contains("auto-merge")
            && warnings[0].contains("Auto merge is not allowed for this repository"),
        "{}",
        warnings[0]
    );
    assert!(!run.stderr.contains("error:"), "{}", run.stderr);

    let received = fake.received();
    assert_eq!(
        calls(&received),
        [
            format!("GET {PULLS}"),
            format!("POST {PULLS}"),
            format!("POST {PULLS}/{FIRST}/requested_reviewers"),
            "POST /graphql".to_owned(),
            format!("POST /repos/shop/config/issues/{FIRST}/labels"),
        ]
    );
    let graphql = body(&received[3]);
    assert!(
        graphql["query"]
            .as_str()
            .unwrap()
            .contains("enablePullRequestAutoMerge"),
        "{graphql:#}"
    );
    // The node id of the pull request the double created (the documented example's).
    assert_eq!(
        graphql["variables"],
        json!({"id": fixture("pull-request")["node_id"], "method": "MERGE"})
    );
    assert_eq!(
        received[3].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
}

#[test]
fn auto_merge_enabled_is_said_on_stderr() {
    let t = TestEnv::new();
    let (s, _) = sample_on_github(&t, |config| {
        config.replacen("promotion: pull-request", "promotion: auto-merge", 1)
    });
    let fake = Fake::start("graphql-auto-merge-enabled");
    let run = gitops_gh(&t, &s.repo, &fake, &["promote", "stage"]);
    run.expect(0);
    assert!(run.stderr.contains("Auto-merge enabled"), "{}", run.stderr);
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    let received = fake.received();
    assert_eq!(received.len(), 5, "{:?}", calls(&received));
    assert_eq!(received[3].url.path(), "/graphql");
}

#[test]
fn bad_credentials_exit_3_naming_the_variable_and_a_rerun_converges_on_one_pull_request() {
    let t = TestEnv::new();
    let (s, _) = sample_on_github(&t, str::to_owned);
    let fake = Fake::bare();
    // The first lookup meets a revoked token; GitHub works after that.
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .respond_with(
                ResponseTemplate::new(401).set_body_json(fixture("error-bad-credentials")),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    fake.mount_github("graphql-auto-merge-enabled");

    let run = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"]);
    run.expect(3);
    assert_eq!(run.stdout, "", "no JSON for a failed promotion");
    let error = run.error_line();
    assert!(
        error.contains("GitHub rejected the token from GH_TOKEN") && error.contains("401"),
        "{error}"
    );
    assert!(run.hint().contains("GH_TOKEN"), "{}", run.stderr);
    let received = fake.received();
    assert_eq!(
        calls(&received),
        [format!("GET {PULLS}")],
        "a 401 is not retried"
    );
    assert!(fake.open().is_empty());
    // The branch is on origin already: that is fine, the rerun picks it up.
    let tip = t.rev(&s.origin, BRANCH);

    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .json();
    assert_eq!(out["action"], "opened", "{out:#}");
    assert_eq!(out["pull_request"]["number"], FIRST);
    assert_eq!(
        t.rev(&s.origin, BRANCH),
        tip,
        "the same branch, not pushed again"
    );

    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .json();
    assert_eq!(out["action"], "unchanged", "{out:#}");
    assert_eq!(out["pull_request"]["number"], FIRST);

    let received = fake.received();
    assert_eq!(
        received.iter().filter(|r| is_create(r)).count(),
        1,
        "{:?}",
        calls(&received)
    );
    assert_eq!(fake.open().len(), 1);
}

/// After a failure between opening the pull request and finishing it (labels,
/// reviewers, auto-merge), a rerun finds the open pull request and refreshes only
/// its title and body: the labels, the reviewers and auto-merge are never made up.
#[test]

fn a_rerun_after_a_failed_label_request_still_labels_the_pull_request() {
    let t = TestEnv::new();
    let (s, _) = sample_on_github(&t, str::to_owned);
    let fake = Fake::bare();
    // GitHub fails the labels three times (the tries of one run), then works.
    fake.mount(
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/shop/config/issues/[0-9]+/labels$"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(3)
            .with_priority(1),
    );
    fake.mount_github("graphql-auto-merge-enabled");

    gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"]).expect(3);
    assert_eq!(fake.open().len(), 1, "the pull request was opened");
    let first = fake.received().len();

    let out = gitops_gh(&t, &s.repo, &fake, &["promote", "stage", "--json"])
        .expect(0)
        .json();
    assert_eq!(out["pull_request"]["number"], FIRST);
    assert_eq!(fake.open().len(), 1);
    let received = fake.received();
    let rerun = &received[first..];
    assert!(
        rerun.iter().any(|r| r.method.as_str() == "POST"
            && r.url.path() == format!("/repos/shop/config/issues/{FIRST}/labels")
            && body(r) == json!({"labels": ["promotion"]})),
        "the rerun labels the pull request: {:?}",
        calls(rerun)
    );
    assert!(
        rerun.iter().any(|r| r.method.as_str() == "POST"
            && r.url.path() == format!("{PULLS}/{FIRST}/requested_reviewers")),
        "the rerun asks for the reviews the failed run never asked for: {:?}",
        calls(rerun)
    );
}

#[test]
fn a_push_refused_by_branch_protection_exits_3_and_opens_nothing() {
    let t = TestEnv::new();
    let (s, _) = sample_on_github(&t, str::to_owned);
    // GitHub's answer to a push to a protected branch. git prefixes what a hook
    // prints with `remote: `, so the client sees GitHub's exact line.
    let hook = s.origin.join("hooks/pre-receive");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        "#!/bin/sh\n\
         while read old new ref; do\n\
         \x20 case \"$ref\" in\n\
         \x20   refs/heads/gitops/*)\n\
         \x20     echo \"error: GH006: Protected branch update failed for $ref.\" >&2\n\
         \x20     exit 1;;\n\
         \x20 esac\n\
         done\n\
         exit 0\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let origin_before = t.refs(&s.origin);
    let fake = Fake::start("graphql-auto-merge-enabled");

    let run = gitops_gh(&t, &s.repo, &fake, &["promote", "stage"]);
    run.expect(3);
    let error = run.error_line();
    assert!(
        error.contains(&format!("could not push `{BRANCH}`")) && error.contains("protected"),
        "{error}"
    );
    assert!(
        !has_branch(&t, &s.origin, BRANCH),
        "origin has no promotion branch"
    );
    assert_eq!(t.refs(&s.origin), origin_before);
    assert!(
        fake.received().is_empty(),
        "no pull request for a branch that is not there: {:?}",
        calls(&fake.received())
    );
}

#[test]
fn without_a_token_it_pushes_and_says_where_to_open_the_pull_request() {
    let t = TestEnv::new();
    let (s, _) = sample_on_github(&t, str::to_owned);
    let fake = Fake::start("graphql-auto-merge-enabled");
    // GITHUB_API_URL points at the double, but there is no token to use it with.
    let vars = [
        ("GITHUB_API_URL", fake.server.uri()),
        ("GITOPS_RETRY_BASE_MS", "1".to_owned()),
    ];

    let run = gitops_with(&t, &s.repo, &vars, &["promote", "stage", "--json"]);
    run.expect(0);
    let out = run.json();
    assert_eq!(out["action"], "pushed", "{out:#}");
    assert_eq!(out["pull_request"], Value::Null);
    // src/forge/github.rs percent-encodes the head's `/` (GitHub decodes it).
    let url =
        "https://github.com/shop/config/compare/stage...gitops%2Fpromote-dev-to-stage?expand=1";
    assert_eq!(out["compare_url"], url);
    assert!(run.stderr.contains(url), "{}", run.stderr);
    assert!(run.stderr.contains("GH_TOKEN"), "{}", run.stderr);
    assert!(has_branch(&t, &s.origin, BRANCH));
    assert!(fake.received().is_empty(), "{:?}", calls(&fake.received()));
}

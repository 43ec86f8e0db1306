//! GitLab end to end: the real binary, the quickstart sample (its origin a
//! local bare repository) and a stateful GitLab double (`tests/common/gitlab.rs`,
//! bodies from GitLab's API docs: tests/fixtures/gitlab/README.md) reached
//! through `CI_API_V4_URL`. The project is `shop/team/config` — a subgroup — on
//! the self-managed host `git.example.com`, named by `forge:`, `host:` and
//! `gitlab.repository` in the `.gitops.yaml` pushed to dev, unless a test says
//! otherwise.

mod common;

use std::path::{Path, PathBuf};

use common::gitlab::{Double, Merge};
use common::{env, Run, Sample, TestEnv};
use gitops::cli::commands::promote::PromoteOut;
use gitops::cli::commands::{Action, PullOut};
use gitops::forge::Kind;
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

/// Distinctive, so that finding it in any output is unambiguous.
const TOKEN: &str = "glpat-e2eGITLABtoken77";
const HOST: &str = "git.example.com";
const PROJECT: &str = "shop/team/config";
const BASE: &str = "/api/v4/projects/shop%2Fteam%2Fconfig";
const BRANCH: &str = "gitops/promote-dev-to-stage";

const GITLAB_BLOCK: &str = "forge: gitlab\nhost: git.example.com\ngitlab:\n  repository: shop/team/config\n  labels: [promotion]\n  reviewers: [john_smith, shop/platform, nobody]\n";

/// The quickstart sample with `extra` appended to the `.gitops.yaml` on dev,
/// pushed from a second clone (returned).
fn sample(t: &TestEnv, extra: &str) -> (Sample, PathBuf) {
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let config = t.git(&dev, &["show", "origin/dev:.gitops.yaml"]);
    t.commit_file(
        &dev,
        ".gitops.yaml",
        &format!("{config}{extra}"),
        "gitops: promote through GitLab",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    (s, dev)
}

fn double(default_branch: &str, protected: &[&str], merge: Merge) -> Double {
    Double::start(HOST, PROJECT, default_branch, protected, merge)
}

/// Runs `gitops ARGS` in `dir` against `gl` with `vars` (the token unless
/// overridden) and checks the token never shows.
fn gitops(t: &TestEnv, dir: &Path, gl: &Double, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let api = gl.api();
    let mut all: Vec<(&str, &str)> = vec![("CI_API_V4_URL", &api), ("GITLAB_TOKEN", TOKEN)];
    // Later values win: `("GITLAB_TOKEN", "")` takes the token away.
    all.extend_from_slice(vars);
    let run = t.gitops_with(dir, args, &all);
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(TOKEN) && !text.contains(&TOKEN[6..]),
            "token leaked:\n{text}"
        );
    }
    run
}

fn push_to_dev(t: &TestEnv, dev: &Path) {
    let file = "apps/checkout/deployment.yaml";
    let text = std::fs::read_to_string(dev.join(file)).unwrap();
    let changed = text.replace("cpu: 100m", "cpu: 200m");
    assert_ne!(changed, text);
    t.commit_file(dev, file, &changed, "checkout: more cpu");
    t.git(dev, &["push", "--quiet", "origin", "dev"]);
}

#[test]
fn promote_opens_one_merge_request_in_a_subgroup_on_a_self_managed_host_and_reruns_converge() {
    let t = TestEnv::new();
    let (s, dev) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &["stage"], Merge::Accept);

    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage", "--json"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Opened, "{}", run.stderr);
    let url = format!("https://{HOST}/{PROJECT}/-/merge_requests/1");
    assert_eq!(
        out.pull_request,
        Some(PullOut {
            number: 1,
            url: url.clone(),
            forge: Kind::GitLab
        })
    );
    assert!(
        run.stderr.contains(&format!("Merge request !1: {url}")),
        "{}",
        run.stderr
    );
    // One lookup, the create, the two reviewers looked up, the reviewers kept
    // so far read, the reviewers set, the label added — in the subgroup's
    // encoded path. A pull-request environment: no auto-merge.
    let users = "GET /api/v4/users".to_owned();
    assert_eq!(
        gl.calls(),
        [
            format!("GET {BASE}/merge_requests"),
            format!("POST {BASE}/merge_requests"),
            users.clone(),
            users,
            format!("GET {BASE}/merge_requests/1"),
            format!("PUT {BASE}/merge_requests/1"),
            format!("PUT {BASE}/merge_requests/1"),
        ]
    );
    let requests = gl.received();
    let find: std::collections::HashMap<String, String> =
        requests[0].url.query_pairs().into_owned().collect();
    assert_eq!(find.get("source_branch").map(String::as_str), Some(BRANCH));
    assert_eq!(find.get("target_branch").map(String::as_str), Some("stage"));
    assert_eq!(find.get("state").map(String::as_str), Some("opened"));
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {TOKEN}")
    );
    let open = gl.project.open();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].source.as_str(), open[0].target.as_str()),
        (BRANCH, "stage")
    );
    assert_eq!(open[0].labels, ["promotion"]);
    assert_eq!(open[0].reviewer_ids, [1], "john_smith is user 1");
    assert!(!open[0].auto_merge);
    assert!(
        open[0].description.contains("gitops:promotion dev->stage"),
        "{}",
        open[0].description
    );
    for skipped in [
        "shop/platform: GitLab asks people for reviews, not groups",
        "nobody: no such GitLab user",
    ] {
        assert!(run.stderr.contains(skipped), "{}", run.stderr);
    }

    // A rerun with nothing new: one request, nothing changed.
    let before = gl.received().len();
    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage", "--json"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Unchanged, "{}", run.stderr);
    let rerun = &gl.calls()[before..];
    assert!(rerun.len() <= 2, "{rerun:?}");
    assert_eq!(rerun, [format!("GET {BASE}/merge_requests")]);

    // status shows the merge request and its pipeline: two requests for the
    // environment that has one, one for the one that has none.
    gl.project.set_pipeline("running");
    let before = gl.received().len();
    let run = gitops(&t, &s.repo, &gl, &[], &["status", "--json"]);
    run.expect(0);
    let status = run.json();
    let pull = &env(&status, "stage")["pull_request"];
    assert_eq!(pull["number"], 1);
    assert_eq!(pull["url"], url.as_str());
    assert_eq!(pull["state"], "open");
    assert_eq!(pull["draft"], false);
    assert_eq!(pull["checks"], "pending");
    assert_eq!(pull["forge"], "gitlab");
    assert_eq!(env(&status, "prod")["pull_request"], Value::Null);
    assert_eq!(
        gl.received().len() - before,
        3,
        "{:?}",
        &gl.calls()[before..]
    );
    gl.project.set_pipeline("failed");
    let run = gitops(&t, &s.repo, &gl, &[], &["status"]);
    run.expect(0);
    assert!(run.stdout.contains("MERGE REQUEST"), "{}", run.stdout);
    assert!(run.stdout.contains("!1 failure"), "{}", run.stdout);

    // A new commit on dev refreshes the same merge request.
    push_to_dev(&t, &dev);
    let before = gl.received().len();
    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage", "--json"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Updated, "{}", run.stderr);
    assert_eq!(
        &gl.calls()[before..],
        [
            format!("GET {BASE}/merge_requests"),
            format!("PUT {BASE}/merge_requests/1")
        ]
    );
    let open = gl.project.open();
    assert_eq!(open.len(), 1, "still one merge request");
    assert!(
        open[0].description.contains("checkout: more cpu"),
        "{}",
        open[0].description
    );
}

#[test]
fn an_auto_merge_environment_merges_when_the_pipeline_succeeds_or_warns_when_gitlab_will_not() {
    for merge in [Merge::Accept, Merge::Refuse] {
        let t = TestEnv::new();
        let (s, _) = sample(
            &t,
            "forge: gitlab\nhost: git.example.com\ngitlab:\n  repository: shop/team/config\n",
        );
        let gl = double("dev", &[], merge);
        let run = gitops(
            &t,
            &s.repo,
            &gl,
            &[],
            &["image", "set", "web", "1a2b3c4", "--env", "dev", "--json"],
        );
        run.expect(0);
        assert_eq!(run.json()["action"], "opened", "{}", run.stderr);
        assert_eq!(run.json()["pull_request"]["forge"], "gitlab");
        assert_eq!(
            gl.calls(),
            [
                format!("GET {BASE}/merge_requests"),
                format!("POST {BASE}/merge_requests"),
                format!("PUT {BASE}/merge_requests/1/merge"),
            ],
            "no labels or reviewers configured"
        );
        let open = gl.project.open();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].target, "dev");
        match merge {
            Merge::Accept => {
                assert!(open[0].auto_merge);
                assert!(
                    run.stderr
                        .contains("Set to merge when the pipeline succeeds"),
                    "{}",
                    run.stderr
                );
            }
            Merge::Refuse => {
                assert!(!open[0].auto_merge);
                assert!(
                    run.stderr.contains("GitLab would not merge !1 when the pipeline succeeds (405 Method Not Allowed)"),
                    "{}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn the_forge_comes_from_the_origin_host_without_any_config() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // origin says gitlab.com; git reaches the local bare repository instead.
    let url = "https://gitlab.com/shop/config.git";
    t.git(&s.repo, &["remote", "set-url", "origin", url]);
    let bare = s.origin.to_str().unwrap();
    t.git(&s.repo, &["config", &format!("url.{bare}.insteadOf"), url]);
    let gl = Double::start("gitlab.com", "shop/config", "dev", &[], Merge::Accept);
    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage", "--json"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Opened, "{}", run.stderr);
    assert_eq!(
        out.pull_request.map(|p| (p.url, p.forge)),
        Some((
            "https://gitlab.com/shop/config/-/merge_requests/1".to_owned(),
            Kind::GitLab
        ))
    );
    assert_eq!(
        gl.calls()[0],
        "GET /api/v4/projects/shop%2Fconfig/merge_requests"
    );
}

#[test]
fn without_a_token_it_says_where_to_open_the_merge_request_and_a_job_token_is_refused() {
    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);

    let run = gitops(
        &t,
        &s.repo,
        &gl,
        &[("GITLAB_TOKEN", "")],
        &["promote", "stage", "--json"],
    );
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Pushed, "{}", run.stderr);
    let by_hand = format!(
        "https://{HOST}/{PROJECT}/-/merge_requests/new?merge_request%5Bsource_branch%5D=gitops%2Fpromote-dev-to-stage&merge_request%5Btarget_branch%5D=stage"
    );
    assert_eq!(out.compare_url.as_deref(), Some(by_hand.as_str()));
    assert!(
        run.stderr.contains("No GitLab token (GITLAB_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(gl.calls().is_empty());

    // GitLab CI's job token cannot open merge requests: refused, with what to
    // set; the branch is pushed all the same.
    let run = gitops(
        &t,
        &s.repo,
        &gl,
        &[("GITLAB_TOKEN", ""), ("CI_JOB_TOKEN", "job-token-value")],
        &["promote", "stage"],
    );
    let error = run.refused();
    assert!(
        error.contains("CI_JOB_TOKEN cannot open or update merge requests"),
        "{error}"
    );
    assert!(run.hint().contains("GITLAB_TOKEN"), "{}", run.stderr);
    assert!(!run.stderr.contains("job-token-value"));
    assert!(gl.calls().is_empty());
}

#[test]
fn a_rejected_token_names_its_variable_and_exits_3() {
    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    let mut unauthorized = common::gitlab::fixture("error-401");
    unauthorized["message"] = Value::from("401 Unauthorized");
    gl.mount(
        Mock::given(any())
            .respond_with(ResponseTemplate::new(401).set_body_json(unauthorized))
            .with_priority(1),
    );
    for (var, value) in [
        ("GITLAB_TOKEN", TOKEN),
        ("OAUTH_TOKEN", "oauth-e2eGITLABtoken77"),
    ] {
        let vars: Vec<(&str, &str)> = if var == "GITLAB_TOKEN" {
            vec![]
        } else {
            vec![("GITLAB_TOKEN", ""), (var, value)]
        };
        let run = gitops(&t, &s.repo, &gl, &vars, &["promote", "stage"]);
        run.expect(3);
        assert!(
            run.error_line().contains(&format!(
                "GitLab rejected the token from {var} (401 Unauthorized)"
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.hint().contains(&format!("set {var} to a valid token")),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains(value));
    }
}

#[test]
fn a_rate_limited_answer_is_waited_for_and_retried() {
    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    // The documented 429: `Retry-After` in seconds, the body "Retry later".
    gl.mount(
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .insert_header("RateLimit-Remaining", "0")
                    .set_body_string("Retry later"),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    let started = std::time::Instant::now();
    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage", "--json"]);
    run.expect(0);
    assert_eq!(run.json()["action"], "opened", "{}", run.stderr);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let calls = gl.calls();
    assert_eq!(calls[0], calls[1], "the lookup was asked again: {calls:?}");
    assert_eq!(gl.project.open().len(), 1);
}

#[test]
fn a_persons_commit_on_the_promotion_branch_is_never_overwritten_on_gitlab_either() {
    let t = TestEnv::new();
    let (s, dev) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    gitops(&t, &s.repo, &gl, &[], &["promote", "stage"]).expect(0);
    let other = t.clone(&s.origin, "other", BRANCH);
    t.commit_file(
        &other,
        "notes.txt",
        "fix\n",
        "A person's fix on the promotion branch",
    );
    t.git(&other, &["push", "--quiet", "origin", BRANCH]);
    let theirs = t.rev(&s.origin, BRANCH);
    push_to_dev(&t, &dev);
    let before = gl.project.open();

    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage"]);
    assert!(run.refused().contains("A person's fix"), "{}", run.stderr);
    assert_eq!(
        t.rev(&s.origin, BRANCH),
        theirs,
        "their commit is still there"
    );
    let after = gl.project.open();
    assert_eq!(
        after[0].description, before[0].description,
        "the merge request is untouched"
    );
}

#[test]
fn check_reads_the_default_branch_protected_branches_and_approval_rules() {
    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    // stage protected with the documented rule (3 approvals); prod not
    // protected; the default branch is main, not dev.
    let gl = double("main", &["stage"], Merge::Accept);
    let run = gitops(&t, &s.repo, &gl, &[], &["check", "--json"]);
    run.expect(1);
    let protection = |doc: &Value| -> Vec<(String, String)> {
        doc["repos"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "protection")
            .map(|f| {
                (
                    f["severity"].as_str().unwrap().to_owned(),
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let doc = run.json();
    let error = |m: &str| ("error".to_owned(), m.to_owned());
    assert_eq!(
        protection(&doc),
        [
            error("the default branch is main but the first environment is dev: make dev the default branch"),
            error("prod is not protected: require a merge request with a review before merging"),
        ],
        "{doc:#}"
    );
    let calls = gl.calls();
    for want in [
        format!("GET {BASE}"),
        format!("GET {BASE}/protected_branches/stage"),
        format!("GET {BASE}/approval_rules"),
        format!("GET {BASE}/protected_branches/prod"),
    ] {
        assert!(calls.contains(&want), "{want} in {calls:?}");
    }

    // Developers may push to stage directly: the review can be skipped.
    let mut open_to_developers = common::gitlab::fixture("protected-branch");
    open_to_developers["name"] = Value::from("stage");
    open_to_developers["push_access_levels"][0]["access_level"] = Value::from(30);
    open_to_developers["push_access_levels"][0]["access_level_description"] =
        Value::from("Developers + Maintainers");
    gl.mount(
        Mock::given(wiremock::matchers::path(format!(
            "{BASE}/protected_branches/stage"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(open_to_developers))
        .with_priority(1),
    );
    let doc = gitops(&t, &s.repo, &gl, &[], &["check", "--json"]).json();
    assert!(
        protection(&doc).contains(&(
            "warning".to_owned(),
            "stage lets Developers + Maintainers push directly, skipping the merge request and its review: let only maintainers push (or no one)".to_owned()
        )),
        "{doc:#}"
    );

    // Without a token: skipped, and said why (the sample's drift still fails).
    let run = gitops(&t, &s.repo, &gl, &[("GITLAB_TOKEN", "")], &["check"]);
    run.expect(1);
    assert!(
        run.stderr
            .contains("protection: not checked (no GitLab token: set GITLAB_TOKEN"),
        "{}",
        run.stderr
    );
}

#[test]
fn feature_finish_opens_a_draft_merge_request_into_dev_and_a_rerun_keeps_it() {
    use gitops::cli::commands::feature::FinishOut;

    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    t.git(&s.repo, &["pull", "--quiet", "--ff-only", "origin", "dev"]);
    gitops(&t, &s.repo, &gl, &[], &["feature", "start", "add-redis"]).expect(0);
    t.commit_file(
        &s.repo,
        "apps/cart/redis.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: redis}\n",
        "cart: redis config",
    );
    let run = gitops(
        &t,
        &s.repo,
        &gl,
        &[],
        &["feature", "finish", "--draft", "--json"],
    );
    run.expect(0);
    let out: FinishOut = run.parse();
    assert_eq!(out.action, Action::Opened, "{}", run.stderr);
    assert_eq!(
        out.pull_request.map(|p| (p.number, p.forge)),
        Some((1, Kind::GitLab))
    );
    let open = gl.project.open();
    assert_eq!(
        (
            open[0].title.as_str(),
            open[0].source.as_str(),
            open[0].target.as_str()
        ),
        ("Draft: cart: redis config", "add-redis", "dev"),
        "GitLab's drafts are a title prefix"
    );

    // The prefix is GitLab's: a rerun sees the same title, changes nothing.
    let before = gl.received().len();
    let run = gitops(&t, &s.repo, &gl, &[], &["feature", "finish", "--json"]);
    run.expect(0);
    assert_eq!(
        run.parse::<FinishOut>().action,
        Action::Unchanged,
        "{}",
        run.stderr
    );
    assert_eq!(gl.calls()[before..], [format!("GET {BASE}/merge_requests")]);
}

/// Without a token variable, the token `glab` keeps for the host: an older
/// glab without `auth token` is asked with `config get token`.
#[test]
fn the_token_glab_keeps_for_the_host_is_used_when_no_variable_is_set() {
    use std::os::unix::fs::PermissionsExt;

    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    let bin = t.mkdir("fake-glab");
    let glab = bin.join("glab");
    std::fs::write(
        &glab,
        "#!/bin/sh\n[ \"$*\" = \"config get token --host git.example.com\" ] && echo glpat-fromGLAB42 && exit 0\necho \"unknown command\" >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&glab, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = gitops(
        &t,
        &s.repo,
        &gl,
        &[("GITLAB_TOKEN", ""), ("PATH", &path)],
        &["promote", "stage", "--json"],
    );
    run.expect(0);
    assert_eq!(run.json()["action"], "opened", "{}", run.stderr);
    let first = &gl.received()[0];
    assert_eq!(
        first
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        "Bearer glpat-fromGLAB42"
    );
    assert!(!run.stderr.contains("glpat-fromGLAB42"));
}

/// A fork's merge request from a branch of the same name into stage is
/// someone else's: gitops opens its own and leaves that one as it was.
#[test]
fn a_forks_merge_request_from_a_branch_of_the_same_name_is_left_alone() {
    use common::gitlab::Stored;

    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    let theirs = Stored {
        title: "Someone's work from their fork".to_owned(),
        description: "theirs".to_owned(),
        source: BRANCH.to_owned(),
        target: "stage".to_owned(),
        fork: true,
        ..Stored::default()
    };
    gl.project.insert(theirs);
    let run = gitops(&t, &s.repo, &gl, &[], &["promote", "stage", "--json"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Opened, "{}", run.stderr);
    assert_eq!(out.pull_request.map(|p| p.number), Some(2));
    let open = gl.project.open();
    assert_eq!(open.len(), 2);
    assert_eq!(
        (open[0].title.as_str(), open[0].description.as_str()),
        ("Someone's work from their fork", "theirs")
    );
    assert!(open[1].description.contains("gitops:promotion dev->stage"));
}

/// The shapes of real configuration repositories (`tests/common/shapes.rs`)
/// promoted through GitLab: a Helm chart with values, a chart with templates
/// and a CI workflow, kustomize `images:` entries, one with an image renamed
/// (`newName`), a `kind: List`, a third-party sidecar beside the team's image.
/// Each gets its merge request into stage, stage's own tags kept on the
/// promotion branch, and `status` shows it with GitLab's pipeline.
#[test]
fn real_repository_shapes_are_promoted_through_merge_requests() {
    use common::shapes::{self, Shape, STAGE_TAG};

    type Make = for<'t> fn(&'t TestEnv) -> Shape<'t>;
    let sidecars: Make = |t| shapes::sidecar_shop(t, "sidecar", shapes::SHOP_IMAGES);
    let made: [(&str, Make); 6] = [
        ("helm", shapes::helm_chart),
        ("chart-and-workflow", shapes::chart_and_workflow),
        ("kustomize", shapes::kustomize_web),
        ("kustomize-rename", shapes::kustomize_rename_and_suffix),
        ("list", shapes::list_of_workers),
        ("sidecar", sidecars),
    ];
    let block = "gitlab:\n  repository: shop/team/config\n  labels: [promotion]\nforge: gitlab\nhost: git.example.com\n";
    for (name, make) in made {
        let t = TestEnv::new();
        let shape = make(&t);
        for branch in ["dev", "stage", "prod"] {
            shape.edit(
                branch,
                ".gitops.yaml",
                |c| format!("{c}{block}"),
                "Promote through GitLab",
            );
        }
        shape.commit(
            "dev",
            &[(
                "apps/extra/configmap.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  greeting: hello\n",
            )],
            "extra: a new config map",
        );
        let gl = double("dev", &[], Merge::Accept);
        let run = gitops(&t, &shape.repo, &gl, &[], &["promote", "stage", "--json"]);
        run.expect(0);
        let out: PromoteOut = run.parse();
        assert_eq!(out.action, Action::Opened, "{name}: {}", run.stderr);
        assert_eq!(
            out.pull_request.map(|p| (p.number, p.forge)),
            Some((1, Kind::GitLab)),
            "{name}"
        );
        let open = gl.project.open();
        assert_eq!(
            (open.len(), open[0].source.as_str(), open[0].target.as_str()),
            (1, BRANCH, "stage"),
            "{name}"
        );
        assert_eq!(open[0].labels, ["promotion"], "{name}");
        // Every file that pins stage's tag still does on the promotion branch.
        let files = t.git(&shape.origin, &["ls-tree", "-r", "--name-only", "stage"]);
        let pinned: Vec<&str> = files
            .lines()
            .filter(|f| shape.show("stage", f).contains(STAGE_TAG))
            .collect();
        assert!(
            !pinned.is_empty(),
            "{name}: stage pins {STAGE_TAG} somewhere"
        );
        for file in pinned {
            assert_eq!(
                shape.promoted("dev", "stage", file),
                shape.show("stage", file),
                "{name}: {file} keeps stage's tags"
            );
        }
        assert!(shape
            .promoted("dev", "stage", "apps/extra/configmap.yaml")
            .contains("greeting"));

        gl.project.set_pipeline("success");
        let status = gitops(&t, &shape.repo, &gl, &[], &["status", "--json"]);
        status.expect(0);
        let status = status.json();
        let pull = &env(&status, "stage")["pull_request"];
        assert_eq!(
            (pull["number"].as_u64(), pull["checks"].as_str()),
            (Some(1), Some("success")),
            "{name}"
        );
        assert_eq!(pull["forge"], "gitlab", "{name}");
    }
}

/// `image set` on a kustomize `images:` entry opens a merge request into the
/// environment, the kustomization's `newTag` the only bytes changed.
#[test]
fn image_set_on_a_kustomization_opens_a_merge_request() {
    use common::shapes::{self, STAGE_TAG};

    let t = TestEnv::new();
    let shape = shapes::kustomize_web(&t);
    let block = "forge: gitlab\nhost: git.example.com\ngitlab:\n  repository: shop/team/config\n";
    for branch in ["dev", "stage", "prod"] {
        shape.edit(
            branch,
            ".gitops.yaml",
            |c| format!("{c}{block}"),
            "Promote through GitLab",
        );
    }
    let gl = double("dev", &[], Merge::Accept);
    let run = gitops(
        &t,
        &shape.repo,
        &gl,
        &[],
        &[
            "image",
            "set",
            "registry.example.com/shop/web",
            "1.4.0-rc.3",
            "--env",
            "stage",
            "--json",
        ],
    );
    run.expect(0);
    assert_eq!(run.json()["action"], "opened", "{}", run.stderr);
    assert_eq!(run.json()["pull_request"]["forge"], "gitlab");
    let open = gl.project.open();
    assert_eq!(
        (
            open[0].source.as_str(),
            open[0].target.as_str(),
            open[0].auto_merge
        ),
        ("gitops/image-stage-web", "stage", false)
    );
    let path = "apps/web/kustomization.yaml";
    assert_eq!(
        shape.show("gitops/image-stage-web", path),
        shape.show("stage", path).replace(STAGE_TAG, "1.4.0-rc.3")
    );
}

/// On GitLab every line a person reads names merge requests, as GitLab does:
/// status's drift note and its "not asked" note, the promotion's dry run and
/// its body's drift warning, check's drift finding, feature start's next step.
/// The sample's prod carries a hotfix stage does not have (drift).
#[test]
fn what_gitops_says_on_gitlab_names_merge_requests_not_pull_requests() {
    let t = TestEnv::new();
    let (s, _) = sample(&t, GITLAB_BLOCK);
    let gl = double("dev", &[], Merge::Accept);
    let no_token = [("GITLAB_TOKEN", "")];

    let run = gitops(&t, &s.repo, &gl, &no_token, &["status"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("bring them to stage through a merge request so they are not lost"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("Promotion merge requests: not asked (no GitLab token"),
        "{}",
        run.stderr
    );

    let run = gitops(
        &t,
        &s.repo,
        &gl,
        &no_token,
        &["promote", "prod", "--dry-run", "--yes"],
    );
    run.expect(0);
    assert!(run.stdout.contains("Merge request:"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("bring them to `stage` through a merge request so they are not lost"),
        "the body's drift warning:\n{}",
        run.stdout
    );

    let run = gitops(&t, &s.repo, &gl, &no_token, &["check"]);
    assert!(
        run.stdout
            .contains("does not have: bring it upstream through a merge request"),
        "{}",
        run.stdout
    );

    let run = gitops(
        &t,
        &s.repo,
        &gl,
        &no_token,
        &["feature", "start", "wording"],
    );
    run.expect(0);
    assert!(
        run.stderr
            .contains("open a merge request into the first environment"),
        "{}",
        run.stderr
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains("pull request"), "{text}");
    }
    assert!(gl.calls().is_empty(), "no token: GitLab is never asked");
}

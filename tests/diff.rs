//! `gitops diff ENV`: what promoting ENV would change.

mod common;

use common::TestEnv;
use gitops::cli::commands::{FileChange, FileOut, Plan};
use gitops::model::semdiff::{Change, FieldChange, ResourceChange};
use serde_json::{json, Value};

/// The resource `kind/name` of a `diff --json` document.
fn resource<'a>(diff: &'a Value, kind: &str, name: &str) -> &'a Value {
    diff["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind && r["name"] == name)
        .unwrap_or_else(|| panic!("no resource {kind}/{name} in {:#}", diff["resources"]))
}

/// The fields of a resource.
fn fields(resource: &Value) -> &Vec<Value> {
    resource["fields"].as_array().expect("fields is an array")
}

#[test]
fn json_for_stage_shows_commits_files_resources_and_kept_tags() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let diff: Plan = t
        .gitops(&s.repo, &["diff", "stage", "--json"])
        .expect(0)
        .parse();

    assert_eq!((diff.from.as_str(), diff.to.as_str()), ("dev", "stage"));

    // The commits on dev that stage lacks, as git counts them.
    let mut want: Vec<String> = t
        .git(&s.repo, &["rev-list", "origin/stage..origin/dev"])
        .lines()
        .map(str::to_owned)
        .collect();
    want.sort();
    let mut ids: Vec<&str> = diff.commits.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, want, "full commit ids");
    let summaries: Vec<&str> = diff.commits.iter().map(|c| c.summary.as_str()).collect();
    assert!(
        summaries.contains(&"cart: keep sessions in redis"),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&"web: raise the memory limit to 256Mi"),
        "{summaries:?}"
    );

    let file = |path: &str| FileOut {
        path: path.to_owned(),
        change: FileChange::Modified,
    };
    assert_eq!(
        diff.files,
        [
            file("apps/cart/deployment.yaml"),
            file("apps/web/deployment.yaml")
        ]
    );

    let resource = |kind: &str, name: &str| -> &ResourceChange {
        diff.resources
            .iter()
            .find(|r| r.kind.as_deref() == Some(kind) && r.name == name)
            .unwrap_or_else(|| panic!("no resource {kind}/{name} in {:#?}", diff.resources))
    };
    let cart = resource("Deployment", "cart");
    assert_eq!(cart.namespace.as_deref(), Some("shop"));
    assert_eq!(cart.api_version.as_deref(), Some("apps/v1"));
    assert_eq!(cart.change, Change::Changed);
    // Dev gave the cart container an env list: one change, the whole list.
    assert_eq!(
        cart.fields,
        [FieldChange {
            path: "spec.template.spec.containers[name=cart].env".to_owned(),
            from: None,
            to: Some(json!([{"name": "REDIS_URL", "value": "redis://redis.shop:6379"}])),
        }],
        "cart gets REDIS_URL: {cart:#?}"
    );

    let web = resource("Deployment", "web");
    assert_eq!(web.change, Change::Changed);
    let memory: Vec<&FieldChange> = web
        .fields
        .iter()
        .filter(|f| f.path.contains("memory"))
        .collect();
    assert!(!memory.is_empty(), "web's memory changes: {web:#?}");
    for f in memory {
        assert_eq!(
            (&f.from, &f.to),
            (&Some(json!("128Mi")), &Some(json!("256Mi"))),
            "{f:?}"
        );
    }
    assert_eq!(diff.resources.len(), 2, "only cart and web change");

    // Image tags are pinned: kept, never among the changes.
    assert!(
        diff.kept.iter().any(|k| k.name == "cart"
            && k.value.as_str().is_some_and(|v| v.ends_with(":2.1.0-rc.1"))
            && k.upstream.as_str().is_some_and(|v| v.ends_with(":5a6b7c8"))),
        "stage keeps cart's release candidate: {:#?}",
        diff.kept
    );
    for f in diff.resources.iter().flat_map(|r| &r.fields) {
        let text = format!("{:?} {:?}", f.from, f.to);
        assert!(!f.path.ends_with(".image"), "an image among changes: {f:?}");
        for tag in ["5a6b7c8", "2.1.0-rc.1", "d31f8a2", "1.9.0-rc.1"] {
            assert!(!text.contains(tag), "a pinned tag among changes: {f:?}");
        }
    }
    assert!(diff.drift.is_empty(), "stage has no drift");
    assert!(diff.blocked.is_none(), "{:?}", diff.blocked);
}

#[test]
fn prod_shows_the_promotion_and_the_hotfix_as_drift() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let diff = t
        .gitops(&s.repo, &["diff", "prod", "--json"])
        .expect(0)
        .json();
    assert_eq!(
        (&diff["from"], &diff["to"]),
        (&json!("stage"), &json!("prod"))
    );
    assert_eq!(diff["commits"].as_array().unwrap().len(), 3);

    let catalogue = resource(&diff, "Deployment", "catalogue");
    assert_eq!(catalogue["change"], "changed");
    assert_eq!(
        fields(catalogue),
        &vec![json!({"path": "spec.replicas", "from": 1, "to": 2})],
        "{catalogue:#}"
    );
    // The hotfix stays on prod through a merge: the promotion does not remove it.
    assert!(
        !diff["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "checkout"),
        "{:#}",
        diff["resources"]
    );

    let hotfix = t.rev(&s.repo, "origin/prod");
    let drift = diff["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0]["id"], hotfix.as_str());
    assert!(
        drift[0]["summary"].as_str().unwrap().contains("Hotfix"),
        "{:#}",
        drift[0]
    );
    // The hotfix added an env list to the container: one field, the whole list.
    assert_eq!(
        drift[0]["fields"],
        json!([{
            "file": "apps/checkout/deployment.yaml",
            "kind": "Deployment",
            "name": "checkout",
            "path": "spec.template.spec.containers[name=checkout].env",
            "value": [{"name": "PAYMENT_TIMEOUT", "value": "30s"}],
        }]),
    );

    // The human view warns about it.
    let run = t.gitops(&s.repo, &["diff", "prod", "--no-fetch"]);
    run.expect(0);
    assert!(run.stdout.contains("Drift on prod"), "{}", run.stdout);
    assert!(run.stdout.contains("PAYMENT_TIMEOUT"), "{}", run.stdout);
}

#[test]
fn the_human_view_of_stage() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let run = t.gitops(&s.repo, &["diff", "stage", "--no-fetch"]);
    run.expect(0);
    insta::assert_snapshot!("diff_stage_quickstart", run.stdout);
}

#[test]
fn the_human_view_of_prod() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let run = t.gitops(&s.repo, &["diff", "prod", "--no-fetch"]);
    run.expect(0);
    insta::assert_snapshot!("diff_prod_quickstart", run.stdout);
}

/// Runs `gitops ARGS` on a fresh sample; it must refuse and change nothing.
fn refusal(args: &[&str]) -> common::Run {
    let t = TestEnv::new();
    let s = t.quickstart();
    let (before, origin_before) = (t.state(&s.repo), t.refs(&s.origin));
    let run = t.gitops(&s.repo, args);
    run.refused();
    assert_eq!(run.stdout, "", "no data for a refusal");
    assert_eq!(t.state(&s.repo), before);
    assert_eq!(t.refs(&s.origin), origin_before);
    run
}

#[test]
fn refuses_the_first_environment() {
    let run = refusal(&["diff", "dev"]);
    assert!(
        run.error_line().contains("first environment"),
        "{}",
        run.stderr
    );
    assert!(
        run.hint().contains("stage"),
        "the hint points at stage: {}",
        run.stderr
    );
}

#[test]
fn refuses_an_unknown_environment_and_lists_the_known_ones() {
    let run = refusal(&["diff", "qa"]);
    assert!(run.error_line().contains("qa"), "{}", run.stderr);
    let hint = run.hint();
    for name in ["dev", "stage", "prod"] {
        assert!(hint.contains(name), "lists {name}: {hint}");
    }
}

#[test]
fn refuses_to_promote_an_environment_into_itself() {
    let run = refusal(&["diff", "stage", "--from", "stage"]);
    assert!(run.error_line().contains("stage"), "{}", run.stderr);
}

#[test]
fn exit_code_says_whether_there_is_something_to_promote() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let run = t.gitops(&s.repo, &["diff", "stage", "--exit-code"]);
    run.expect(1);
    assert!(
        run.stdout.contains("2 commits"),
        "the plan is still printed:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains("error:"),
        "exit 1 is not an error:\n{}",
        run.stderr
    );
    t.gitops(&s.repo, &["diff", "stage", "--exit-code", "--json"])
        .expect(1)
        .json();

    // Someone makes stage what dev is.
    let other = t.clone(&s.origin, "other", "dev");
    t.git(
        &other,
        &[
            "push",
            "--quiet",
            "--force",
            "origin",
            "origin/dev:refs/heads/stage",
        ],
    );

    let run = t.gitops(&s.repo, &["diff", "stage", "--exit-code"]);
    run.expect(0);
    assert!(run.stdout.contains("Nothing to promote"), "{}", run.stdout);
    let diff = t
        .gitops(
            &s.repo,
            &["diff", "stage", "--exit-code", "--json", "--no-fetch"],
        )
        .expect(0)
        .json();
    assert_eq!(diff["commits"], json!([]));
    assert_eq!(diff["files"], json!([]));
    assert_eq!(diff["resources"], json!([]));
}

#[test]
fn patch_adds_the_unified_diff() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let run = t.gitops(&s.repo, &["diff", "stage", "--patch", "--no-fetch"]);
    run.expect(0);
    assert!(
        run.stdout.contains("+++ b/apps/cart/deployment.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+++ b/apps/web/deployment.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("REDIS_URL")),
        "{}",
        run.stdout
    );
    // Without --patch, no text diff.
    let plain = t.gitops(&s.repo, &["diff", "stage", "--no-fetch"]);
    assert!(!plain.stdout.contains("+++"), "{}", plain.stdout);
}

#[test]
fn only_kubernetes_resources_and_values_files_are_resources_and_a_migration_is_one_change() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let hpa = |api: &str, max: u32| {
        format!(
            "apiVersion: {api}\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  maxReplicas: {max}\n"
        )
    };
    // The HPA reaches stage through a promotion, as it would.
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.commit_file(
        &dev,
        "apps/cart/hpa.yaml",
        &hpa("autoscaling/v2beta2", 3),
        "cart: autoscale",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    t.gitops(&s.repo, &["promote", "stage"]).expect(0);
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    t.git(
        &stage,
        &[
            "merge",
            "--quiet",
            "--ff-only",
            "origin/gitops/promote-dev-to-stage",
        ],
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    t.commit_file(
        &dev,
        "apps/cart/hpa.yaml",
        &hpa("autoscaling/v2", 5),
        "cart: autoscaling/v2",
    );
    t.commit_file(
        &dev,
        ".github/workflows/ci.yaml",
        "name: ci\non: push\njobs:\n  test: {runs-on: ubuntu-latest}\n",
        "ci",
    );
    t.commit_file(
        &dev,
        "apps/cart/values.yaml",
        "replicaCount: 2\n",
        "cart: values",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);

    let diff = t
        .gitops(&s.repo, &["diff", "stage", "--json"])
        .expect(0)
        .json();
    let files: Vec<&str> = diff["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(files.contains(&".github/workflows/ci.yaml"), "{files:?}");
    // The workflow is a file that changes, not a resource; the values file is one.
    let names: Vec<&str> = diff["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.contains("workflows")), "{names:?}");
    assert!(names.contains(&"apps/cart/values.yaml"), "{names:?}");
    let hpa = resource(&diff, "HorizontalPodAutoscaler", "cart");
    assert_eq!(hpa["change"], "changed");
    assert_eq!(hpa["api_version"], "autoscaling/v2");
    assert_eq!(
        fields(hpa),
        &vec![
            json!({"path": "apiVersion", "from": "autoscaling/v2beta2", "to": "autoscaling/v2"}),
            json!({"path": "spec.maxReplicas", "from": 3, "to": 5}),
        ]
    );
}

#[test]
fn a_manifest_that_does_not_parse_has_the_same_shape_as_in_status() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.commit_file(&dev, "apps/broken.yaml", "a: 1\nb: [1, 2\n", "broken");
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);

    let diff = t
        .gitops(&s.repo, &["diff", "stage", "--json"])
        .expect(0)
        .json();
    let status = t
        .gitops(&s.repo, &["status", "--json", "--no-fetch"])
        .expect(0)
        .json();
    let in_status = &common::env(&status, "dev")["unparseable"];
    assert_eq!(diff["unparseable"], *in_status);
    let bad = &diff["unparseable"][0];
    assert_eq!(bad["file"], "apps/broken.yaml");
    let line = bad["line"].as_u64().unwrap();
    assert!(line >= 2, "{bad}");
    assert!(
        bad["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{bad}"
    );

    let run = t.gitops(&s.repo, &["diff", "stage", "--no-fetch"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains(&format!("apps/broken.yaml:{line}: does not parse")),
        "{}",
        run.stdout
    );
}

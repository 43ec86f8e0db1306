//! Acceptance tests from trying gitops on real open-source configuration
//! repositories (issue 8): each test rebuilds, on a small repository of the same
//! shape (tests/common/shapes.rs), a case where promotion broke or misled, and
//! asserts what a careful user expects. Every promotion that succeeds is checked
//! with `promote_and_verify`: the plan shown is what merging the pushed commit
//! changes.

mod common;

use common::shapes::{self, Shape, DEV_TAG, NEW_DEV_TAG, PROD_TAG, SHOP_IMAGES, STAGE_TAG};
use common::{promote_and_verify, Run, TestEnv};
use serde_json::{json, Value};

/// What the user saw: the command's two streams.
fn seen(run: &Run) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr)
}

/// `gitops ARGS` in the shape's clone; it must exit 0. Returns its JSON.
fn json_of(t: &TestEnv, s: &Shape, args: &[&str]) -> Value {
    t.gitops(&s.repo, args).expect(0).json()
}

/// The `resources` of a plan.
fn resources(plan: &Value) -> &Vec<Value> {
    plan["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("the plan has no `resources` array:\n{plan:#}"))
}

/// The resources of a plan with this kind and name.
fn resources_named<'a>(plan: &'a Value, kind: &str, name: &str) -> Vec<&'a Value> {
    resources(plan)
        .iter()
        .filter(|r| r["kind"] == kind && r["name"] == name)
        .collect()
}

/// Every field change of a plan, with its resource.
fn fields(plan: &Value) -> Vec<(&Value, &Value)> {
    resources(plan)
        .iter()
        .flat_map(|r| {
            r["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |f| (r, f))
        })
        .collect()
}

/// The fields of the plan whose path satisfies `pick`.
fn fields_where(plan: &Value, pick: impl Fn(&str) -> bool) -> Vec<&Value> {
    fields(plan)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f["path"].as_str().is_some_and(&pick))
        .collect()
}

/// The `kept` entries of a plan.
fn kept(plan: &Value) -> &Vec<Value> {
    plan["kept"]
        .as_array()
        .unwrap_or_else(|| panic!("the plan has no `kept` array:\n{plan:#}"))
}

/// The `warnings` of a plan.
fn warnings(plan: &Value) -> Vec<String> {
    plan["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("the plan has no `warnings` array:\n{plan:#}"))
        .iter()
        .map(|w| w.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The findings of every repository of a `check --json` document.
fn findings(check: &Value) -> Vec<&Value> {
    check["repos"]
        .as_array()
        .unwrap_or_else(|| panic!("no repos in {check:#}"))
        .iter()
        .flat_map(|r| r["findings"].as_array().into_iter().flatten())
        .collect()
}

// --- 1. Helm values: a pinned key pins that exact path -----------------------------

const VALUES: &str = "charts/shop/values.yaml";

/// The chart, after dev's CI set its own image tag and someone upgraded redis and
/// its exporter.
fn helm_after_dev_changes(t: &TestEnv) -> Shape<'_> {
    let s = shapes::helm_chart(t);
    s.edit(
        "dev",
        VALUES,
        |v| v.replace(&format!("tag: {DEV_TAG}"), &format!("tag: {NEW_DEV_TAG}")),
        &format!("web: {NEW_DEV_TAG}"),
    );
    s.edit(
        "dev",
        VALUES,
        |v| {
            v.replace("tag: 8.6.3", "tag: 8.8.0")
                .replace("tag: v1.62.0", "tag: v1.67.0")
        },
        "Upgrade redis to 8.8.0 and its exporter to v1.67.0",
    );
    s
}

#[test]
fn helm_values_promotion_brings_redis_tag_and_keeps_stages_image_tag() {
    let t = TestEnv::new();
    let s = helm_after_dev_changes(&t);
    let stage_values = s.show("stage", VALUES);

    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    let pushed = s.promoted("dev", "stage", VALUES);
    let want = stage_values
        .replace("tag: 8.6.3", "tag: 8.8.0")
        .replace("tag: v1.62.0", "tag: v1.67.0");
    assert_eq!(
        pushed, want,
        "the promoted values.yaml is stage's, byte for byte, with redis 8.8.0 and the exporter v1.67.0 \
         (image.tag pins only `image.tag`, never `redis.tag` or `metrics.image.tag`)\n{}",
        seen(&run)
    );
}

#[test]
fn helm_values_diff_lists_redis_tag_as_a_change_and_image_tag_as_kept() {
    let t = TestEnv::new();
    let s = helm_after_dev_changes(&t);
    let diff = json_of(&t, &s, &["diff", "stage", "--json"]);

    let redis = fields_where(&diff, |p| p == "redis.tag");
    assert_eq!(
        redis,
        vec![&json!({"path": "redis.tag", "from": "8.6.3", "to": "8.8.0"})],
        "redis.tag travels:\n{diff:#}"
    );
    let exporter = fields_where(&diff, |p| p == "metrics.image.tag");
    assert_eq!(
        exporter,
        vec![&json!({"path": "metrics.image.tag", "from": "v1.62.0", "to": "v1.67.0"})],
        "metrics.image.tag is not `image.tag`: it travels:\n{diff:#}"
    );
    assert!(
        fields_where(&diff, |p| p == "image.tag").is_empty(),
        "image.tag is pinned, never a change:\n{diff:#}"
    );
    let kept = kept(&diff);
    assert!(
        kept.iter().any(|k| k["file"] == VALUES
            && k["path"] == "image.tag"
            && k["value"] == STAGE_TAG
            && k["upstream"] == NEW_DEV_TAG),
        "stage keeps its image.tag {STAGE_TAG} (dev has {NEW_DEV_TAG}):\n{diff:#}"
    );
    assert!(
        !kept
            .iter()
            .any(|k| k["path"] == "redis.tag" || k["path"] == "metrics.image.tag"),
        "only image.tag is kept:\n{diff:#}"
    );
}

// --- 2. --set-image for a new workload ----------------------------------------------

const SEARCH: &str = "apps/search/deployment.yaml";

fn with_new_search_app(t: &TestEnv) -> Shape<'_> {
    let s = shapes::plain_shop(t, "set-image", "");
    let search = shapes::deployment(
        "apps/v1",
        "search",
        &shapes::container("search", &shapes::shop_image("search", NEW_DEV_TAG)),
    );
    s.commit(
        "dev",
        &[
            (SEARCH, &search),
            ("apps/search/service.yaml", &shapes::service("search")),
        ],
        "search: first deployment",
    );
    s
}

/// The plan's Deployment `search`: added, showing the given tag, never dev's.
fn assert_search_shows(plan: &Value, run: &Run) {
    let search = resources_named(plan, "Deployment", "search");
    assert_eq!(search.len(), 1, "one Deployment search\n{}", seen(run));
    assert_eq!(search[0]["change"], "added", "{}", seen(run));
    let text = search[0].to_string();
    assert!(
        text.contains("1.0.0-rc.1"),
        "the plan shows the tag stage will run, 1.0.0-rc.1: {text}\n{}",
        seen(run)
    );
    assert!(
        !run.stdout.contains(NEW_DEV_TAG),
        "dev's commit tag {NEW_DEV_TAG} appears nowhere in what stage will run\n{}",
        seen(run)
    );
}

#[test]
fn a_new_workload_is_refused_without_set_image_and_named() {
    let t = TestEnv::new();
    let s = with_new_search_app(&t);
    let before = s.refs();
    let run = t.gitops(&s.repo, &["promote", "stage"]);
    run.refused();
    assert!(
        run.stderr.contains("registry.example.com/shop/search")
            && run.stderr.contains("--set-image"),
        "the refusal names the image and --set-image\n{}",
        seen(&run)
    );
    assert_eq!(s.refs(), before, "nothing pushed");
}

#[test]
fn set_image_for_a_new_workload_is_what_the_plan_and_the_pushed_file_show() {
    let t = TestEnv::new();
    let s = with_new_search_app(&t);
    let before = s.refs();

    let run = t.gitops(
        &s.repo,
        &[
            "promote",
            "stage",
            "--set-image",
            "search=1.0.0-rc.1",
            "--dry-run",
            "--json",
        ],
    );
    run.expect(0);
    assert_search_shows(&run.json(), &run);
    assert_eq!(s.refs(), before, "a dry run pushes nothing");

    let run = promote_and_verify(
        &t,
        &s.repo,
        "stage",
        &["stage", "--set-image", "search=1.0.0-rc.1"],
    );
    run.expect(0);
    assert_search_shows(&run.json(), &run);
    let pushed = s.promoted("dev", "stage", SEARCH);
    assert!(
        pushed.contains("image: registry.example.com/shop/search:1.0.0-rc.1")
            && !pushed.contains(NEW_DEV_TAG),
        "{pushed}"
    );
}

// --- 3. An image moved to another registry ------------------------------------------

const APP: &str = "apps/app/deployment.yaml";
const NEW_IMAGE: &str = "new-registry.example.com/shop/app";

/// Every environment runs old-registry…/app; dev moves to new-registry…/app at a
/// commit tag.
fn moved_registry<'t>(t: &'t TestEnv, name: &str, extra_config: &str) -> Shape<'t> {
    let s = shapes::old_registry_shop(t, name, extra_config);
    s.edit(
        "dev",
        APP,
        |d| {
            d.replace(
                &format!("old-registry.example.com/shop/app:{DEV_TAG}"),
                &format!("{NEW_IMAGE}:{NEW_DEV_TAG}"),
            )
        },
        "Move app to the new registry",
    );
    s
}

/// Without `--set-image` the promotion stops, names the new image and the flag,
/// and does not blame drift that is not there; with it, stage runs the new image
/// at the given tag.
fn registry_move_promotes_with_set_image(extra_config: &str) {
    let t = TestEnv::new();
    let s = moved_registry(&t, "registry", extra_config);
    let before = s.refs();
    let run = t.gitops(&s.repo, &["promote", "stage"]);
    run.refused();
    assert!(
        run.stderr.contains(NEW_IMAGE) && run.stderr.contains("--set-image"),
        "the refusal names {NEW_IMAGE} and --set-image\n{}",
        seen(&run)
    );
    let lower = run.stderr.to_lowercase();
    assert!(
        !lower.contains("drift") && !lower.contains("hotfix"),
        "stage has no drift: the refusal must not blame it\n{}",
        seen(&run)
    );
    assert_eq!(s.refs(), before, "nothing pushed");

    let set = format!("{NEW_IMAGE}=2.0.0-rc.1");
    let run = promote_and_verify(&t, &s.repo, "stage", &["stage", "--set-image", &set]);
    run.expect(0);
    let pushed = s.promoted("dev", "stage", APP);
    assert!(
        pushed.contains(&format!("image: {NEW_IMAGE}:2.0.0-rc.1"))
            && !pushed.contains("old-registry")
            && !pushed.contains(NEW_DEV_TAG),
        "stage runs {NEW_IMAGE}:2.0.0-rc.1:\n{pushed}\n{}",
        seen(&run)
    );
}

#[test]
fn registry_move_with_images_config_needs_set_image_not_a_drift_fix() {
    registry_move_promotes_with_set_image("images:\n  - \"*/shop/*\"\n");
}

#[test]
fn registry_move_without_images_config_needs_set_image_not_a_drift_fix() {
    registry_move_promotes_with_set_image("");
}

#[test]
fn registry_move_promotes_past_a_hotfix_on_an_unrelated_file() {
    let t = TestEnv::new();
    let s = moved_registry(&t, "registry-hotfix", "");
    s.edit(
        "stage",
        "apps/app/configmap.yaml",
        |c| c.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
        "Hotfix: debug logs on stage",
    );
    let run = t.gitops(&s.repo, &["promote", "stage"]);
    run.refused();
    assert!(
        run.stderr.contains(NEW_IMAGE) && run.stderr.contains("--set-image"),
        "the refusal names {NEW_IMAGE} and --set-image\n{}",
        seen(&run)
    );

    let set = format!("{NEW_IMAGE}=2.0.0-rc.1");
    let run = promote_and_verify(&t, &s.repo, "stage", &["stage", "--set-image", &set]);
    run.expect(0);
    let pushed = s.promoted("dev", "stage", APP);
    assert!(
        pushed.contains(&format!("image: {NEW_IMAGE}:2.0.0-rc.1")),
        "{pushed}\n{}",
        seen(&run)
    );
    let config = s.promoted("dev", "stage", "apps/app/configmap.yaml");
    assert!(
        config.contains("LOG_LEVEL: debug"),
        "the hotfix stays: {config}"
    );
}

// --- 4. kustomize ---------------------------------------------------------------------

const KUSTOMIZATION: &str = "apps/web/kustomization.yaml";

/// dev's change to the kustomization beyond its tag: a new resource and a label.
fn autoscale(kustomization: &str) -> String {
    kustomization.replace(
        "  - service.yaml\n",
        "  - service.yaml\n  - hpa.yaml\ncommonLabels:\n  app.kubernetes.io/part-of: shop\n",
    )
}

/// dev's kustomization takes a new build of web (`NEW_DEV_TAG`).
fn new_web_build_on_dev(s: &Shape) {
    s.edit(
        "dev",
        KUSTOMIZATION,
        |k| {
            k.replace(
                &format!("newTag: {DEV_TAG}"),
                &format!("newTag: {NEW_DEV_TAG}"),
            )
        },
        &format!("web: {NEW_DEV_TAG}"),
    );
}

fn kustomize_after_dev_changes(t: &TestEnv) -> Shape<'_> {
    let s = shapes::kustomize_web(t);
    new_web_build_on_dev(&s);
    let kustomization = autoscale(&s.show("dev", KUSTOMIZATION));
    s.commit(
        "dev",
        &[
            (KUSTOMIZATION, &kustomization),
            ("apps/web/hpa.yaml", &shapes::hpa("autoscaling/v2", 70)),
        ],
        "web: autoscale on CPU",
    );
    s
}

/// Every kept entry names its file and has both values; the kustomization's
/// newTag is among them.
fn assert_kept_new_tag(plan: &Value, run: &Run) {
    let kept = kept(plan);
    for k in kept {
        assert!(
            k["file"].as_str().is_some_and(|f| !f.is_empty()),
            "a kept entry without its file: {k}\n{}",
            seen(run)
        );
        assert!(
            !k["value"].is_null() && !k["upstream"].is_null(),
            "a kept entry with a null value: {k}\n{}",
            seen(run)
        );
    }
    assert!(
        kept.iter().any(|k| k["file"] == KUSTOMIZATION
            && k["path"].as_str().is_some_and(|p| p.ends_with("newTag"))
            && k["value"] == STAGE_TAG
            && k["upstream"] == NEW_DEV_TAG),
        "stage keeps its newTag {STAGE_TAG} in {KUSTOMIZATION}\n{}",
        seen(run)
    );
}

#[test]
fn kustomization_promotion_brings_other_changes_and_keeps_stages_new_tag() {
    let t = TestEnv::new();
    let s = kustomize_after_dev_changes(&t);
    let stage_kustomization = s.show("stage", KUSTOMIZATION);

    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    assert_kept_new_tag(&run.json(), &run);
    let pushed = s.promoted("dev", "stage", KUSTOMIZATION);
    assert_eq!(
        pushed,
        autoscale(&stage_kustomization),
        "dev's new resource and label, stage's newTag\n{}",
        seen(&run)
    );

    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    assert_kept_new_tag(&run.json(), &run);
}

#[test]
fn kustomize_entries_with_only_new_name_or_tag_suffix_are_not_untagged() {
    let t = TestEnv::new();
    let s = shapes::kustomize_rename_and_suffix(&t);

    let run = t.gitops(&s.repo, &["check", "--json"]);
    let check = run.json();
    let policy: Vec<&Value> = findings(&check)
        .into_iter()
        .filter(|f| f["check"] == "tag-policy" || f["message"].to_string().contains("untagged"))
        .collect();
    assert!(
        policy.is_empty(),
        "entries that set no tag (only newName, only tagSuffix) break no policy: {policy:#?}\n{}",
        seen(&run)
    );
    run.expect(0);

    let run = t.gitops(&s.repo, &["status", "--json"]);
    let status = run.json();
    for env in ["dev", "stage", "prod"] {
        assert_eq!(
            common::env(&status, env)["policy_violations"],
            json!([]),
            "{env}\n{}",
            seen(&run)
        );
    }
    let run = t.gitops(&s.repo, &["status", "--no-fetch"]);
    run.expect(0);
    assert!(!run.stdout.contains("untagged"), "{}", seen(&run));
}

/// The usual kustomize layout: the Deployment names the team's image without
/// a tag and the kustomization's `images:` sets each environment's tag. The
/// image runs with that tag, so `status` shows it alone (no "(untagged)") and
/// neither `status` nor `check` calls the Deployment untagged.
#[test]
fn an_image_tagged_by_its_kustomization_is_not_untagged() {
    let t = TestEnv::new();
    let s = shapes::kustomize_web(&t);

    let run = t.gitops(&s.repo, &["status", "--json"]);
    run.expect(0);
    let status = run.json();
    for (env, tag) in [("dev", DEV_TAG), ("stage", STAGE_TAG), ("prod", PROD_TAG)] {
        let env_status = common::env(&status, env);
        assert_eq!(
            env_status["policy_violations"],
            json!([]),
            "{env}\n{}",
            seen(&run)
        );
        assert_eq!(
            env_status["images"]["registry.example.com/shop/web"],
            json!(tag),
            "{env}\n{}",
            seen(&run)
        );
    }
    let run = t.gitops(&s.repo, &["status", "--no-fetch"]);
    run.expect(0);
    assert!(!run.stdout.contains("untagged"), "{}", seen(&run));

    let run = t.gitops(&s.repo, &["check", "--json"]);
    let check = run.json();
    let policy: Vec<&Value> = findings(&check)
        .into_iter()
        .filter(|f| f["check"] == "tag-policy")
        .collect();
    assert!(policy.is_empty(), "{policy:#?}\n{}", seen(&run));
    run.expect(0);
}

// --- 5. Helm templates, Chart.yaml and CI workflows are not manifests ----------------

#[test]
fn image_set_is_not_blocked_by_a_helm_template() {
    let t = TestEnv::new();
    let s = shapes::chart_and_workflow(&t);
    let before = s.refs();
    let run = t.gitops(
        &s.repo,
        &[
            "image",
            "set",
            "registry.example.com/shop/web",
            "5b6c7d8",
            "--env",
            "dev",
            "--dry-run",
            "--json",
        ],
    );
    run.expect(0);
    let out = run.json();
    let files = common::strings(&out["files"]);
    assert!(
        files.contains(&"apps/web/deployment.yaml".to_owned()),
        "{}",
        seen(&run)
    );
    assert!(
        !files.iter().any(|f| f.contains("templates/")),
        "{}",
        seen(&run)
    );
    assert_eq!(s.refs(), before, "a dry run pushes nothing");
}

#[test]
fn check_does_not_parse_helm_templates_or_workflows_as_manifests() {
    let t = TestEnv::new();
    let s = shapes::chart_and_workflow(&t);
    let run = t.gitops(&s.repo, &["check", "--json"]);
    let check = run.json();
    let wrong: Vec<&Value> = findings(&check)
        .into_iter()
        .filter(|f| {
            let m = f["message"].to_string();
            f["check"] == "manifests-parse" || m.contains("templates/") || m.contains(".github/")
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "Helm templates and CI workflows are not manifests: {wrong:#?}\n{}",
        seen(&run)
    );
    run.expect(0);
}

#[test]
fn diff_lists_no_resource_for_chart_yaml_workflows_or_templates() {
    let t = TestEnv::new();
    let s = shapes::chart_and_workflow(&t);
    s.edit(
        "dev",
        "charts/web/Chart.yaml",
        |c| c.replace("version: 0.1.0", "version: 0.2.0"),
        "chart: 0.2.0",
    );
    s.edit(
        "dev",
        ".github/workflows/ci.yaml",
        |w| w.replace("v0.6.7", "v0.7.0"),
        "ci: kubeconform v0.7.0",
    );
    s.edit(
        "dev",
        "charts/web/templates/deployment.yaml",
        |d| d.replace("  template:\n", "  revisionHistoryLimit: 3\n  template:\n"),
        "chart: keep three revisions",
    );
    s.edit(
        "dev",
        "apps/web/deployment.yaml",
        |d| d.replace("replicas: 2", "replicas: 3"),
        "web: three replicas",
    );

    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    let diff = run.json();
    let wrong: Vec<&Value> = resources(&diff)
        .iter()
        .filter(|r| {
            let file = r["file"].as_str().unwrap_or_default();
            file.ends_with("Chart.yaml")
                || file.starts_with(".github/")
                || file.contains("/templates/")
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "Chart.yaml, workflows and templates are files, not resources: {wrong:#?}\n{}",
        seen(&run)
    );
    assert_eq!(
        fields_where(&diff, |p| p == "spec.replicas"),
        vec![&json!({"path": "spec.replicas", "from": 2, "to": 3})],
        "{}",
        seen(&run)
    );
    assert!(
        diff["unparseable"].as_array().is_none_or(Vec::is_empty),
        "a template is not an unparseable manifest\n{}",
        seen(&run)
    );

    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
}

// --- 6. kind: List ----------------------------------------------------------------------

const LIST: &str = "apps/workers/list.yaml";

#[test]
fn list_items_are_workloads_for_status_and_drift() {
    let t = TestEnv::new();
    let s = shapes::list_of_workers(&t);
    s.edit(
        "stage",
        LIST,
        |l| l.replace(&format!("mailer:{STAGE_TAG}"), "mailer:1.4.1-rc.1"),
        "stage: mailer 1.4.1-rc.1",
    );

    let run = t.gitops(&s.repo, &["status", "--json"]);
    run.expect(0);
    let status = run.json();
    for (env, mailer, indexer) in [
        ("dev", DEV_TAG, DEV_TAG),
        ("stage", "1.4.1-rc.1", STAGE_TAG),
        ("prod", PROD_TAG, PROD_TAG),
    ] {
        let images = &common::env(&status, env)["images"];
        assert_eq!(
            (
                &images["registry.example.com/shop/mailer"],
                &images["registry.example.com/shop/indexer"]
            ),
            (&json!(mailer), &json!(indexer)),
            "{env} runs the List's items\n{}",
            seen(&run)
        );
    }
    let stage = common::env(&status, "stage");
    assert_eq!(
        (&stage["drift"], &stage["drift_commits"]),
        (&json!(0), &json!([])),
        "retagging a List item is stage pinning its tag, not drift\n{}",
        seen(&run)
    );
}

// --- 7. apiVersion migrations ---------------------------------------------------------

const HPA: &str = "apps/web/hpa.yaml";
const WORKER: &str = "apps/worker/deployment.yaml";

fn migrated(t: &TestEnv) -> Shape<'_> {
    let s = shapes::old_api_versions(t);
    s.commit(
        "dev",
        &[(HPA, &shapes::hpa("autoscaling/v2", 60))],
        "web: autoscaling/v2, scale at 60% CPU",
    );
    s.edit(
        "dev",
        WORKER,
        |w| {
            w.replace("apiVersion: apps/v1beta2", "apiVersion: apps/v1")
                .replace(
                    "  replicas: 1\n",
                    "  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: worker\n",
                )
        },
        "worker: apps/v1",
    );
    s
}

/// The one resource `kind/name` of the plan: changed, with its apiVersion change
/// among its fields.
fn assert_migrated<'a>(
    diff: &'a Value,
    run: &Run,
    kind: &str,
    name: &str,
    from: &str,
    to: &str,
) -> &'a Value {
    let found = resources_named(diff, kind, name);
    assert_eq!(
        found.len(),
        1,
        "an apiVersion migration is one resource, not an addition and a removal: {found:#?}\n{}",
        seen(run)
    );
    let r = found[0];
    assert_eq!(r["change"], "changed", "{r:#}\n{}", seen(run));
    let fields = r["fields"].as_array().cloned().unwrap_or_default();
    assert!(
        fields.contains(&json!({"path": "apiVersion", "from": from, "to": to})),
        "the apiVersion change {from} → {to} is a field: {r:#}\n{}",
        seen(run)
    );
    r
}

#[test]
fn an_api_version_migration_is_one_changed_resource() {
    let t = TestEnv::new();
    let s = migrated(&t);
    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    let diff = run.json();

    let hpa = assert_migrated(
        &diff,
        &run,
        "HorizontalPodAutoscaler",
        "web",
        "autoscaling/v2beta2",
        "autoscaling/v2",
    );
    assert!(
        hpa["fields"].as_array().unwrap().iter().any(|f| f["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("averageUtilization"))
            && f["from"] == 70
            && f["to"] == 60),
        "the metric target 70 → 60: {hpa:#}"
    );
    let worker = assert_migrated(
        &diff,
        &run,
        "Deployment",
        "worker",
        "apps/v1beta2",
        "apps/v1",
    );
    assert!(
        worker["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("spec.selector"))),
        "the selector apps/v1 needs: {worker:#}"
    );
    assert!(
        resources(&diff).iter().all(|r| r["change"] == "changed"),
        "nothing added or removed: {:#}",
        diff["resources"]
    );

    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    assert_eq!(
        s.promoted("dev", "stage", HPA),
        shapes::hpa("autoscaling/v2", 60)
    );
}

// --- 8. Third-party images -----------------------------------------------------------

const CART: &str = "apps/cart/deployment.yaml";

/// dev's CI sets its cart tag and someone upgrades the redis sidecar.
fn redis_upgraded_on_dev<'t>(t: &'t TestEnv, name: &str, extra_config: &str) -> Shape<'t> {
    let s = shapes::sidecar_shop(t, name, extra_config);
    s.edit(
        "dev",
        CART,
        |c| c.replace(&format!("cart:{DEV_TAG}"), &format!("cart:{NEW_DEV_TAG}")),
        &format!("cart: {NEW_DEV_TAG}"),
    );
    s.edit(
        "dev",
        CART,
        |c| c.replace("redis:7.2.4", "redis:7.4.0"),
        "cart: redis 7.4.0",
    );
    s
}

#[test]
fn a_third_party_sidecar_travels_when_images_names_the_teams_own() {
    let t = TestEnv::new();
    let s = redis_upgraded_on_dev(&t, "sidecar", SHOP_IMAGES);

    let run = t.gitops(&s.repo, &["check", "--json"]);
    let check = run.json();
    let policy: Vec<&Value> = findings(&check)
        .into_iter()
        .filter(|f| f["check"] == "tag-policy")
        .collect();
    assert!(
        policy.is_empty(),
        "redis is not the team's image: no policy judges it: {policy:#?}\n{}",
        seen(&run)
    );
    run.expect(0);

    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    let diff = run.json();
    assert_eq!(
        fields_where(&diff, |p| p.ends_with("containers[name=redis].image")),
        vec![&json!({
            "path": "spec.template.spec.containers[name=redis].image",
            "from": "redis:7.2.4",
            "to": "redis:7.4.0",
        })],
        "the redis upgrade is a change\n{}",
        seen(&run)
    );

    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    let pushed = s.promoted("dev", "stage", CART);
    assert!(
        pushed.contains("image: redis:7.4.0")
            && pushed.contains(&format!("cart:{STAGE_TAG}"))
            && !pushed.contains(NEW_DEV_TAG),
        "redis 7.4.0 travels, cart keeps stage's {STAGE_TAG}:\n{pushed}\n{}",
        seen(&run)
    );
}

#[test]
fn without_images_a_held_back_third_party_upgrade_is_a_warning() {
    let t = TestEnv::new();
    let s = redis_upgraded_on_dev(&t, "sidecar-pinned", "");
    let says_held_back = |w: &str| w.contains("redis") && w.contains("images:");

    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    let pushed = s.promoted("dev", "stage", CART);
    assert!(
        pushed.contains("image: redis:7.2.4") && pushed.contains(&format!("cart:{STAGE_TAG}")),
        "without `images:` every image is pinned, redis too:\n{pushed}"
    );
    assert!(
        warnings(&run.json()).iter().any(|w| says_held_back(w)),
        "the promotion warns that redis 7.4.0 is held back and points at `images:`\n{}",
        seen(&run)
    );

    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    assert!(
        warnings(&run.json()).iter().any(|w| says_held_back(w)),
        "{}",
        seen(&run)
    );
    let run = t.gitops(&s.repo, &["diff", "stage"]);
    run.expect(0);
    assert!(
        says_held_back(&format!("{}{}", run.stdout, run.stderr)),
        "the human diff says redis is held back and mentions `images:`\n{}",
        seen(&run)
    );
}

// --- 9. One image whatever the Docker Hub spelling ------------------------------------

#[test]
fn redis_docker_io_redis_and_docker_io_library_redis_are_one_image() {
    let t = TestEnv::new();
    let s = shapes::redis_three_ways(&t);

    let run = t.gitops(&s.repo, &["status", "--json"]);
    run.expect(0);
    let status = run.json();
    for env in ["dev", "stage", "prod"] {
        let images = common::env(&status, env)["images"]
            .as_object()
            .unwrap_or_else(|| panic!("{}", seen(&run)));
        let redis: Vec<(&String, &Value)> = images
            .iter()
            .filter(|(k, _)| k.rsplit('/').next() == Some("redis"))
            .collect();
        assert_eq!(
            redis.len(),
            1,
            "{env}: one redis image, not one per spelling: {redis:?}\n{}",
            seen(&run)
        );
        assert_eq!(redis[0].1, "7.2.4", "{}", seen(&run));
    }

    let all = [
        "apps/cache/deployment.yaml",
        "apps/queue/deployment.yaml",
        "apps/sessions/statefulset.yaml",
    ];
    for name in ["redis", "docker.io/library/redis"] {
        let run = t.gitops(
            &s.repo,
            &[
                "image",
                "set",
                name,
                "7.4.0",
                "--env",
                "dev",
                "--dry-run",
                "--json",
            ],
        );
        run.expect(0);
        let mut files = common::strings(&run.json()["files"]);
        files.sort();
        assert_eq!(
            files,
            all,
            "`image set {name}` finds every spelling\n{}",
            seen(&run)
        );
    }
}

// --- 10. Small ones ----------------------------------------------------------------------

const WEB: &str = "apps/web/deployment.yaml";

#[test]
fn an_argument_inserted_first_is_one_field_change() {
    let t = TestEnv::new();
    let s = shapes::args_shop(&t);
    s.edit(
        "dev",
        WEB,
        |d| {
            d.replace(
                "args: [--port=8080",
                "args: [--metrics-addr=:9090, --port=8080",
            )
        },
        "web: expose metrics",
    );
    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    let diff = run.json();
    let args = fields_where(&diff, |p| p.contains(".args"));
    assert_eq!(
        args.len(),
        1,
        "one argument inserted is one change, not one per shifted item: {args:#?}\n{}",
        seen(&run)
    );
    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
}

#[test]
fn an_added_env_var_is_one_field_change_with_the_whole_item() {
    let t = TestEnv::new();
    let s = shapes::args_shop(&t);
    s.edit(
        "dev",
        WEB,
        |d| {
            d.replace(
                "              value: info\n",
                "              value: info\n            - name: FEATURE_SEARCH\n              value: \"on\"\n",
            )
        },
        "web: turn on search",
    );
    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    let diff = run.json();
    let feature = fields_where(&diff, |p| p.contains("FEATURE_SEARCH"));
    assert_eq!(
        feature,
        vec![&json!({
            "path": "spec.template.spec.containers[name=web].env[name=FEATURE_SEARCH]",
            "to": {"name": "FEATURE_SEARCH", "value": "on"},
        })],
        "an added list item is one change whose `to` is the item\n{}",
        seen(&run)
    );
}

#[test]
fn kept_entries_carry_their_file_in_diff_and_promote() {
    let t = TestEnv::new();
    let s = shapes::plain_shop(&t, "kept", "");
    s.retag(
        "dev",
        DEV_TAG,
        NEW_DEV_TAG,
        &format!("web and cart: {NEW_DEV_TAG}"),
    );
    s.edit(
        "dev",
        "apps/cart/deployment.yaml",
        |d| d.replace("replicas: 2", "replicas: 3"),
        "cart: three replicas",
    );
    let check = |plan: &Value, run: &Run| {
        let kept = kept(plan);
        assert_eq!(
            kept.len(),
            2,
            "web's and cart's tags are kept\n{}",
            seen(run)
        );
        for k in kept {
            let file = k["file"].as_str().unwrap_or_default();
            assert!(
                file.starts_with("apps/") && file.ends_with("/deployment.yaml"),
                "a kept entry names its file: {k}\n{}",
                seen(run)
            );
        }
    };
    let run = t.gitops(&s.repo, &["diff", "stage", "--json"]);
    run.expect(0);
    check(&run.json(), &run);
    let run = t.gitops(&s.repo, &["promote", "stage", "--dry-run", "--json"]);
    run.expect(0);
    check(&run.json(), &run);
    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    check(&run.json(), &run);
}

#[test]
fn check_marks_the_checks_it_could_not_run_as_skipped() {
    const CHECKS: [&str; 8] = [
        "branches",
        "consistent-environments",
        "config-same-on-branches",
        "drift",
        "tag-policy",
        "manifests-parse",
        "protection",
        "stale-features",
    ];
    let t = TestEnv::new();
    let good = shapes::plain_shop(&t, "good", "");
    let bad = t.plain_dir("not-a-repo");
    let dir = t.mkdir("workspace");
    let workspace = dir.join("repos.yaml");
    let (good_path, bad_path) = (
        good.repo.to_str().unwrap().to_owned(),
        bad.to_str().unwrap().to_owned(),
    );
    std::fs::write(
        &workspace,
        format!("repos:\n  - '{good_path}'\n  - '{bad_path}'\n"),
    )
    .unwrap();
    let ws = workspace.to_str().unwrap();

    let run = t.gitops(&dir, &["check", "--workspace", ws, "--json"]);
    run.expect(1);
    let doc = run.json();
    let report = |path: &str| {
        doc["repos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["repo"] == path)
            .unwrap_or_else(|| panic!("no report for {path}\n{}", seen(&run)))
            .clone()
    };
    assert_eq!(report(&good_path)["ok"], true, "{}", seen(&run));
    let bad_report = report(&bad_path);
    let failed: Vec<&str> = bad_report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert!(
        !failed.is_empty(),
        "the unreadable repository fails\n{}",
        seen(&run)
    );
    for check in CHECKS {
        assert!(
            failed.contains(&check) || bad_report["skipped"].get(check).is_some(),
            "`{check}` could not run on an unreadable repository: it is skipped, not passed\n{}",
            seen(&run)
        );
    }

    let run = t.gitops(&dir, &["check", "--workspace", ws]);
    run.expect(1);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&bad_path))
        .unwrap_or_else(|| panic!("no row for {bad_path}\n{}", seen(&run)));
    let cells: Vec<&str> = row[bad_path.len()..].split_whitespace().collect();
    assert_eq!(cells.len(), CHECKS.len(), "{row}\n{}", seen(&run));
    assert!(
        cells.iter().all(|c| *c == "-" || *c == "✗"),
        "no ✓ for a check that could not run: {row}\n{}",
        seen(&run)
    );
}

// --- Found while benchmarking ------------------------------------------------------------

/// `-C` with a relative path: the promotion's temporary index must not be
/// resolved against the repository twice (`config/config/.git/...`).
#[test]
fn promote_works_with_a_relative_dash_c() {
    let t = TestEnv::new();
    let s = shapes::plain_shop(&t, "relative", "");
    s.retag(
        "dev",
        DEV_TAG,
        NEW_DEV_TAG,
        &format!("web and cart: {NEW_DEV_TAG}"),
    );
    s.edit(
        "dev",
        "apps/cart/deployment.yaml",
        |d| d.replace("replicas: 2", "replicas: 3"),
        "cart: three replicas",
    );
    let parent = s.repo.parent().unwrap();
    let run = t.gitops(
        parent,
        &["-C", "config", "promote", "stage", "--dry-run", "--json"],
    );
    run.expect(0);
    assert_eq!(run.json()["action"], "planned", "{}", seen(&run));
}

/// Environments that have not diverged yet (all three at one commit, as after
/// `gitops init`): dev's new `newTag` in a kustomization is a pinned value, so
/// `status` lists nothing pending for stage, as `diff stage` shows no change.
#[test]
fn a_new_kustomize_tag_alone_is_not_pending_where_the_target_never_pinned() {
    let t = TestEnv::new();
    let web = shapes::deployment(
        "apps/v1",
        "web",
        &shapes::container("web", "registry.example.com/shop/web"),
    );
    let s = Shape::new(
        &t,
        "kustomize-fresh",
        &[
            (".gitops.yaml", &shapes::config("")),
            (KUSTOMIZATION, &shapes::kustomization(DEV_TAG)),
            ("apps/web/deployment.yaml", &web),
            ("apps/web/service.yaml", &shapes::service("web")),
        ],
    );
    new_web_build_on_dev(&s);
    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    let stage = common::env(&status, "stage");
    assert_eq!(stage["pending"], 1, "{stage:#}");
    assert_eq!(stage["pending_apps"], json!([]), "{stage:#}");
    let diff = t
        .gitops(&s.repo, &["diff", "stage", "--json"])
        .expect(0)
        .json();
    assert_eq!(diff["resources"], json!([]), "{diff:#}");
    assert!(!diff["kept"].as_array().unwrap().is_empty(), "{diff:#}");
}

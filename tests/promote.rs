//! `gitops promote ENV`: the promotion branch, built in the object store, pushed
//! with a lease, never over a person's work. These tests need no GitHub: the
//! sample's origin is a local bare repository, so the pull request step says to
//! open it by hand.

mod common;

use common::{promote_and_verify, TestEnv};
use gitops::cli::commands::promote::PromoteOut;
use gitops::cli::commands::Action;

const BRANCH: &str = "gitops/promote-dev-to-stage";

fn show(t: &TestEnv, repo: &std::path::Path, rev_path: &str) -> String {
    t.git(repo, &["show", rev_path])
}

#[test]
fn builds_the_promotion_branch_keeping_the_targets_image_tags() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.state(&s.repo);
    let stage = t.rev(&s.origin, "stage");
    let dev = t.rev(&s.origin, "dev");

    let run = promote_and_verify(&t, &s.repo, "stage", &["stage"]);
    run.expect(0);
    let out: PromoteOut = run.parse();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    assert_eq!((out.from.as_str(), out.to.as_str()), ("dev", "stage"));
    assert_eq!(out.branch.as_deref(), Some(BRANCH));
    assert_eq!(out.pull_request, None);
    assert_eq!(out.compare_url, None, "origin is not on GitHub");
    assert_eq!(out.title.as_deref(), Some("Promote dev to stage"));
    assert!(out
        .body
        .as_deref()
        .unwrap()
        .contains("<!-- gitops:promotion dev->stage -->"));
    assert_eq!(out.commits, 2);
    let files: Vec<&str> = out.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        ["apps/cart/deployment.yaml", "apps/web/deployment.yaml"]
    );

    // A merge of dev into stage on origin.
    let tip = t.rev(&s.origin, BRANCH);
    assert_eq!(out.commit.as_deref(), Some(tip.as_str()));
    let parents = t.git(&s.origin, &["rev-list", "--parents", "-n1", &tip]);
    assert_eq!(
        parents.split_whitespace().skip(1).collect::<Vec<_>>(),
        [stage.as_str(), dev.as_str()]
    );
    // dev's changes travel, stage's tags stay.
    let cart = show(&t, &s.origin, &format!("{tip}:apps/cart/deployment.yaml"));
    assert!(cart.contains("REDIS_URL"), "{cart}");
    assert!(
        cart.contains("registry.example.com/shop/cart:2.1.0-rc.1"),
        "{cart}"
    );
    assert!(
        !cart.contains("5a6b7c8"),
        "dev's tag must not reach stage: {cart}"
    );
    let web = show(&t, &s.origin, &format!("{tip}:apps/web/deployment.yaml"));
    assert!(
        web.contains("256Mi") && web.contains("shop/web:1.9.0-rc.1"),
        "{web}"
    );
    // A commit by gitops, dated now (GITOPS_NOW), its message ending as git's do,
    // and both repositories sound.
    let who = t.git(
        &s.origin,
        &["log", "-1", "--format=%an <%ae> %at|%cn <%ce> %ct", &tip],
    );
    let gitops = format!("gitops <gitops@users.noreply.github.com> {}", common::NOW);
    assert_eq!(who.trim(), format!("{gitops}|{gitops}"));
    let raw = t.git(&s.origin, &["cat-file", "commit", &tip]);
    assert!(raw.ends_with("\n") && !raw.ends_with("\n\n"), "{raw:?}");
    for repo in [&s.repo, &s.origin] {
        t.git(
            repo,
            &["fsck", "--strict", "--no-dangling", "--no-progress"],
        );
    }
    // Nothing else moved, and the checkout is as it was.
    assert_eq!(t.rev(&s.origin, "stage"), stage);
    assert_eq!(
        t.state(&s.repo)
            .replace(&format!("refs/remotes/origin/{BRANCH} {tip}\n"), ""),
        before
    );
}

#[test]
fn a_rerun_with_nothing_new_changes_nothing_and_a_new_commit_refreshes_the_branch() {
    let t = TestEnv::new();
    let s = t.quickstart();
    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
    let first = t.rev(&s.origin, BRANCH);

    let out = promote_and_verify(&t, &s.repo, "stage", &["stage"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Unchanged, "{out:#?}");
    assert_eq!(t.rev(&s.origin, BRANCH), first);

    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let text = std::fs::read_to_string(dev.join("apps/checkout/deployment.yaml")).unwrap();
    t.commit_file(
        &dev,
        "apps/checkout/deployment.yaml",
        &text.replace("cpu: 100m", "cpu: 200m"),
        "checkout: more cpu",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    let out = promote_and_verify(&t, &s.repo, "stage", &["stage"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    assert_eq!(out.commits, 3);
    let tip = t.rev(&s.origin, BRANCH);
    assert_ne!(tip, first);
    let checkout = show(
        &t,
        &s.origin,
        &format!("{tip}:apps/checkout/deployment.yaml"),
    );
    assert!(
        checkout.contains("cpu: 200m") && checkout.contains("checkout:3.0.2-rc.3"),
        "{checkout}"
    );
}

#[test]
fn conflicts_on_tags_resolve_to_the_target_and_its_hotfix_stays() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // stage → prod: every deployment's tag line differs on both sides.
    let out = promote_and_verify(&t, &s.repo, "prod", &["prod", "--yes"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    let tip = t.rev(&s.origin, "gitops/promote-stage-to-prod");
    let checkout = show(
        &t,
        &s.origin,
        &format!("{tip}:apps/checkout/deployment.yaml"),
    );
    assert!(
        checkout.contains("checkout:3.0.1"),
        "prod keeps its release: {checkout}"
    );
    assert!(
        checkout.contains("PAYMENT_TIMEOUT"),
        "prod's hotfix stays: {checkout}"
    );
    assert!(!checkout.contains("<<<<<<<"), "{checkout}");
    let catalogue = show(
        &t,
        &s.origin,
        &format!("{tip}:apps/catalogue/deployment.yaml"),
    );
    assert!(
        catalogue.contains("replicas: 2") && catalogue.contains("catalogue:1.3.0"),
        "{catalogue}"
    );
}

#[test]
fn a_real_conflict_stops_names_the_files_and_the_drift_and_leaves_nothing() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // A hotfix straight on stage to the same line dev changed.
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    let text = std::fs::read_to_string(stage.join("apps/web/deployment.yaml")).unwrap();
    t.commit_file(
        &stage,
        "apps/web/deployment.yaml",
        &text.replace("memory: 128Mi", "memory: 512Mi"),
        "Hotfix: web memory 512Mi",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let origin_before = t.refs(&s.origin);

    let run = t.gitops(&s.repo, &["promote", "stage"]);
    let error = run.refused();
    assert!(error.contains("apps/web/deployment.yaml"), "{error}");
    assert!(
        run.hint().contains("Hotfix: web memory 512Mi"),
        "the drift commit is named: {}",
        run.stderr
    );
    // Only the drift status shows, not stage's commits that pin its own tags.
    assert!(
        !run.hint().contains("Pin stage images"),
        "a tag-pinning commit is not blamed: {}",
        run.stderr
    );
    assert_eq!(t.refs(&s.origin), origin_before, "nothing pushed");
}

#[test]
fn never_overwrites_a_persons_commit_on_the_promotion_branch() {
    let t = TestEnv::new();
    let s = t.quickstart();
    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
    let other = t.clone(&s.origin, "other", BRANCH);
    t.commit_file(
        &other,
        "notes.txt",
        "fix\n",
        "A person's fix on the promotion branch",
    );
    t.git(&other, &["push", "--quiet", "origin", BRANCH]);
    let theirs = t.rev(&s.origin, BRANCH);
    // Something new to promote, so gitops would want to rebuild the branch.
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.commit_file(
        &dev,
        "apps/web/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
        "web: extra config",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);

    let run = t.gitops(&s.repo, &["promote", "stage"]);
    let error = run.refused();
    assert!(error.contains("A person's fix"), "{error}");
    assert_eq!(
        t.rev(&s.origin, BRANCH),
        theirs,
        "their commit is still there"
    );
}

#[test]
fn a_new_workload_needs_a_tag_the_targets_policy_accepts() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let redis = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: redis\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: redis\n          image: registry.example.com/shop/redis:9f8e7d6\n";
    t.commit_file(&dev, "apps/redis/deployment.yaml", redis, "Add redis");
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    let origin_before = t.refs(&s.origin);

    let run = t.gitops(&s.repo, &["promote", "stage"]);
    let error = run.refused();
    assert!(error.contains("registry.example.com/shop/redis"), "{error}");
    assert!(run.hint().contains("--set-image"), "{}", run.stderr);
    assert_eq!(t.refs(&s.origin), origin_before, "nothing pushed");

    let run = t.gitops(&s.repo, &["promote", "stage", "--set-image", "redis=7.2.4"]);
    run.refused(); // 7.2.4 is not a release candidate: stage's policy refuses it too

    let out = promote_and_verify(
        &t,
        &s.repo,
        "stage",
        &["stage", "--set-image", "redis=7.2.4-rc.1"],
    )
    .expect(0)
    .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Pushed);
    let tip = t.rev(&s.origin, BRANCH);
    let file = show(&t, &s.origin, &format!("{tip}:apps/redis/deployment.yaml"));
    assert!(file.contains("shop/redis:7.2.4-rc.1"), "{file}");
}

#[test]
fn dry_run_prints_the_plan_and_pushes_nothing() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.refs(&s.origin);
    let run = t.gitops(&s.repo, &["promote", "prod", "--dry-run"]);
    run.expect(0);
    assert!(
        run.stdout.contains("Promote stage to prod"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("<!-- gitops:promotion stage->prod -->"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Drift on prod"), "{}", run.stdout);
    assert_eq!(t.refs(&s.origin), before);
}

#[test]
fn refusals() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.refs(&s.origin);
    // prod asks first; there is no terminal here.
    let run = t.gitops(&s.repo, &["promote", "prod"]);
    assert!(run.refused().contains("confirmation"));
    assert!(run.hint().contains("--yes"));
    t.gitops(&s.repo, &["promote", "dev"]).refused();
    t.gitops(&s.repo, &["promote", "qa"]).refused();
    t.gitops(&s.repo, &["promote", "stage", "--set-image", "redis"])
        .refused();
    t.gitops(
        &s.repo,
        &["promote", "stage", "--set-image", "redis=bad tag"],
    )
    .refused();
    assert_eq!(t.refs(&s.origin), before);
    // Nothing pending: exit 0, no branch.
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.git(
        &dev,
        &[
            "push",
            "--quiet",
            "--force",
            "origin",
            "origin/stage:refs/heads/dev",
        ],
    );
    let out = promote_and_verify(&t, &s.repo, "stage", &["stage"])
        .expect(0)
        .parse::<PromoteOut>();
    assert_eq!(out.action, Action::Nothing);
    assert_eq!(out.branch, None);
    assert!(
        t.try_git(&s.origin, &["rev-parse", "--verify", BRANCH])
            .code
            != 0
    );
}

/// The config's pinned keys: the target's own value survives the merge; a change
/// the source makes to one is refused, never let through unseen.
#[test]
fn configured_pinned_keys_are_never_overwritten() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let config = t.git(&dev, &["show", "HEAD:.gitops.yaml"]);
    std::fs::write(
        dev.join(".gitops.yaml"),
        format!("{config}pinned:\n  - files: \"apps/*/values.yaml\"\n    keys: [replicaCount]\n"),
    )
    .unwrap();
    t.commit_file(
        &dev,
        "apps/web/values.yaml",
        "replicaCount: 1\nlogLevel: info\n",
        "web: values",
    );
    t.commit_file(
        &dev,
        "apps/cart/values.yaml",
        "replicaCount: 1\nlogLevel: info\n",
        "cart: values",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    // Promote, and merge the pull request (a fast-forward of stage to the branch).
    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    t.git(
        &stage,
        &["merge", "--quiet", "--ff-only", &format!("origin/{BRANCH}")],
    );
    // stage pins its own web replica count.
    t.commit_file(
        &stage,
        "apps/web/values.yaml",
        "replicaCount: 2\nlogLevel: info\n",
        "stage: two web replicas",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);

    // dev changes another key: stage's pinned 2 stays.
    t.commit_file(
        &dev,
        "apps/web/values.yaml",
        "replicaCount: 1\nlogLevel: debug\n",
        "web: debug logs",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
    let tip = t.rev(&s.origin, BRANCH);
    let values = show(&t, &s.origin, &format!("{tip}:apps/web/values.yaml"));
    assert_eq!(values, "replicaCount: 2\nlogLevel: debug\n");

    // dev changes cart's pinned key, which stage never set itself: stage's value
    // still stays — pinned values never travel.
    t.commit_file(
        &dev,
        "apps/cart/values.yaml",
        "replicaCount: 5\nlogLevel: info\n",
        "cart: five replicas",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    promote_and_verify(&t, &s.repo, "stage", &["stage"]).expect(0);
    let tip = t.rev(&s.origin, BRANCH);
    let values = show(&t, &s.origin, &format!("{tip}:apps/cart/values.yaml"));
    assert_eq!(values, "replicaCount: 1\nlogLevel: info\n");

    // Keys pin their path from the document's root: `replicaCount` pins the
    // top-level one only, so a nested `worker.replicaCount` travels while stage's
    // own top-level value stays.
    t.commit_file(
        &dev,
        "apps/cart/values.yaml",
        "replicaCount: 5\nlogLevel: info\nworker:\n  replicaCount: 2\n",
        "cart: a worker",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    t.gitops(&s.repo, &["promote", "stage"]).expect(0);
    let tip = t.rev(&s.origin, BRANCH);
    let values = show(&t, &s.origin, &format!("{tip}:apps/cart/values.yaml"));
    assert_eq!(
        values,
        "replicaCount: 1\nlogLevel: info\nworker:\n  replicaCount: 2\n"
    );
}

#[test]
fn an_unreachable_origin_is_exit_3_and_dry_run_still_plans() {
    let t = TestEnv::new();
    let s = t.quickstart();
    t.git(
        &s.repo,
        &["remote", "set-url", "origin", "/nonexistent/origin.git"],
    );
    let run = t.gitops(&s.repo, &["promote", "stage"]);
    run.expect(3);
    assert!(run.error_line().contains("origin"), "{}", run.stderr);
    assert!(run.hint().contains("--dry-run"), "{}", run.stderr);
    let run = t.gitops(&s.repo, &["promote", "stage", "--dry-run"]);
    run.expect(0);
    assert!(
        run.stdout.contains("Promote dev to stage"),
        "{}",
        run.stdout
    );
}

/// `confirm: true` environments ask on a terminal: `n` pushes nothing, `y`
/// promotes. The terminal is a pseudo-terminal from util-linux's `script`.
#[test]
fn confirm_environments_ask_on_a_terminal() {
    use std::io::Write;
    let t = TestEnv::new();
    let s = t.quickstart();
    let answer = |key: &str| {
        let cmd = format!(
            "{} promote prod --color never",
            env!("CARGO_BIN_EXE_gitops")
        );
        let mut child = t
            .command("script", &s.repo)
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs the command on a pseudo-terminal");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(key.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, screen) = answer("n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("Promote stage to prod?"), "{screen}");
    assert!(
        t.try_git(
            &s.origin,
            &["rev-parse", "--verify", "gitops/promote-stage-to-prod"]
        )
        .code
            != 0,
        "nothing pushed"
    );
    let (code, screen) = answer("y");
    assert_eq!(code, Some(0), "{screen}");
    t.rev(&s.origin, "gitops/promote-stage-to-prod");
}

/// A file's mode and blob in a commit, as `git ls-tree` shows them.
fn mode(t: &TestEnv, repo: &std::path::Path, rev: &str, path: &str) -> String {
    t.git(repo, &["ls-tree", rev, "--", path])
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_executable_manifest_stays_executable_through_a_promotion() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let file = "apps/web/deployment.yaml";
    for env in ["stage", "dev"] {
        let clone = t.clone(&s.origin, &format!("{env}-clone"), env);
        t.git(&clone, &["update-index", "--chmod=+x", file]);
        t.git(
            &clone,
            &[
                "commit",
                "--quiet",
                "--no-gpg-sign",
                "-m",
                "web: executable",
            ],
        );
        if env == "dev" {
            // And a change that promotes, so the file is rewritten with stage's tag.
            let text = std::fs::read_to_string(clone.join(file)).unwrap();
            std::fs::write(clone.join(file), text.replace("256Mi", "512Mi")).unwrap();
            t.git(
                &clone,
                &[
                    "commit",
                    "--quiet",
                    "--no-gpg-sign",
                    "-am",
                    "web: more memory",
                ],
            );
        }
        t.git(&clone, &["push", "--quiet", "origin", env]);
    }
    t.gitops(&s.repo, &["promote", "stage"]).expect(0);
    assert_eq!(mode(&t, &s.origin, BRANCH, file), "100755");
    let text = show(&t, &s.origin, &format!("{BRANCH}:{file}"));
    assert!(text.contains("512Mi"), "{text}");
    assert!(
        text.contains("shop/web:1.9.0-rc.1"),
        "stage's tag kept:\n{text}"
    );
}

/// A manifest the promotion changes that does not parse cannot have the
/// target's pinned values set in it: `promote` names it and pushes nothing
/// (`diff` still shows the plan with it). A template (`{{`) is no manifest.
#[test]
fn a_manifest_that_does_not_parse_is_never_promoted() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    t.commit_file(
        &dev,
        "apps/cart/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec: [oops\n",
        "cart: broken",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    let origin = t.refs(&s.origin);

    let run = t.gitops(&s.repo, &["promote", "stage", "--yes"]);
    run.expect(2);
    let said = run.refused();
    assert!(
        said.contains("manifests this promotion changes do not parse, so stage's pinned values cannot be kept in them: apps/cart/deployment.yaml:"),
        "{}",
        run.stderr
    );
    assert!(run.hint().starts_with("fix them on dev"), "{}", run.stderr);
    assert_eq!(t.refs(&s.origin), origin, "nothing pushed");
    t.gitops(&s.repo, &["diff", "stage"]).expect(0);

    // Mended, with a Go template beside it: the promotion goes through.
    t.commit_file(
        &dev,
        "apps/cart/deployment.yaml",
        &std::fs::read_to_string(s.repo.join("apps/cart/deployment.yaml")).unwrap(),
        "cart: mended",
    );
    t.commit_file(
        &dev,
        "apps/cart/notes.yaml",
        "name: {{ .Values.name }}\n{{- if .Values.x }}\n",
        "cart: a template",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    t.gitops(&s.repo, &["promote", "stage", "--yes"]).expect(0);
}

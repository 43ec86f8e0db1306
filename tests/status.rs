//! `gitops status`: what each environment runs, what is waiting, what drifted.

mod common;

use common::{env, strings, TestEnv};
use gitops::engine::overview::Status;
use serde_json::{json, Value};

#[test]
fn json_shows_every_environment_in_order() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status: Status = t.gitops(&s.repo, &["status", "--json"]).expect(0).parse();

    let names: Vec<&str> = status
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["dev", "stage", "prod"]);

    for (e, (upstream, pending, drift)) in
        status
            .environments
            .iter()
            .zip([(None, 0, 0), (Some("dev"), 2, 0), (Some("stage"), 3, 1)])
    {
        let name = e.name.as_str();
        assert_eq!(e.branch, name);
        assert_eq!(e.head.len(), 40, "{name}: head is the full id");
        assert!(
            e.head.chars().all(|c| c.is_ascii_hexdigit()),
            "{name}: {}",
            e.head
        );
        assert_eq!(
            e.head,
            t.rev(&s.repo, &format!("origin/{name}")),
            "{name}: head"
        );
        assert_eq!(
            e.head,
            t.rev(&s.origin, name),
            "{name}: head is origin's branch"
        );
        assert_eq!(e.upstream.as_deref(), upstream, "{name}: upstream");
        assert_eq!(e.pending, pending, "{name}: pending");
        assert_eq!(e.drift, drift, "{name}: drift");
        assert_eq!(e.drift_commits.len(), drift, "{name}: drift commits");
        assert_eq!(e.pull_request, None, "{name}: no token, no pull request");

        let keys: Vec<&String> = e.images.keys().collect();
        assert_eq!(
            keys,
            [
                "registry.example.com/shop/cart",
                "registry.example.com/shop/catalogue",
                "registry.example.com/shop/checkout",
                "registry.example.com/shop/web",
            ],
            "{name}: image names without tags"
        );
        assert!(
            e.policy_violations.is_empty(),
            "{name}: {:?}",
            e.policy_violations
        );
        assert!(e.unparseable.is_empty(), "{name}: {:?}", e.unparseable);
    }
    // Each environment runs the tags its policy asks for.
    let cart = "registry.example.com/shop/cart";
    let [dev, stage, prod] = &status.environments[..] else {
        panic!("three environments")
    };
    assert_eq!(dev.images[cart], "5a6b7c8");
    assert_eq!(stage.images[cart], "2.1.0-rc.1");
    assert_eq!(prod.images[cart], "2.0.4");

    assert_eq!(stage.pending_apps, ["cart", "web"]);
    // Checkout differs between stage and prod only by prod's pinned tag and prod's
    // own hotfix, which a promotion keeps: only catalogue's replicas are waiting.
    assert_eq!(prod.pending_apps, ["catalogue"]);
    assert_eq!(status.not_fetched, None, "origin was fetched");
}

#[test]
fn the_human_view() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let run = t.gitops(&s.repo, &["status", "--no-fetch"]);
    run.expect(0);
    insta::assert_snapshot!("status_quickstart", run.stdout);
}

#[test]
fn the_answer_does_not_depend_on_the_checkout() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();

    // A feature branch checked out, a tracked file changed, an untracked file, and
    // a committed change that was never pushed.
    t.git(&s.repo, &["switch", "--quiet", "-c", "local-work"]);
    t.commit_file(
        &s.repo,
        "apps/cart/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\nspec:\n  replicas: 9\n",
        "local only",
    );
    std::fs::write(
        s.repo.join("apps/web/deployment.yaml"),
        "kind: Broken\n  : [\n",
    )
    .unwrap();
    std::fs::write(s.repo.join("apps/new.yaml"), "image: nope:latest\n").unwrap();
    std::fs::write(s.repo.join(".gitops.yaml"), "enviroments: typo\n").unwrap();

    let after = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(after, before);
}

#[test]
fn fetches_origin_first_unless_told_not_to() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let old_dev = t.rev(&s.repo, "origin/dev");

    // Someone else pushes to dev.
    let other = t.clone(&s.origin, "other", "dev");
    let new_dev = t.commit_file(&other, "apps/cart/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: shop\ndata:\n  a: b\n", "cart: add a config map");
    t.git(&other, &["push", "--quiet", "origin", "dev"]);

    // Not fetched: the state fetched last.
    let stale = t
        .gitops(&s.repo, &["status", "--json", "--no-fetch"])
        .expect(0)
        .json();
    assert_eq!(env(&stale, "stage")["pending"], 2);
    assert_eq!(env(&stale, "dev")["head"], old_dev.as_str());
    assert!(stale["not_fetched"].is_string(), "says it did not fetch");

    // Fetched: the new commit is waiting for stage.
    let fresh = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(env(&fresh, "stage")["pending"], 3);
    assert_eq!(env(&fresh, "dev")["head"], new_dev.as_str());
    assert_eq!(fresh["not_fetched"], Value::Null);

    // And what was fetched is what --no-fetch shows next.
    let again = t
        .gitops(&s.repo, &["status", "--json", "--no-fetch"])
        .expect(0)
        .json();
    assert_eq!(env(&again, "stage")["pending"], 3);
    // The local dev branch was not touched.
    assert_eq!(t.rev(&s.repo, "dev"), old_dev);
}

#[test]
fn an_unreachable_origin_is_a_warning() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let reachable = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    t.git(&s.repo, &["remote", "set-url", "origin", "/nonexistent"]);

    let run = t.gitops(&s.repo, &["status", "--json"]);
    run.expect(0);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("a warning on stderr:\n{}", run.stderr));
    assert!(warning.contains("origin"), "{warning}");
    let status = run.json();
    assert!(status["not_fetched"].is_string(), "{status:#}");
    assert_eq!(
        status["environments"], reachable["environments"],
        "the state fetched last, complete"
    );

    // The human view says so too, and still shows every environment.
    let run = t.gitops(&s.repo, &["status"]);
    run.expect(0);
    assert!(run.stderr.contains("origin"), "{}", run.stderr);
    for name in ["dev", "stage", "prod"] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(name)),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn refuses_outside_a_repository() {
    let t = TestEnv::new();
    let dir = t.plain_dir("plain");
    let run = t.gitops(&dir, &["status"]);
    let error = run.refused();
    assert!(error.contains("not in a git repository"), "{error}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing created"
    );
}

/// A repository on `main` with one commit.
fn plain_repo(t: &TestEnv, name: &str) -> std::path::PathBuf {
    let repo = t.mkdir(name);
    t.git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    t.commit_file(
        &repo,
        "apps/web/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
        "first",
    );
    repo
}

#[test]
fn refuses_without_an_origin_remote() {
    let t = TestEnv::new();
    let repo = plain_repo(&t, "repo");
    let before = t.state(&repo);
    let run = t.gitops(&repo, &["status"]);
    let error = run.refused();
    assert!(error.contains("origin"), "{error}");
    assert!(
        run.hint().contains("git remote add origin"),
        "{}",
        run.stderr
    );
    assert_eq!(t.state(&repo), before);
}

#[test]
fn refuses_when_origin_lacks_the_environment_branches() {
    let t = TestEnv::new();
    let origin = t.mkdir("origin.git");
    t.git(
        &origin,
        &["init", "--quiet", "--bare", "--initial-branch=main"],
    );
    let repo = plain_repo(&t, "repo");
    t.git(
        &repo,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    t.git(&repo, &["push", "--quiet", "-u", "origin", "main"]);
    let (before, origin_before) = (t.state(&repo), t.refs(&origin));

    let run = t.gitops(&repo, &["status", "--json"]);
    let error = run.refused();
    for branch in ["dev", "stage", "prod"] {
        assert!(error.contains(branch), "names {branch}: {error}");
    }
    assert!(run.hint().contains("gitops init"), "{}", run.stderr);
    assert_eq!(run.stdout, "", "no JSON document for a refusal");
    assert_eq!(t.state(&repo), before);
    assert_eq!(t.refs(&origin), origin_before);
}

/// Commits `.gitops.yaml` with `text` on dev, pushes it, and runs `status`.
fn status_with_config(text: &str) -> (common::Run, bool) {
    let t = TestEnv::new();
    let s = t.quickstart();
    t.commit_file(&s.repo, ".gitops.yaml", text, "config: a typo");
    t.git(&s.repo, &["push", "--quiet", "origin", "dev"]);
    let (before, origin_before) = (t.state(&s.repo), t.refs(&s.origin));
    let run = t.gitops(&s.repo, &["status"]);
    let unchanged = t.state(&s.repo) == before && t.refs(&s.origin) == origin_before;
    (run, unchanged)
}

#[test]
fn a_config_key_typo_names_the_file_line_column_and_the_keys() {
    let (run, unchanged) = status_with_config("enviroments:\n  - name: dev\n  - name: stage\n");
    let error = run.refused();
    assert!(
        error.contains(".gitops.yaml:1:1:"),
        "file, line 1, column 1: {error}"
    );
    assert!(error.contains("enviroments"), "names the typo: {error}");
    for key in ["environments", "manifests", "pinned", "github"] {
        assert!(error.contains(key), "lists `{key}`: {error}");
    }
    assert!(run.hint().contains(".gitops.yaml"), "{}", run.stderr);
    assert!(unchanged, "nothing changed");
}

#[test]
fn an_unknown_tag_policy_names_the_line_and_column() {
    let (run, unchanged) = status_with_config(
        "environments:\n  - name: dev\n  - name: stage\n    tags: semvr\n  - name: prod\n",
    );
    let error = run.refused();
    assert!(
        error.contains(".gitops.yaml:4:11:"),
        "file, line 4, column 11: {error}"
    );
    assert!(error.contains("semvr"), "{error}");
    for policy in ["commit-sha", "semver-rc", "semver", "any", "regex:"] {
        assert!(error.contains(policy), "lists `{policy}`: {error}");
    }
    assert!(unchanged, "nothing changed");
}

#[test]
fn a_manifest_that_does_not_parse_is_reported_not_fatal() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let prod = t.clone(&s.origin, "prod-clone", "prod");
    t.commit_file(
        &prod,
        "apps/broken.yaml",
        "a: [1, 2\n",
        "Add a broken manifest",
    );
    t.git(&prod, &["push", "--quiet", "origin", "prod"]);

    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(status["environments"].as_array().unwrap().len(), 3);
    for name in ["dev", "stage", "prod"] {
        let e = env(&status, name);
        assert_eq!(
            e["images"].as_object().unwrap().len(),
            4,
            "{name}: every image still listed"
        );
    }
    let bad = env(&status, "prod")["unparseable"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["file"], "apps/broken.yaml");
    assert!(bad[0]["line"].as_u64().is_some_and(|l| l >= 1), "{bad:?}");
    for name in ["dev", "stage"] {
        assert_eq!(env(&status, name)["unparseable"], json!([]), "{name}");
    }

    let run = t.gitops(&s.repo, &["status", "--no-fetch"]);
    run.expect(0);
    let line = bad[0]["line"].as_u64().unwrap();
    assert!(
        run.stdout.contains(&format!("apps/broken.yaml:{line}")),
        "the human view names file and line:\n{}",
        run.stdout
    );
    for name in ["dev", "stage", "prod"] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(name)),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn dash_c_names_the_repository() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let here = t
        .gitops(&s.repo, &["status", "--json", "--no-fetch"])
        .expect(0)
        .json();
    let repo = s.repo.to_str().unwrap();
    let there = t
        .gitops(t.root(), &["-C", repo, "status", "--json", "--no-fetch"])
        .expect(0)
        .json();
    assert_eq!(there, here);
    // Also after the subcommand: the flag is global.
    let after = t
        .gitops(t.root(), &["status", "-C", repo, "--json", "--no-fetch"])
        .expect(0)
        .json();
    assert_eq!(after, here);
}

#[test]
fn colour_only_when_asked_and_never_in_json() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let plain = t
        .gitops(&s.repo, &["status", "--no-fetch"])
        .expect(0)
        .stdout
        .clone();
    assert!(
        !plain.contains('\u{1b}'),
        "no colour off a terminal:\n{plain}"
    );
    let coloured = t.gitops(&s.repo, &["status", "--no-fetch", "--color", "always"]);
    assert!(
        coloured.expect(0).stdout.contains("\u{1b}["),
        "{}",
        coloured.stdout
    );
    let json = t.gitops(
        &s.repo,
        &["status", "--json", "--no-fetch", "--color", "always"],
    );
    assert!(!json.expect(0).stdout.contains('\u{1b}'));
    json.json();
}

/// Drift is judged field by field against what the upstream has now: a hotfix on
/// stage that dev later makes too stops being drift, a hotfix reverted on the
/// branch stops being drift, and one that only pins image tags never was.
#[test]
fn drift_follows_the_values_not_the_lines() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let stage = t.clone(&s.origin, "stage-clone", "stage");
    let dev = t.clone(&s.origin, "dev-clone", "dev");
    let path = "apps/web/deployment.yaml";

    // A tag bump straight on stage: pinned, not drift.
    let text = std::fs::read_to_string(stage.join(path)).unwrap();
    t.commit_file(
        &stage,
        path,
        &text.replace("web:1.9.0-rc.1", "web:1.9.0-rc.2"),
        "web 1.9.0-rc.2",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(env(&status, "stage")["drift"], 0, "{status:#}");

    // A hotfix straight on stage: drift, with the field and both values.
    let text = std::fs::read_to_string(stage.join(path)).unwrap();
    t.commit_file(
        &stage,
        path,
        &text.replace("replicas: 1", "replicas: 3"),
        "Hotfix: three web replicas",
    );
    t.git(&stage, &["push", "--quiet", "origin", "stage"]);
    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    let stage_status = env(&status, "stage");
    assert_eq!(stage_status["drift"], 1, "{status:#}");
    let field = &stage_status["drift_commits"][0]["fields"][0];
    assert_eq!(field["path"], "spec.replicas");
    assert_eq!(field["value"], 3);
    assert_eq!(field["upstream"], 1);
    assert_eq!(
        stage_status["drift_commits"][0]["summary"],
        "Hotfix: three web replicas"
    );

    // dev makes the same change: the value is no longer stage's alone.
    let text = std::fs::read_to_string(dev.join(path)).unwrap();
    t.commit_file(
        &dev,
        path,
        &text.replace("replicas: 1", "replicas: 3"),
        "web: three replicas",
    );
    t.git(&dev, &["push", "--quiet", "origin", "dev"]);
    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(env(&status, "stage")["drift"], 0, "{status:#}");

    // On prod, reverting the hotfix leaves nothing to overwrite.
    let prod = t.clone(&s.origin, "prod-clone", "prod");
    t.git(&prod, &["revert", "--no-edit", "--no-gpg-sign", "HEAD"]);
    t.git(&prod, &["push", "--quiet", "origin", "prod"]);
    let status = t.gitops(&s.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(env(&status, "prod")["drift"], 0, "{status:#}");
}

/// A repository whose three environment branches start from one commit with
/// `files`, then dev gets `bump` on top. Returns the clone.
fn three_branches(
    t: &TestEnv,
    name: &str,
    files: &[(&str, &str)],
    bump: (&str, &str),
) -> std::path::PathBuf {
    let base = t.mkdir(name);
    let origin = base.join("origin.git");
    let work = base.join("work");
    let p = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    t.git(&base, &["init", "--quiet", "--bare", &p(&origin)]);
    t.git(&origin, &["symbolic-ref", "HEAD", "refs/heads/dev"]);
    t.git(&base, &["clone", "--quiet", &p(&origin), &p(&work)]);
    t.git(&work, &["checkout", "--quiet", "-B", "dev"]);
    for (file, text) in files {
        t.commit_file(&work, file, text, &format!("Add {file}"));
    }
    t.git(
        &work,
        &["push", "--quiet", "origin", "dev", "dev:stage", "dev:prod"],
    );
    t.commit_file(&work, bump.0, bump.1, "Bump redis");
    t.git(&work, &["push", "--quiet", "origin", "dev"]);
    t.git(&work, &["remote", "set-head", "origin", "dev"]);
    work
}

/// With `images:` in the config, a third-party image is not judged by the tag
/// policies and its tag travels with promotions like any value; without it,
/// every image is the team's: judged, and its tag pinned. A kustomization entry
/// that only renames sets no tag: neither shown nor judged.
#[test]
fn third_party_images_are_not_judged_and_their_tags_travel() {
    let t = TestEnv::new();
    let redis = |tag: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: cache}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: redis\n          image: redis:{tag}\n")
    };
    let kustomization = "resources: [deployment.yaml]\nimages:\n- name: registry.example.com/shop/web\n  newName: mirror.example.com/shop/web\n";
    let bump = redis("7.4");
    for (name, config, judged) in [
        (
            "scoped",
            "images: [\"registry.example.com/shop/*\"]\n",
            false,
        ),
        ("unscoped", "{}\n", true),
    ] {
        let repo = three_branches(
            &t,
            name,
            &[
                (".gitops.yaml", config),
                ("apps/cache/deployment.yaml", &redis("7.2")),
                ("apps/web/kustomization.yaml", kustomization),
            ],
            ("apps/cache/deployment.yaml", &bump),
        );
        let status = t.gitops(&repo, &["status", "--json"]).expect(0).json();
        for e in ["dev", "stage", "prod"] {
            let e = env(&status, e);
            let images: Vec<&String> = e["images"].as_object().unwrap().keys().collect();
            assert_eq!(
                images,
                ["redis"],
                "{name}: the rename alone is not shown: {e:#}"
            );
            let violations = e["policy_violations"].as_array().unwrap();
            assert_eq!(
                violations
                    .iter()
                    .map(|v| v["image"].as_str().unwrap())
                    .collect::<Vec<_>>(),
                if judged { vec!["redis"] } else { vec![] },
                "{name}: {e:#}"
            );
        }
        assert_eq!(env(&status, "dev")["images"]["redis"], "7.4");
        let stage = env(&status, "stage");
        assert_eq!(stage["pending"], 1, "{name}: {stage:#}");
        assert_eq!(
            strings(&stage["pending_apps"]),
            if judged {
                Vec::<String>::new()
            } else {
                vec!["cache".to_owned()]
            },
            "{name}: a third-party tag travels, a team tag is pinned: {stage:#}"
        );
        let run = t.gitops(&repo, &["status"]);
        let human = &run.expect(0).stdout;
        assert_eq!(human.contains("7.2 !"), judged, "{name}: {human}");
    }
}

/// Editing `.gitops.yaml` in the checkout changes nothing until it is merged:
/// `status` says so once, and answers from origin's configuration.
#[test]
fn a_local_config_edit_is_noted_not_used() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t.gitops(&s.repo, &["status", "--json"]);
    before.expect(0);
    assert!(!before.stderr.contains("differs"), "{}", before.stderr);
    let path = s.repo.join(".gitops.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("name: prod", "name: production")).unwrap();
    let run = t.gitops(&s.repo, &["status", "--json"]);
    run.expect(0);
    assert_eq!(
        run.stderr.matches("Your checkout's .gitops.yaml differs from the configuration in use (origin/dev:.gitops.yaml)").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("to try it first: gitops check --config .gitops.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["environments"], before.json()["environments"]);

    // Trying it as the note says: `check --config` uses the local file, whose
    // renamed environment's branch does not exist on origin, and does not
    // compare it with the branches' own copies.
    let tried = t.gitops(&s.repo, &["check", "--config", ".gitops.yaml", "--json"]);
    tried.expect(1);
    let report = &tried.json()["repos"][0];
    let drift = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "drift")
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect()
    };
    // The environment is named as the local file names it.
    assert!(
        drift(report)[0].starts_with("production carries "),
        "{report:#}"
    );
    assert!(
        report["skipped"]["config-same-on-branches"]
            .as_str()
            .unwrap()
            .contains("--config .gitops.yaml"),
        "{report:#}"
    );
    let plain = t.gitops(&s.repo, &["check", "--json"]).json();
    assert!(
        drift(&plain["repos"][0])[0].starts_with("prod carries "),
        "{plain:#}"
    );
    assert!(
        plain["repos"][0]["skipped"]
            .get("config-same-on-branches")
            .is_none(),
        "{plain:#}"
    );

    // A broken file is refused with its position, before any repository is read.
    std::fs::write(&path, "environments:\n  - name: dev\n    tags: [\n").unwrap();
    let broken = t.gitops(&s.repo, &["check", "--config", ".gitops.yaml"]);
    broken.expect(2);
    assert!(
        broken.refused().starts_with("error: .gitops.yaml:3:11: "),
        "{}",
        broken.stderr
    );
    let missing = t.gitops(&s.repo, &["check", "--config", "nowhere.yaml"]);
    missing.expect(2);
    assert!(
        missing.refused().contains("cannot read nowhere.yaml"),
        "{}",
        missing.stderr
    );
}

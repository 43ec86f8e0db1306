//! `gitops init`: write `.gitops.yaml` and create the missing environment branches.

mod common;

use std::path::PathBuf;

use common::TestEnv;

/// A repository with one commit on `main`, pushed to a bare origin whose HEAD is
/// `main`.
struct Fixture {
    repo: PathBuf,
    origin: PathBuf,
}

fn fixture(t: &TestEnv) -> Fixture {
    let origin = t.mkdir("origin.git");
    t.git(
        &origin,
        &["init", "--quiet", "--bare", "--initial-branch=main"],
    );
    let repo = t.mkdir("config");
    t.git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    t.commit_file(
        &repo,
        "apps/web/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web:3f9c2ab\n",
        "Add web",
    );
    t.git(
        &repo,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    t.git(&repo, &["push", "--quiet", "-u", "origin", "main"]);
    t.git(&repo, &["remote", "set-head", "origin", "--auto"]);
    Fixture { repo, origin }
}

/// The branches of a bare repository.
fn branches(t: &TestEnv, origin: &std::path::Path) -> Vec<String> {
    t.git(
        origin,
        &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// The environment names and branches of a written `.gitops.yaml`.
fn environments(path: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect(".gitops.yaml is written");
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).expect(".gitops.yaml is YAML");
    doc["environments"]
        .as_sequence()
        .expect("environments is a list")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().expect("a name").to_owned();
            let branch = e
                .get("branch")
                .and_then(|b| b.as_str())
                .unwrap_or(&name)
                .to_owned();
            (name, branch)
        })
        .collect()
}

#[test]
fn without_a_terminal_or_yes_it_shows_the_plan_and_changes_nothing() {
    let t = TestEnv::new();
    let f = fixture(&t);
    let (before, origin_before) = (t.state(&f.repo), t.refs(&f.origin));

    let run = t.gitops(&f.repo, &["init"]);
    run.refused();
    assert!(run.hint().contains("--yes"), "{}", run.stderr);
    assert!(
        run.stderr.contains("dev"),
        "prints what it would do:\n{}",
        run.stderr
    );
    assert!(
        !f.repo.join(".gitops.yaml").exists(),
        "no .gitops.yaml written"
    );
    assert_eq!(t.state(&f.repo), before);
    assert_eq!(t.refs(&f.origin), origin_before, "nothing pushed");
}

#[test]
fn yes_writes_the_config_and_pushes_the_environment_branches() {
    let t = TestEnv::new();
    let f = fixture(&t);
    let main = t.rev(&f.repo, "main");

    t.gitops(&f.repo, &["init", "--yes"]).expect(0);
    let config = f.repo.join(".gitops.yaml");
    let want = |names: &[&str]| {
        names
            .iter()
            .map(|n| (n.to_string(), n.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(environments(&config), want(&["dev", "stage", "prod"]));
    assert_eq!(branches(&t, &f.origin), ["dev", "main", "prod", "stage"]);
    for branch in ["dev", "stage", "prod"] {
        assert_eq!(t.rev(&f.origin, branch), main, "{branch} starts at main");
    }
    // The file is left for a pull request, not committed.
    assert_eq!(t.rev(&f.repo, "HEAD"), main);
    assert_eq!(
        t.git(&f.repo, &["status", "--porcelain"]),
        "?? .gitops.yaml\n",
        "only the new file"
    );

    // gitops reads the result: every environment is there, nothing pending.
    let status = t.gitops(&f.repo, &["status", "--json"]).expect(0).json();
    assert_eq!(status["environments"].as_array().unwrap().len(), 3);
    for e in status["environments"].as_array().unwrap() {
        assert_eq!(e["pending"], 0, "{e}");
        assert_eq!(e["head"], main.as_str());
    }

    // A second run refuses: the file exists.
    let text = std::fs::read_to_string(&config).unwrap();
    let (before, origin_before) = (t.state(&f.repo), t.refs(&f.origin));
    let run = t.gitops(&f.repo, &["init", "--yes"]);
    let error = run.refused();
    assert!(
        error.contains(".gitops.yaml") && error.contains("already exists"),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    assert_eq!(t.state(&f.repo), before);
    assert_eq!(t.refs(&f.origin), origin_before);
}

#[test]
fn an_unknown_policy_flag_is_refused_by_name() {
    let t = TestEnv::new();
    let f = fixture(&t);
    let (before, origin_before) = (t.state(&f.repo), t.refs(&f.origin));

    let run = t.gitops(
        &f.repo,
        &[
            "init",
            "--environments",
            "dev,prod",
            "--tags",
            "prod=semvr",
            "--yes",
        ],
    );
    run.expect(2);
    let error = run.stderr.lines().next().unwrap_or_default().to_owned();
    assert!(
        error.starts_with("error:") && error.contains("semvr"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("semver"),
        "lists the accepted policies: {}",
        run.stderr
    );
    assert!(!f.repo.join(".gitops.yaml").exists());
    assert_eq!(t.state(&f.repo), before);
    assert_eq!(t.refs(&f.origin), origin_before);
}

#[test]
fn flags_choose_environments_and_branches() {
    let t = TestEnv::new();
    let f = fixture(&t);
    t.gitops(
        &f.repo,
        &[
            "init",
            "--environments",
            "a,b",
            "--branch",
            "b=release/b",
            "--yes",
        ],
    )
    .expect(0);
    assert_eq!(
        environments(&f.repo.join(".gitops.yaml")),
        [
            ("a".to_owned(), "a".to_owned()),
            ("b".to_owned(), "release/b".to_owned())
        ]
    );
    assert_eq!(branches(&t, &f.origin), ["a", "main", "release/b"]);
}

#[test]
fn a_branch_flag_for_an_unknown_environment_is_refused() {
    let t = TestEnv::new();
    let f = fixture(&t);
    let origin_before = t.refs(&f.origin);
    let run = t.gitops(&f.repo, &["init", "--branch", "qa=release/qa", "--yes"]);
    let error = run.refused();
    assert!(error.contains("qa"), "{error}");
    assert!(!f.repo.join(".gitops.yaml").exists());
    assert_eq!(t.refs(&f.origin), origin_before);
}

#[test]
fn refuses_without_an_origin_remote() {
    let t = TestEnv::new();
    let repo = t.mkdir("alone");
    t.git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    t.commit_file(&repo, "README.md", "hi\n", "first");
    let run = t.gitops(&repo, &["init", "--yes"]);
    let error = run.refused();
    assert!(error.contains("origin"), "{error}");
    assert!(!repo.join(".gitops.yaml").exists());
}

/// Every refusal ends with a hint (PRODUCT.md: "An error is one line saying what
/// failed, the cause under it, and a hint with the next command to run"), and a
/// bad flag is named as the flag, not as a line of a file that was never written.
#[test]

fn bad_flag_values_are_refused_with_a_hint() {
    let t = TestEnv::new();
    let f = fixture(&t);
    let run = t.gitops(
        &f.repo,
        &[
            "init",
            "--environments",
            "dev,prod",
            "--tags",
            "prod=semvr",
            "--yes",
        ],
    );
    let error = run.refused();
    assert!(
        error.contains("--tags") && error.contains("semvr"),
        "{error}"
    );

    let run = t.gitops(
        &f.repo,
        &["init", "--environments", "dev,has space", "--yes"],
    );
    let error = run.refused();
    assert!(
        error.contains("--environments") && error.contains("has space"),
        "{error}"
    );
    assert!(
        !error.contains(".gitops.yaml:"),
        "names the flag, not the unwritten file: {error}"
    );
    assert!(!f.repo.join(".gitops.yaml").exists());
}

/// The `images:` list of a written `.gitops.yaml` (`None`: no key).
fn images(path: &std::path::Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).expect(".gitops.yaml is written");
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).expect(".gitops.yaml is YAML");
    doc.get("images").map(|list| {
        list.as_sequence()
            .expect("images is a list")
            .iter()
            .map(|p| p.as_str().expect("a pattern").to_owned())
            .collect()
    })
}

/// `init` proposes the team's images from what the default branch runs: the
/// images whose tags look like the first environment's policy (commit ids), one
/// pattern per registry/namespace prefix; `--images` overrides; a repository
/// running none writes no `images:`.
#[test]
fn images_are_proposed_from_the_default_branch_or_given() {
    let t = TestEnv::new();
    let f = fixture(&t);
    t.commit_file(
        &f.repo,
        "apps/shop/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: cart\n          image: registry.example.com/shop/cart:0123456789abcdef0123456789abcdef01234567\n        - name: web\n          image: registry.example.com/shop/web:d31f8a2\n        - name: cache\n          image: redis:7.2.4\n        - name: tools\n          image: busybox:latest\n",
        "Add the shop",
    );
    t.git(&f.repo, &["push", "--quiet", "origin", "main"]);

    let run = t.gitops(&f.repo, &["init", "--yes"]);
    run.expect(0);
    let config = f.repo.join(".gitops.yaml");
    assert_eq!(
        images(&config),
        Some(vec![
            "registry.example.com/*".to_owned(),
            "registry.example.com/shop/*".to_owned()
        ]),
        "{}",
        std::fs::read_to_string(&config).unwrap()
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("# The team's own images"), "{text}");
    assert!(
        run.stderr.contains("--images"),
        "says how to override: {}",
        run.stderr
    );
    std::fs::remove_file(&config).unwrap();

    let run = t.gitops(
        &f.repo,
        &[
            "init",
            "--yes",
            "--images",
            "ghcr.io/acme/*,registry.example.com/shop/web",
        ],
    );
    run.expect(0);
    assert_eq!(
        images(&config),
        Some(vec![
            "ghcr.io/acme/*".to_owned(),
            "registry.example.com/shop/web".to_owned()
        ])
    );
    std::fs::remove_file(&config).unwrap();

    // An empty value: no `images:` (every image is the team's).
    t.gitops(&f.repo, &["init", "--yes", "--images", ""])
        .expect(0);
    assert_eq!(images(&config), None);
    std::fs::remove_file(&config).unwrap();

    // A bad pattern is refused by its flag, nothing written.
    let run = t.gitops(&f.repo, &["init", "--yes", "--images", "shop/[x"]);
    let error = run.refused();
    assert!(
        error.contains("--images") && error.contains("shop/[x"),
        "{error}"
    );
    assert!(!config.exists());
}

#[test]
fn no_images_are_proposed_when_no_tag_looks_like_the_first_policy() {
    let t = TestEnv::new();
    let f = fixture(&t);
    t.commit_file(
        &f.repo,
        "apps/web/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web:1.2.3\n        - name: cache\n          image: redis:7.2.4\n",
        "Release tags only",
    );
    t.git(&f.repo, &["push", "--quiet", "origin", "main"]);
    t.gitops(&f.repo, &["init", "--yes"]).expect(0);
    let config = f.repo.join(".gitops.yaml");
    assert_eq!(
        images(&config),
        None,
        "{}",
        std::fs::read_to_string(&config).unwrap()
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("!charts/*/templates/**"),
        "the default manifests: {text}"
    );
}

/// A push origin refuses leaves nothing behind, and the rerun, once origin
/// accepts, finishes the job.
#[test]
fn a_refused_push_leaves_nothing_and_the_rerun_converges() {
    let t = TestEnv::new();
    let f = fixture(&t);
    common::refuse_pushes(&f.origin, "New branches need an approved ticket.");
    let state = t.state(&f.repo);

    let run = t.gitops(&f.repo, &["init", "--yes"]);
    run.expect(3);
    assert!(
        run.stderr
            .contains("origin said: New branches need an approved ticket."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Nothing was left behind"),
        "{}",
        run.stderr
    );
    assert!(!f.repo.join(".gitops.yaml").exists(), "no config written");
    assert_eq!(
        t.state(&f.repo),
        state,
        "no branch created, nothing else changed"
    );
    assert_eq!(branches(&t, &f.origin), ["main"]);

    std::fs::remove_file(f.origin.join("hooks/pre-receive")).unwrap();
    t.gitops(&f.repo, &["init", "--yes"]).expect(0);
    assert!(f.repo.join(".gitops.yaml").exists());
    assert_eq!(branches(&t, &f.origin), ["dev", "main", "prod", "stage"]);
}

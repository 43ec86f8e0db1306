//! `gitops feature start NAME`: a branch off the freshest first environment.

mod common;

use std::path::Path;

use common::{Sample, TestEnv};
use gitops::cli::commands::feature::FinishOut;
use gitops::cli::commands::Action;

/// Someone else pushes a commit to dev; returns its id.
fn advance_origin_dev(t: &TestEnv, s: &Sample) -> String {
    let other = t.clone(&s.origin, "other", "dev");
    let id = t.commit_file(
        &other,
        "apps/cart/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cart\n  namespace: shop\ndata:\n  SESSION_TTL: \"3600\"\n",
        "cart: add a config map",
    );
    t.git(&other, &["push", "--quiet", "origin", "dev"]);
    id
}

fn current_branch(t: &TestEnv, repo: &Path) -> String {
    t.git(repo, &["symbolic-ref", "--short", "HEAD"])
        .trim()
        .to_owned()
}

#[test]
fn starts_from_the_freshest_origin_dev_not_the_stale_local_one() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let stale = t.rev(&s.repo, "dev");
    let fresh = advance_origin_dev(&t, &s);
    assert_ne!(stale, fresh);

    let run = t.gitops(&s.repo, &["feature", "start", "add-redis"]);
    run.expect(0);
    assert_eq!(current_branch(&t, &s.repo), "add-redis");
    assert_eq!(
        t.rev(&s.repo, "HEAD"),
        fresh,
        "branched off the fetched origin/dev"
    );
    assert_eq!(t.rev(&s.repo, "origin/dev"), fresh);
    assert_eq!(t.rev(&s.repo, "dev"), stale, "the local dev is not moved");
    assert_eq!(
        t.git(&s.repo, &["config", "branch.add-redis.remote"])
            .trim(),
        "origin"
    );
    assert_eq!(
        t.git(&s.repo, &["config", "branch.add-redis.merge"]).trim(),
        "refs/heads/add-redis"
    );
    assert_eq!(
        t.git(&s.repo, &["status", "--porcelain"]),
        "",
        "a clean checkout"
    );
    assert!(
        run.stderr.contains("add-redis"),
        "says what it did: {}",
        run.stderr
    );
    // Nothing pushed.
    assert!(!t.refs(&s.origin).contains("add-redis"));
}

#[test]
fn from_another_environment() {
    let t = TestEnv::new();
    let s = t.quickstart();
    t.gitops(
        &s.repo,
        &["feature", "start", "fix/prod-thing", "--from", "prod"],
    )
    .expect(0);
    assert_eq!(current_branch(&t, &s.repo), "fix/prod-thing");
    assert_eq!(t.rev(&s.repo, "HEAD"), t.rev(&s.repo, "origin/prod"));
}

/// Runs `feature start ARGS` on `s`: it must refuse with exit 2 and change
/// nothing — no branch here or on origin, the same checkout.
fn refused(t: &TestEnv, s: &Sample, args: &[&str]) -> common::Run {
    let heads = |repo: &Path| {
        t.git(
            repo,
            &[
                "for-each-ref",
                "--format=%(refname) %(objectname)",
                "refs/heads",
            ],
        )
    };
    let before = (
        heads(&s.repo),
        current_branch(t, &s.repo),
        t.rev(&s.repo, "HEAD"),
        t.git(&s.repo, &["status", "--porcelain", "--untracked-files=all"]),
        t.git(&s.repo, &["config", "--local", "--list"]),
    );
    let origin_before = t.refs(&s.origin);
    let mut argv = vec!["feature", "start"];
    argv.extend_from_slice(args);
    let run = t.gitops(&s.repo, &argv);
    run.refused();
    let after = (
        heads(&s.repo),
        current_branch(t, &s.repo),
        t.rev(&s.repo, "HEAD"),
        t.git(&s.repo, &["status", "--porcelain", "--untracked-files=all"]),
        t.git(&s.repo, &["config", "--local", "--list"]),
    );
    assert_eq!(
        after, before,
        "feature start {args:?} changed the repository"
    );
    assert_eq!(
        t.refs(&s.origin),
        origin_before,
        "feature start {args:?} changed origin"
    );
    run
}

#[test]
fn refuses_invalid_branch_names() {
    let t = TestEnv::new();
    let s = t.quickstart();
    for name in ["-x", "a..b", "has space", "x.lock"] {
        let run = refused(&t, &s, &["--", name]);
        let error = run.error_line();
        assert!(error.contains("not a valid branch name"), "{name}: {error}");
        assert!(
            run.hint().contains("check-ref-format"),
            "{name}: {}",
            run.stderr
        );
    }
    // Without `--`, `-x` is an unknown flag: a usage error too.
    t.gitops(&s.repo, &["feature", "start", "-x"]).expect(2);
}

#[test]
fn refuses_a_name_that_exists_locally() {
    let t = TestEnv::new();
    let s = t.quickstart();
    t.git(&s.repo, &["branch", "topic", "origin/stage"]);
    let run = refused(&t, &s, &["topic"]);
    assert!(
        run.error_line().contains("already exists"),
        "{}",
        run.stderr
    );
    assert!(run.hint().contains("git switch topic"), "{}", run.stderr);
}

#[test]
fn refuses_a_name_that_exists_only_on_origin() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // Pushed by someone else; this clone has not fetched it.
    let other = t.clone(&s.origin, "other", "dev");
    t.git(
        &other,
        &["push", "--quiet", "origin", "dev:refs/heads/shared-work"],
    );
    let run = refused(&t, &s, &["shared-work"]);
    let error = run.error_line();
    assert!(
        error.contains("shared-work") && error.contains("origin"),
        "{error}"
    );
}

#[test]
fn refuses_an_environment_branch() {
    let t = TestEnv::new();
    let s = t.quickstart();
    refused(&t, &s, &["stage"]);
    // Also when there is no local branch of that name.
    t.git(&s.repo, &["branch", "-D", "--quiet", "prod"]);
    refused(&t, &s, &["prod"]);
}

#[test]
fn refuses_uncommitted_changes_the_checkout_would_lose() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // On stage, whose web deployment differs from origin/dev's.
    t.git(&s.repo, &["switch", "--quiet", "stage"]);
    let file = s.repo.join("apps/web/deployment.yaml");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("cpu: 100m", "cpu: 300m");
    std::fs::write(&file, &edited).unwrap();

    let run = refused(&t, &s, &["tune-web"]);
    let error = run.error_line();
    assert!(
        error.contains("apps/web/deployment.yaml"),
        "names the file: {error}"
    );
    assert!(
        run.hint().contains("stash") || run.hint().contains("commit"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        edited,
        "the edit is kept"
    );
    assert_eq!(current_branch(&t, &s.repo), "stage");
}

#[test]
fn carries_uncommitted_changes_the_checkout_keeps() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // On dev, equal to origin/dev: an edit survives the checkout, as with git switch -c.
    let file = s.repo.join("apps/web/deployment.yaml");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("cpu: 100m", "cpu: 300m");
    std::fs::write(&file, &edited).unwrap();
    t.gitops(&s.repo, &["feature", "start", "tune-web"])
        .expect(0);
    assert_eq!(current_branch(&t, &s.repo), "tune-web");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
}

#[test]
fn an_unreachable_origin_is_exit_3_unless_offline() {
    let t = TestEnv::new();
    let s = t.quickstart();
    t.git(&s.repo, &["remote", "set-url", "origin", "/nonexistent"]);
    let before = t.state(&s.repo);

    let run = t.gitops(&s.repo, &["feature", "start", "add-redis"]);
    run.expect(3);
    let error = run.error_line();
    assert!(error.contains("origin cannot be reached"), "{error}");
    assert!(run.hint().contains("--offline"), "{}", run.stderr);
    assert_eq!(t.state(&s.repo), before, "nothing changed");

    let run = t.gitops(&s.repo, &["feature", "start", "add-redis", "--offline"]);
    run.expect(0);
    assert_eq!(current_branch(&t, &s.repo), "add-redis");
    assert_eq!(
        t.rev(&s.repo, "HEAD"),
        t.rev(&s.repo, "dev"),
        "branched off the local dev"
    );
}

#[test]
fn refuses_outside_a_repository() {
    let t = TestEnv::new();
    let dir = t.plain_dir("plain");
    let run = t.gitops(&dir, &["feature", "start", "x"]);
    run.refused();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn finish_pushes_the_feature_branch_and_refuses_environment_branches() {
    let t = TestEnv::new();
    let s = t.quickstart();
    // On dev itself: refused, nothing pushed.
    let before = t.refs(&s.origin);
    let run = t.gitops(&s.repo, &["feature", "finish"]);
    assert!(
        run.refused()
            .contains("`dev` is the branch of environment dev"),
        "{}",
        run.stderr
    );
    assert_eq!(t.refs(&s.origin), before);

    t.gitops(&s.repo, &["feature", "start", "add-redis"])
        .expect(0);
    // Nothing committed yet: nothing to finish.
    t.gitops(&s.repo, &["feature", "finish"]).refused();
    let head = t.commit_file(
        &s.repo,
        "apps/cart/redis.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: redis}\n",
        "cart: redis config",
    );

    // --dry-run shows the pull request and pushes nothing.
    let out = t
        .gitops(&s.repo, &["feature", "finish", "--dry-run", "--json"])
        .expect(0)
        .parse::<FinishOut>();
    assert_eq!(out.action, Action::Planned);
    assert_eq!(out.title, "cart: redis config");
    assert_eq!(
        (out.branch.as_str(), out.base.as_str()),
        ("add-redis", "dev")
    );
    assert_eq!(t.refs(&s.origin), before);

    let out = t
        .gitops(&s.repo, &["feature", "finish", "--json"])
        .expect(0)
        .parse::<FinishOut>();
    assert_eq!(out.action, Action::Pushed, "{out:#?}");
    assert_eq!(out.base, "dev");
    assert_eq!(out.pull_request, None, "no token, no GitHub repository");
    assert_eq!(t.rev(&s.origin, "add-redis"), head);
    assert_eq!(
        t.git(&s.repo, &["config", "branch.add-redis.merge"]).trim(),
        "refs/heads/add-redis"
    );

    // A rerun has nothing to push.
    let out = t
        .gitops(&s.repo, &["feature", "finish", "--json"])
        .expect(0)
        .parse::<FinishOut>();
    assert_eq!(out.action, Action::Unchanged);
}

#[test]
fn finish_never_pushes_over_commits_someone_else_pushed() {
    let t = TestEnv::new();
    let s = t.quickstart();
    t.gitops(&s.repo, &["feature", "start", "add-redis"])
        .expect(0);
    t.commit_file(&s.repo, "apps/cart/redis.yaml", "a: 1\n", "cart: redis");
    t.gitops(&s.repo, &["feature", "finish"]).expect(0);
    // A colleague pushes to the same branch.
    let other = t.clone(&s.origin, "colleague", "add-redis");
    let theirs = t.commit_file(&other, "apps/cart/notes.yaml", "b: 2\n", "cart: notes");
    t.git(&other, &["push", "--quiet", "origin", "add-redis"]);
    // Meanwhile another local commit.
    t.commit_file(&s.repo, "apps/cart/redis.yaml", "a: 2\n", "cart: redis 2");
    let run = t.gitops(&s.repo, &["feature", "finish"]);
    run.expect(3);
    assert!(run.hint().contains("git pull --rebase"), "{}", run.stderr);
    assert_eq!(
        t.rev(&s.origin, "add-redis"),
        theirs,
        "their commit is still there"
    );
}

/// A name git cannot store (a component over 250 bytes) is refused in one line
/// that does not echo it whole, before anything is created.
#[test]
fn a_name_too_long_for_git_is_refused_in_one_short_line() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let state = t.state(&s.repo);
    let name = "x".repeat(5000);
    let run = t.gitops(&s.repo, &["feature", "start", &name]);
    run.expect(2);
    assert!(run.stderr.contains("5000 bytes long"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(&name[..300]),
        "the name is not echoed whole"
    );
    assert!(run.stderr.len() < 600, "{}", run.stderr);
    assert_eq!(t.state(&s.repo), state);
}

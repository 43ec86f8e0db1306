//! A refused push says why, in the remote's words, with a hint that fits.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::TestEnv;

/// Installs a pre-receive hook in the bare repository `origin` that prints
/// `message` and refuses every push.
fn refuse_pushes(origin: &Path, message: &str) {
    let hook = origin.join("hooks/pre-receive");
    std::fs::write(&hook, format!("#!/bin/sh\necho '{message}' >&2\nexit 1\n")).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_hook_that_declines_a_promotion_is_quoted() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let origin_refs = t.refs(&s.origin);
    refuse_pushes(&s.origin, "Pushes are frozen until the 2.4 release.");

    let run = t.gitops(&s.repo, &["promote", "stage", "--yes"]);
    run.expect(3);
    assert!(
        run.stderr.contains(
            "a hook on origin declined the push (origin said: Pushes are frozen until the 2.4 release.)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.hint().starts_with("do what the hook's message asks"),
        "{}",
        run.stderr
    );
    assert_eq!(t.refs(&s.origin), origin_refs, "origin unchanged");
}

#[test]
fn a_hook_that_declines_a_feature_branch_is_quoted() {
    let t = TestEnv::new();
    let s = t.quickstart();
    refuse_pushes(&s.origin, "Branch names must start with a ticket number.");
    t.gitops(&s.repo, &["feature", "start", "search"]).expect(0);
    t.commit_file(
        &s.repo,
        "apps/search/values.yaml",
        "replicas: 1\n",
        "search",
    );
    let run = t.gitops(&s.repo, &["feature", "finish"]);
    run.expect(3);
    assert!(
        run.stderr
            .contains("origin said: Branch names must start with a ticket number."),
        "{}",
        run.stderr
    );
}

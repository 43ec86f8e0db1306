//! A refused push says why, in the remote's words, with a hint that fits.

mod common;

use common::{refuse_pushes, TestEnv};

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

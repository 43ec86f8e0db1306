//! Nothing waits forever: an origin that accepts the connection and never
//! answers is given up on within `GITOPS_TIMEOUT` seconds. `status` and `diff`
//! then answer from what was fetched last; commands that must reach origin exit
//! 3 naming it.

mod common;

use common::{silent_server, Run, TestEnv};

/// An origin that accepts the connection and never answers.
fn silent_origin() -> String {
    format!("{}/shop-config.git", silent_server())
}

fn assert_names_origin(run: &Run) {
    assert!(
        run.stderr.contains("origin"),
        "names what did not answer:\n{}",
        run.stderr
    );
}

#[test]
fn status_and_diff_answer_from_the_last_fetch_when_origin_never_answers() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let before = t
        .gitops(&s.repo, &["status", "--json", "--no-fetch"])
        .expect(0)
        .json();
    t.git(&s.repo, &["remote", "set-url", "origin", &silent_origin()]);
    let env = [("GITOPS_TIMEOUT", "2")];

    let run = t.gitops_with(&s.repo, &["status", "--json"], &env);
    run.expect(0);
    assert_names_origin(&run);
    let status = run.json();
    assert!(status["not_fetched"].is_string(), "{status:#}");
    assert_eq!(
        status["environments"], before["environments"],
        "the last fetch's answer"
    );

    let run = t.gitops_with(&s.repo, &["diff", "stage", "--json"], &env);
    run.expect(0);
    assert_names_origin(&run);
}

#[test]
fn promote_and_feature_start_exit_3_when_origin_never_answers() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let state = t.state(&s.repo);
    t.git(&s.repo, &["remote", "set-url", "origin", &silent_origin()]);
    let env = [("GITOPS_TIMEOUT", "2")];

    for args in [
        &["promote", "stage", "--yes"][..],
        &["feature", "start", "search"],
    ] {
        let run = t.gitops_with(&s.repo, args, &env);
        run.expect(3);
        assert_names_origin(&run);
    }
    t.git(
        &s.repo,
        &["remote", "set-url", "origin", s.origin.to_str().unwrap()],
    );
    assert_eq!(t.state(&s.repo), state, "nothing moved");
}

#[test]
fn a_bad_timeout_is_refused() {
    let t = TestEnv::new();
    let s = t.quickstart();
    for bad in ["0", "soon", "1.5"] {
        let run = t.gitops_with(
            &s.repo,
            &["status", "--no-fetch"],
            &[("GITOPS_TIMEOUT", bad)],
        );
        run.expect(2);
        assert!(
            run.stderr.contains("GITOPS_TIMEOUT must be"),
            "{}",
            run.stderr
        );
    }
}

//! Colour is decided as clap decides it, for gitops's output and clap's help and
//! errors alike: `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, a terminal, and
//! `--color`, which wins.

mod common;

use common::{Run, TestEnv};

const ESC: &str = "\u{1b}[";

fn run(t: &TestEnv, dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = t.command(env!("CARGO_BIN_EXE_gitops"), dir);
    cmd.args(args).env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running gitops");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn the_environment_decides_as_for_clap_and_color_wins() {
    let t = TestEnv::new();
    let s = t.quickstart();
    let status = |env: &[(&str, &str)], args: &[&str]| {
        let mut all = vec!["status", "--no-fetch"];
        all.extend_from_slice(args);
        let r = run(&t, &s.repo, &all, env);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.contains(ESC)
    };
    assert!(!status(&[], &[]), "a pipe gets no colour");
    assert!(status(&[("CLICOLOR_FORCE", "1")], &[]), "CLICOLOR_FORCE");
    assert!(
        !status(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]),
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
    assert!(
        !status(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]),
        "--color never"
    );
    assert!(
        status(&[("NO_COLOR", "1")], &["--color=always"]),
        "--color always"
    );

    // clap's own errors follow the same choice.
    let clap_error = |env: &[(&str, &str)], args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--no-such-flag");
        let r = run(&t, &s.repo, &all, env);
        assert_eq!(r.code, 2, "{}", r.stderr);
        r.stderr.contains(ESC)
    };
    assert!(clap_error(&[("CLICOLOR_FORCE", "1")], &["status"]));
    assert!(!clap_error(
        &[("CLICOLOR_FORCE", "1")],
        &["--color", "never", "status"]
    ));
    assert!(clap_error(
        &[("NO_COLOR", "1")],
        &["--color", "always", "status"]
    ));
    assert!(!clap_error(&[], &["status"]));
}

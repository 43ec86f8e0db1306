//! `gitops completions SHELL`, and the generated scripts kept in `completions/`.

mod common;

use std::path::Path;

use common::TestEnv;

const SCRIPTS: [(&str, &str); 5] = [
    ("bash", "gitops.bash"),
    ("zsh", "_gitops"),
    ("fish", "gitops.fish"),
    ("powershell", "_gitops.ps1"),
    ("elvish", "gitops.elv"),
];

#[test]
fn the_kept_scripts_are_up_to_date() {
    let t = TestEnv::new();
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let run = t.gitops(t.root(), &["completions", shell]);
        run.expect(0);
        assert!(
            run.stdout.contains("gitops"),
            "{shell}: an empty script?\n{}",
            run.stdout
        );
        match std::fs::read_to_string(kept.join(file)) {
            Ok(text) if text == run.stdout => {}
            Ok(_) => stale.push(format!(
                "completions/{file} differs from `gitops completions {shell}`"
            )),
            Err(e) => stale.push(format!("completions/{file}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts:\n  {}\nrun `scripts/update-completions.sh` and commit the result",
        stale.join("\n  ")
    );
}

#[test]
fn scripts_know_the_commands_and_flags() {
    let t = TestEnv::new();
    let run = t.gitops(t.root(), &["completions", "bash"]);
    run.expect(0);
    for word in [
        "quickstart",
        "init",
        "feature",
        "status",
        "diff",
        "completions",
        "--no-fetch",
        "--exit-code",
    ] {
        assert!(run.stdout.contains(word), "bash completion lacks {word}");
    }
    assert_eq!(run.stderr, "");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let t = TestEnv::new();
    let run = t.gitops(t.root(), &["completions", "tcsh"]);
    run.expect(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("tcsh"), "{}", run.stderr);
}

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

/// The man page gitops's command line makes, version without the build stamp
/// (the kept page would otherwise be stale after every commit).
fn man_page() -> String {
    use clap::CommandFactory;
    let cmd = gitops::cli::Cli::command().version(env!("CARGO_PKG_VERSION"));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `man/gitops.1` is the page the command line makes; `GITOPS_UPDATE_MAN=1`
/// (which `scripts/update-completions.sh` sets) writes it.
#[test]
fn the_kept_man_page_is_up_to_date() {
    let page = man_page();
    assert!(page.contains(".TH gitops 1"), "{page}");
    for command in ["quickstart", "init", "promote", "status", "diff", "check"] {
        assert!(page.contains(command), "{command} in the page");
    }
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/gitops.1");
    if std::env::var_os("GITOPS_UPDATE_MAN").is_some() {
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::write(&kept, &page).unwrap();
    }
    let text = std::fs::read_to_string(&kept).unwrap_or_default();
    assert!(
        text == page,
        "man/gitops.1 is stale: run `scripts/update-completions.sh` and commit the result"
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

/// `--version` names the commit gitops was built from and its date, when it was
/// built in a git checkout.
#[test]
fn version_names_the_commit_and_date() {
    let t = TestEnv::new();
    let run = t.gitops(t.root(), &["--version"]);
    run.expect(0);
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let head = std::process::Command::new("git")
        .args(["log", "-1", "--format=%h %cs", "--abbrev=7", "HEAD"])
        .current_dir(manifest_dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let want = match head {
        Some(stamp) => format!("gitops {} ({stamp})\n", env!("CARGO_PKG_VERSION")),
        None => format!("gitops {}\n", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(run.stdout, want);
}

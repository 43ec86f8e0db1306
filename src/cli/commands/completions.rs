//! `gitops completions SHELL`.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::ui::Ui;

/// Print the shell completion script for SHELL.
///
/// Print the shell completion script for SHELL (bash, zsh, fish, powershell,
/// elvish). The same scripts are kept in the repository's `completions/`.
///
/// For completions that also know the environment names of the repository you
/// are in, use the dynamic form instead, e.g. `source <(COMPLETE=bash gitops)`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "gitops", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

/// The file name a script is kept under in `completions/`.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "gitops.bash",
        Shell::Zsh => "_gitops",
        Shell::Fish => "gitops.fish",
        Shell::PowerShell => "_gitops.ps1",
        Shell::Elvish => "gitops.elv",
        _ => "gitops.completion",
    }
}

pub fn run(args: Args, ui: &Ui) -> Result<()> {
    ui.out(&script(args.shell))?;
    Ok(())
}

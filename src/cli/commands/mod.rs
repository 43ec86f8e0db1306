//! One module per subcommand: its arguments and `run`, as gather → plan → render.
//! A command uses [`crate::engine`]'s rooms, the domain and [`crate::ui`]; it
//! never imports another command.

pub mod check;
pub mod completions;
pub mod diff;
pub mod feature;
pub mod image;
pub mod init;
pub mod promote;
pub mod quickstart;
pub mod status;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::ui::Ui;

pub use crate::engine::plan::{BlockedOut, CommitOut, FileChange, FileOut, Plan};
pub use crate::engine::pull_request::{Action, PullAction, PullOut};

/// Runs the parsed command line.
pub fn run(cli: Cli, ui: &Ui) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Quickstart(args) => quickstart::run(&global, args, ui),
        Command::Init(args) => init::run(&global, args, ui),
        Command::Feature(cmd) => feature::run(&global, cmd, ui),
        Command::Image(cmd) => image::run(&global, cmd, ui),
        Command::Promote(args) => promote::run(&global, args, ui),
        Command::Status(args) => status::run(&global, args, ui),
        Command::Diff(args) => diff::run(&global, args, ui),
        Command::Check(args) => check::run(&global, args, ui),
        Command::Completions(args) => completions::run(args, ui),
    }
}

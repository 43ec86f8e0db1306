//! `gitops image`: the image tags environments run. `set` writes one (what CI
//! runs after pushing an image); `tags` reads the registry's.

pub mod set;
pub mod tags;

use anyhow::Result;

use crate::cli::Global;
use crate::ui::Ui;

pub use set::{branch, SetArgs, SetOut, TRAILER};
pub use tags::{TagsArgs, TagsOut};

/// Work with the image tags an environment runs.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Set(SetArgs),
    Tags(TagsArgs),
}

pub fn run(global: &Global, cmd: Command, ui: &Ui) -> Result<()> {
    match cmd {
        Command::Set(args) => set::run(global, args, ui),
        Command::Tags(args) => tags::run(global, args, ui),
    }
}

//! The command line: global flags and one subcommand per job. Doc comments are
//! the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::ui::ColorChoice;

pub mod commands;

/// Branch-per-environment GitOps from the terminal: feature branches off the first
/// environment, promotions between environment branches, what each environment
/// runs and what is waiting or has drifted.
#[derive(Debug, Parser)]
#[command(
    name = "gitops",
    version = env!("GITOPS_VERSION"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Run as if gitops was started in DIR.
    #[arg(short = 'C', id = "chdir", global = true, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
    /// When to use colour: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

impl Global {
    /// The directory to work in.
    pub fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| PathBuf::from("."))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Quickstart(commands::quickstart::Args),
    Init(commands::init::Args),
    #[command(subcommand)]
    Feature(commands::feature::Command),
    #[command(subcommand)]
    Image(commands::image::Command),
    Promote(commands::promote::Args),
    Status(commands::status::Args),
    Diff(commands::diff::Args),
    Check(commands::check::Args),
    Completions(commands::completions::Args),
}

/// The environment names of the repository in the current directory, for
/// dynamic completion; the default environments when it has no configuration.
pub fn environments() -> Vec<clap_complete::CompletionCandidate> {
    let names: Vec<String> = crate::git::Repo::discover(std::path::Path::new("."))
        .ok()
        .and_then(|repo| crate::engine::repo_config::load_config(&repo).ok())
        .map(|(config, _)| config.environments.into_iter().map(|e| e.name).collect())
        .unwrap_or_else(|| {
            crate::config::Config::default()
                .environments
                .into_iter()
                .map(|e| e.name)
                .collect()
        });
    names
        .into_iter()
        .map(clap_complete::CompletionCandidate::new)
        .collect()
}

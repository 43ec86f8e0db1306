//! One module per subcommand: its arguments and `run`, as gather → plan → render.

pub mod check;
pub mod completions;
pub mod diff;
pub mod feature;
pub mod image;
pub mod init;
mod plan;
pub mod promote;
mod publish;
mod pull_request;
pub mod quickstart;
pub mod status;
mod workspace;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::ui::Ui;

pub use plan::{BlockedOut, CommitOut, FileChange, FileOut, Plan};
pub use pull_request::{Action, PullAction, PullOut};
pub use workspace::Workspace;

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

/// "3 minutes ago", "2 days ago": how long before `now` a commit was made.
pub fn age(now: i64, then: i64) -> String {
    let secs = now - then;
    if secs < 0 {
        return "in the future".to_owned();
    }
    let (n, unit) = match secs {
        0..=59 => return "just now".to_owned(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// The current time, or `GITOPS_NOW` (seconds since the epoch) so that output can
/// be reproduced in tests.
pub fn now() -> i64 {
    std::env::var("GITOPS_NOW")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        })
}

/// The application a path belongs to: `apps/cart/deployment.yaml` → `cart`,
/// `cart/deployment.yaml` → `cart`, a file at the root → `(root)`.
pub fn app_of(path: &str) -> String {
    const GROUPS: &[&str] = &[
        "apps",
        "applications",
        "services",
        "charts",
        "components",
        "workloads",
    ];
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [group, app, _, ..] if GROUPS.contains(group) => (*app).to_owned(),
        [dir, _, ..] => (*dir).to_owned(),
        _ => "(root)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        let cases = [
            (0, "just now"),
            (61, "1 minute ago"),
            (7200, "2 hours ago"),
            (86_400 * 3, "3 days ago"),
            (86_400 * 65, "2 months ago"),
            (86_400 * 800, "2 years ago"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(1_000_000_000 + secs, 1_000_000_000), want, "{secs}");
        }
    }

    #[test]
    fn apps() {
        let cases = [
            ("apps/cart/deployment.yaml", "cart"),
            ("cart/deployment.yaml", "cart"),
            ("README.md", "(root)"),
            ("apps/x.yaml", "apps"),
            ("base/a/b/c.yaml", "base"),
        ];
        for (path, want) in cases {
            assert_eq!(app_of(path), want, "{path}");
        }
    }
}

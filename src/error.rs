//! Errors that decide the exit code and carry a hint for the next command.
//!
//! Everything else is an `anyhow::Error` whose context chain says what was being
//! done; `main` looks for a [`Failure`] anywhere in the chain to pick the exit code.
//! An error that is no [`Failure`] was not foreseen: a bug, a damaged repository
//! (a missing object), a failing system (a full disk). It exits with
//! [`exit::INTERNAL`], never with the usage code, so it does not look like a typo.

use std::fmt;

/// Exit codes, as documented in the README.
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// `check` found errors, or `--exit-code` found differences.
    pub const FOUND: i32 = 1;
    /// Usage error or refused input.
    pub const USAGE: i32 = 2;
    /// The remote or GitHub failed.
    pub const REMOTE: i32 = 3;
    /// Internal error: a bug, a damaged repository, or the system failing (disk,
    /// permissions) — anything that is no [`Failure`](super::Failure).
    pub const INTERNAL: i32 = 4;
    /// Interrupted (Ctrl-C).
    pub const INTERRUPTED: i32 = 130;
}

/// Why a command stopped, which decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad input, or the repository is not in a state the command accepts: exit 2.
    Refused,
    /// `origin` or GitHub could not be reached or failed: exit 3.
    Remote,
}

/// A failure the user can act on: what failed, and the next command to run.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Refused => exit::USAGE,
            Kind::Remote => exit::REMOTE,
        }
    }
}

/// Refused input (exit 2).
pub fn refused(message: impl Into<String>) -> Failure {
    Failure {
        kind: Kind::Refused,
        message: message.into(),
        hint: None,
    }
}

/// The remote failed (exit 3).
pub fn remote(message: impl Into<String>) -> Failure {
    Failure {
        kind: Kind::Remote,
        message: message.into(),
        hint: None,
    }
}

impl Failure {
    /// Adds the hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

/// A command that ran fine but wants a non-zero exit (`--exit-code`, `check`).
#[derive(Debug)]
pub struct Exit(pub i32);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Standard output was closed before everything was written (`gitops status |
/// head -1`): not an error, the command stops and exits 0, as ripgrep does.
#[derive(Debug)]
pub struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Ctrl-C reached a prompt (which reads keys in raw mode) rather than the
/// signal handler: the command stops as the handler would stop it, exit 130.
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// The exit code for an error: the first [`Failure`] or [`Exit`] in the chain
/// decides; a closed standard output is no failure (0); anything else is an
/// internal error (4).
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.exit_code();
        }
        if let Some(Exit(code)) = cause.downcast_ref::<Exit>() {
            return *code;
        }
        if cause.is::<StdoutClosed>() {
            return exit::OK;
        }
        if cause.is::<Interrupted>() {
            return exit::INTERRUPTED;
        }
    }
    exit::INTERNAL
}

/// Whether the error is reported on stderr: a wanted non-zero exit ([`Exit`]), a
/// closed standard output ([`StdoutClosed`]) and Ctrl-C ([`Interrupted`]) are
/// silent.
pub fn is_reported(err: &anyhow::Error) -> bool {
    !err.chain()
        .any(|c| c.is::<Exit>() || c.is::<StdoutClosed>() || c.is::<Interrupted>())
}

/// What an internal error's hint says: no command fixes it, so how to tell a
/// damaged repository from a bug.
pub const INTERNAL_HINT: &str = "an internal error: a bug, or a damaged repository (`git fsck` checks it); unless the cause is the system (disk, permissions), please report it";

/// The hint: the first [`Failure`]'s, or for an internal error [`INTERNAL_HINT`].
pub fn hint(err: &anyhow::Error) -> Option<&str> {
    match err.chain().find_map(|c| c.downcast_ref::<Failure>()) {
        Some(f) => f.hint.as_deref(),
        None if exit_code(err) == exit::INTERNAL => Some(INTERNAL_HINT),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_first_failure_decides_and_an_unforeseen_error_is_internal() {
        let missing = || -> anyhow::Result<()> {
            Err(anyhow::anyhow!("object 0123abc not found")).context("reading blob 0123abc")
        };
        let err = missing().unwrap_err();
        assert_eq!(exit_code(&err), exit::INTERNAL);
        assert_eq!(hint(&err), Some(INTERNAL_HINT));
        assert!(is_reported(&err));

        let err = anyhow::Error::new(refused("no such environment `qa`").hint("environments: dev"))
            .context("promoting");
        assert_eq!(exit_code(&err), exit::USAGE);
        assert_eq!(hint(&err), Some("environments: dev"));

        let err = anyhow::Error::new(remote("could not fetch `origin`"));
        assert_eq!(exit_code(&err), exit::REMOTE);
        assert_eq!(hint(&err), None);

        let err = anyhow::Error::new(Exit(exit::FOUND));
        assert_eq!(exit_code(&err), exit::FOUND);
        assert!(!is_reported(&err));

        let err = anyhow::Error::new(StdoutClosed).context("printing the status");
        assert_eq!(exit_code(&err), exit::OK);
        assert!(!is_reported(&err));

        let err = anyhow::Error::new(Interrupted);
        assert_eq!(exit_code(&err), exit::INTERRUPTED);
        assert!(!is_reported(&err));
    }
}

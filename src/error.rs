//! Errors that decide the exit code and carry a hint for the next command.
//!
//! Everything else is an `anyhow::Error` whose context chain says what was being
//! done; `main` looks for a [`Failure`] anywhere in the chain to pick the exit code.

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

/// The exit code for an error: the first [`Failure`] or [`Exit`] in the chain
/// decides, anything else is a usage-level failure (2).
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.exit_code();
        }
        if let Some(Exit(code)) = cause.downcast_ref::<Exit>() {
            return *code;
        }
    }
    exit::USAGE
}

/// The hint of the first [`Failure`] in the chain.
pub fn hint(err: &anyhow::Error) -> Option<&str> {
    err.chain()
        .find_map(|c| c.downcast_ref::<Failure>())
        .and_then(|f| f.hint.as_deref())
}

//! What gitops will read and how long it waits. Files: a manifest or
//! configuration over [`MAX_FILE_BYTES`] is refused in one line. The network: a fetch, a push or a GitHub call (with
//! its retries) that has not finished after `GITOPS_TIMEOUT` seconds (60 by
//! default) is stopped and fails as a remote failure (exit 3) — `status` and
//! `diff` then answer from what was fetched last.

use std::time::Duration;

use crate::error::{refused, Failure};

/// The largest manifest or configuration gitops reads (10 MiB): a bigger one is
/// refused (a configuration) or reported as not read (a manifest) in one line,
/// before it costs gigabytes and minutes.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// `bytes` for people: `12.3 MB`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The limit when `GITOPS_TIMEOUT` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The variable that sets the limit, in seconds.
pub const TIMEOUT_VAR: &str = "GITOPS_TIMEOUT";

/// The limit `value` (of `GITOPS_TIMEOUT`) sets: a whole number of seconds, at
/// least 1; `None` (unset) is the default.
pub fn parse_timeout(value: Option<&str>) -> Result<Duration, Failure> {
    let Some(value) = value else {
        return Ok(DEFAULT_TIMEOUT);
    };
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(refused(format!(
            "{TIMEOUT_VAR} must be a whole number of seconds above 0, not `{}`",
            value.chars().take(40).collect::<String>()
        ))
        .hint(format!(
            "unset it for the default ({} s), or set e.g. {TIMEOUT_VAR}=120",
            DEFAULT_TIMEOUT.as_secs()
        ))),
    }
}

/// The network time limit of this process (the default when `GITOPS_TIMEOUT`
/// does not parse: `main` refuses that before any command runs).
pub fn network_timeout() -> Duration {
    let value = std::env::var(TIMEOUT_VAR).ok();
    parse_timeout(value.as_deref()).unwrap_or(DEFAULT_TIMEOUT)
}

/// Refuses a `GITOPS_TIMEOUT` that does not parse (exit 2).
pub fn check_env() -> Result<(), Failure> {
    let value = std::env::var(TIMEOUT_VAR).ok();
    parse_timeout(value.as_deref()).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout(None).unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(parse_timeout(Some("5")).unwrap(), Duration::from_secs(5));
        assert_eq!(
            parse_timeout(Some(" 120 ")).unwrap(),
            Duration::from_secs(120)
        );
        for bad in ["", "0", "-1", "1.5", "abc", "60s"] {
            let e = parse_timeout(Some(bad)).unwrap_err();
            assert!(
                e.message.starts_with("GITOPS_TIMEOUT must be"),
                "{bad:?}: {e}"
            );
        }
    }
}

//! What the commands share: the machinery that reads a repository through
//! [`crate::git`] and the forge through [`crate::forge`], asks the pure domain
//! ([`crate::model`], [`crate::config`], [`crate::promotion`]) to decide, and
//! shows progress through [`crate::ui`]. Commands ([`crate::cli::commands`])
//! use these rooms and never each other.
//!
//! - [`snapshot`]: the repository as the environments' remote branches have it
//!   (configuration, history, trees, per-blob summaries and parsed documents),
//!   read once per run;
//! - [`repo_config`]: `.gitops.yaml` and `origin` as the repository has them;
//! - [`drift`]: the commits each environment carries that its upstream lacks;
//! - [`image_tags`]: an image's tags in its registry and what each environment
//!   would take from them (`image tags`, `image update`);
//! - [`image_times`]: images' creation times, kept by digest in the user's
//!   cache directory;
//! - [`overview`]: what each environment runs, waits for and drifted (`status`),
//!   and how that is shown;
//! - [`plan`]: a promotion built in the object store and read back (`diff`,
//!   `promote`);
//! - [`publish`]: one commit on a branch gitops owns, pushed with a lease;
//! - [`pull_request`]: the one pull request a branch has, opened or refreshed.

pub mod drift;
pub mod image_tags;
pub mod image_times;
pub mod overview;
pub mod plan;
pub mod publish;
pub mod pull_request;
pub mod repo_config;
pub mod snapshot;

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

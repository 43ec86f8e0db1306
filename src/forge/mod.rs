//! The forge: pull requests, reviews, checks and branch protection, over its
//! HTTP API. Uses [`crate::error`] only; the rest of the program sees plain
//! data. [`github`] is the only code that imports octocrab's API; it runs over
//! [`crate::http`], the one HTTP client (and runtime) of the process.

pub mod github;

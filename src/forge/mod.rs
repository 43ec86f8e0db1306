//! The forge: pull requests, reviews, checks and branch protection, over its
//! HTTP API. Uses [`crate::error`] only; the rest of the program sees plain
//! data. [`github`] is the only code that imports octocrab; [`http`] is the one
//! HTTP client (and runtime) of the process, with the environment's proxies.

pub mod github;
pub mod http;

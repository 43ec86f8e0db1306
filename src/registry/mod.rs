//! Image registries: the only code that talks to them (the Distribution API,
//! which Docker Hub, GHCR, Quay, Harbor, GCR/Artifact Registry, ECR and CNCF
//! Distribution itself serve).
//!
//! - [`name`]: an image name → its registry's API URL and its repository (pure);
//! - [`protocol`]: the API's texts — challenges, `Link` pages, bodies, creation
//!   times (pure);
//! - [`credentials`]: where users keep registry credentials (docker's and
//!   podman's files, credential helpers);
//! - [`client`]: a [`Registry`]: tags, creation times, authentication, retries
//!   and limits, over [`crate::http`]'s one client.

pub mod client;
pub mod credentials;
pub mod name;
pub mod protocol;

pub use client::Registry;
pub use name::{locate, Location};
pub use protocol::Created;

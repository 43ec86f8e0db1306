//! `gitops`: branch-per-environment GitOps from the terminal.
//!
//! The folders are the architecture (see the README's "Architecture"):
//!
//! - the domain, pure — bytes, texts and parsed YAML in, plain data out; never
//!   git, the network or the terminal:
//!   - [`model`]: manifests as data (documents, image references and where they
//!     are used, the byte-exact editor, the semantic diff, blob summaries);
//!   - [`config`]: `.gitops.yaml`, its globs and the tag policies;
//!   - [`promotion`]: promotion's decisions (pinning, the plan's refusals and
//!     tags, conflict resolution, drift's judgement, the commit graph);
//! - the outside world, each behind one module:
//!   - [`git`]: the only code that touches repositories;
//!   - [`forge`]: the only code that talks to a forge (GitHub, GitLab), behind
//!     one seam of neutral types;
//!   - [`registry`]: the only code that talks to image registries;
//!   - [`http`]: the transport both talk over (one client and runtime per
//!     process, proxies, retries);
//!   - [`ui`]: the only code that touches the terminal;
//! - [`engine`]: what commands share — a repository snapshot, drift, the status
//!   overview, the promotion plan built in the object store, publishing a
//!   gitops-owned branch, its pull request;
//! - [`cli`]: the command line and one module per command; commands use the
//!   engine and never each other;
//! - foundations: [`error`] (refusals, hints, exit codes), [`interrupt`]
//!   (Ctrl-C), [`limits`] (how long gitops waits on the network) and
//!   [`parallel`] (mapping a slice on every core).

pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod forge;
pub mod git;
pub mod http;
pub mod interrupt;
pub mod limits;
pub mod model;
pub mod parallel;
pub mod promotion;
pub mod registry;
pub mod ui;

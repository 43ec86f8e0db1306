//! Manifests as data, pure: bytes and parsed YAML in, plain values out. May use
//! [`crate::config`]'s globs and pinned rules, never git, the forge or the
//! terminal.
//!
//! - [`manifest`]: YAML documents, resource identity, leaf field paths;
//! - [`image`]: image references (`registry/path/name:tag@digest`) and names;
//! - [`images`]: where images are used in a document (containers, kustomize);
//! - [`edit`]: byte-exact tag edits (sites as byte ranges, then replacement);
//! - [`semdiff`]: the semantic diff, resource by resource and field by field;
//! - [`nesting`]: how deep a YAML text nests, checked before it is parsed;
//! - [`quick_check`]: a fast syntax check for plain block YAML, "surely valid" or
//!   "ask the parser";
//! - [`summary`]: what `status` keeps of a blob (its images, whether it parses).

pub mod edit;
pub mod image;
pub mod images;
pub mod manifest;
pub mod nesting;
pub mod quick_check;
pub mod semdiff;
pub mod summary;

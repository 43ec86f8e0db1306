//! `gitops`: branch-per-environment GitOps from the terminal.
//!
//! Layers: [`commands`] gather, plan and render; the domain ([`config`],
//! [`policy`], [`image`], [`images`], [`manifest`], [`semdiff`], [`drift`],
//! [`graph`], [`glob`]) is pure; [`git`] is the only code that touches
//! repositories and [`ui`] the only code that touches the terminal.

pub mod cli;
pub mod commands;
pub mod config;
pub mod drift;
pub mod edit;
pub mod error;
pub mod git;
pub mod github;
pub mod glob;
pub mod graph;
pub mod image;
pub mod images;
pub mod interrupt;
pub mod manifest;
pub mod policy;
pub mod promotion;
pub mod semdiff;
pub mod summary;
pub mod ui;

//! mas-link: pair a Synapse homeserver with the Matrix Authentication Service.
//!
//! The data flows load → plan → show → apply: [`yaml`] loads and edits files without
//! disturbing them, [`synapse`] and [`mas`] know each program's rules, [`plan`] holds the
//! changes with their reasons, [`write`] replaces files safely, [`cli`] is the command line.

pub mod check;
pub mod cli;
pub mod mas;
pub mod online;
pub mod plan;
pub mod record;
pub mod scan;
pub mod synapse;
pub mod wizard;
pub mod write;
pub mod yaml;

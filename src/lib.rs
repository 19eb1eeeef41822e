//! mas-link: pair a Synapse homeserver with the Matrix Authentication Service.
//!
//! The data flows one way, in the order below: [`yaml`] reads and edits files without
//! disturbing them (and knows nothing of Synapse or MAS); [`findings`] is the vocabulary of
//! verdicts; [`rules`] knows each program's rules (pure: no files, no terminal); [`files`]
//! reads what the rules need (a configuration may be several files) and [`process`] runs
//! another program under a deadline; [`plan`] makes a proposal; [`show`] and [`apply`]
//! display and write it, [`loader`] asks Synapse's own config loader where Synapse is
//! installed, [`mas_cli`] MAS's own `mas-cli config check`, [`database`] counts Synapse's
//! users, and [`online`] probes the running services; [`check`] judges both sides and their
//! pairing; [`settings`] resolves what a run was given once, for both [`wizard`] and [`cli`],
//! thin layers over all of it. No module imports one listed after it
//! (`tests/layers.rs` keeps it so).

pub mod yaml;

pub mod findings;

pub mod rules;

pub mod rights;

pub mod files;
pub mod process;

pub mod plan;

pub mod apply;
pub mod database;
pub mod loader;
pub mod mas_cli;
pub mod online;

pub mod check;
pub mod migrate;

pub mod show;

pub mod settings;

pub mod wizard;

pub mod cli;

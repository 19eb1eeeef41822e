//! One file per command, each a few functions of glue: resolve what the command is asked
//! (flags, environment, standard input), call the library, show the result.

pub(super) mod check;
pub(super) mod mas;
pub(super) mod migrate;
pub(super) mod secret;
pub(super) mod sso;
pub(super) mod synapse;
pub(super) mod unlink;

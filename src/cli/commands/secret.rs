//! `mas-link secret`: MAS's shared secret, or the pairing bundle, for a pipe.

use crate::cli::*;

pub(in crate::cli) fn cmd_secret(a: &SecretArgs, out: &mut Out) -> Result<u8> {
    let bundle = files::mas_bundle(&mas_paths(&a.mas_config))?;
    let line = if a.bundle {
        bundle.to_line()
    } else {
        bundle.secret
    };
    writeln!(out.out, "{line}")?;
    Ok(0)
}

//! `mas-link sso`: Synapse's side for MAS, one line for a pipe.

use crate::cli::*;
use crate::rules::migration;

pub(in crate::cli) fn cmd_sso(a: &SsoArgs, out: &mut Out) -> Result<u8> {
    // The line carries the providers' client secrets and Synapse's pepper: it is for a pipe.
    if std::io::stdout().is_terminal() {
        bail!(
            "`mas-link sso` prints Synapse's OpenID Connect client secrets and password pepper \
             for a pipe, and standard output is a terminal: pipe it into MAS's side \
             (`mas-link sso | mas-link mas --sso-stdin --dry-run`); `mas-link check` lists the \
             providers without their secrets"
        );
    }
    let config = files::load_synapse(&a.synapse_config, &files::synapse_paths(&a.synapse_config)?)?;
    say_read(out, &config)?;
    let mut bundle = database::synapse_side(config.layers.value(), &config.rights());
    if a.migration {
        bundle.syn2mas = Some(migration::syn2mas_side(config.layers.value()));
    }
    writeln!(out.out, "{}", bundle.to_line())?;
    Ok(0)
}

//! `mas-link check`: the request resolved from the flags, the environment and standard input,
//! the library's check run on it, its report printed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::check::{self, Online, Request};
use crate::cli::{CheckArgs, env, loader_setting, mas_cli_setting, mas_paths, read_stdin_secret};
use crate::files;
use crate::rules::{mas, synapse};
use crate::settings;
use crate::show::{self, Out};

pub(in crate::cli) fn cmd_check(a: &CheckArgs, out: &mut Out) -> Result<u8> {
    let report = check::run(&request(a)?)?;
    match a.json() {
        true => writeln!(out.out, "{}", serde_json::to_string_pretty(&report)?)?,
        false => show::write_check(&mut out.out, &report)?,
    }
    Ok(u8::from(!report.ok))
}

/// What `check` is asked for: the files given (else Cloudron's, where they are), MAS's side
/// from standard input, the loader and the probes.
fn request(a: &CheckArgs) -> Result<Request> {
    let synapse = files::given_or_default(&a.synapse_config, synapse::DEFAULT_CONFIG);
    let mas_given: Vec<PathBuf> = match (a.mas_config.as_slice(), env("MAS_CONFIG")) {
        ([], Some(_)) => mas_paths(&[]),
        (given, _) => given.to_vec(),
    };
    let mas = files::given_or_default(&mas_given, mas::DEFAULT_CONFIG);
    if synapse.is_none() && mas.is_none() {
        bail!(
            "no configuration found at {} or {}: pass --synapse-config PATH and/or --mas-config PATH",
            synapse::DEFAULT_CONFIG,
            mas::DEFAULT_CONFIG
        );
    }
    let mas_bundle = match mas.is_none() && a.mas_bundle_stdin {
        true => Some(read_stdin_secret()?),
        false => None,
    };
    Ok(Request {
        // The commands printed name these files; on Cloudron, each is a `cloudron exec` line.
        at: settings::place(synapse.as_deref(), mas.as_deref(), None),
        synapse,
        mas,
        mas_bundle,
        loader: loader_setting(&a.synapse_python),
        synapse_version: a
            .synapse_version
            .clone()
            .or_else(|| env("MAS_LINK_SYNAPSE_VERSION")),
        mas_cli: mas_cli_setting(&a.mas_cli),
        online: a.online.then(|| Online {
            synapse_url: a.synapse_url.clone(),
            mas_url: a.mas_url.clone(),
            insecure: a.insecure,
        }),
    })
}

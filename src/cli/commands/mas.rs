//! `mas-link mas`: MAS's `matrix` section pointed at Synapse, with Synapse's side (its files
//! here, or the `sso` line piped in) for its SSO providers and passwords.

use crate::cli::*;
use crate::findings::{self, Guide, Sub};

/// What `mas-link mas` sets, from the flags, the environment, Synapse's file and MAS's own.
fn matrix_options(
    a: &MasArgs,
    mas_root: &Value,
    synapse: Option<&sso::SsoBundle>,
) -> Result<MatrixOptions> {
    let from_synapse = |key: &str| match key {
        "server_name" => synapse?.server_name.clone(),
        _ => synapse?.public_baseurl.clone(),
    };
    let homeserver = a
        .homeserver
        .clone()
        .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
        .or_else(|| from_synapse("server_name"))
        .ok_or_else(|| {
            anyhow!(
                "no homeserver name: pass --homeserver NAME (Synapse's server_name), set \
                 MATRIX_HOMESERVER_DOMAIN, or give Synapse's side (--synapse-config PATH, or \
                 `mas-link sso | mas-link mas --sso-stdin` across containers)"
            )
        })?;
    check_server_name(&homeserver).map_err(|e| anyhow!("--homeserver: {e}"))?;
    let synapse_url = from_synapse("public_baseurl");
    let endpoint = a
        .synapse_endpoint
        .clone()
        .or_else(|| mas::endpoint_to_keep(mas_root, synapse_url.is_some()))
        .or(synapse_url)
        .unwrap_or_else(|| format!("https://{homeserver}/"));
    check_url(&endpoint).map_err(|e| anyhow!("--synapse-endpoint: {e}"))?;
    let endpoint = with_slash(&endpoint);
    Ok(MatrixOptions {
        homeserver,
        endpoint,
        kind: a.kind.clone(),
    })
}

/// Synapse's side for `mas-link mas`: from its files on this host, or piped from its container.
fn synapse_side(a: &MasArgs) -> Result<Option<sso::SsoBundle>> {
    if a.sso_stdin {
        if std::io::stdin().is_terminal() {
            bail!(
                "--sso-stdin reads a pipe, and standard input is a terminal: pipe Synapse's side \
                 in (`mas-link sso | mas-link mas --sso-stdin`), or use --synapse-config PATH"
            );
        }
        return Ok(Some(read_sso_line()?));
    }
    match a.synapse_config.as_slice() {
        [] => Ok(None),
        given => {
            let config = files::load_synapse(given, &files::synapse_paths(given)?)?;
            Ok(Some(database::synapse_side(
                config.layers.value(),
                &config.rights(),
            )))
        }
    }
}

/// `mas-link mas`'s proposal for MAS's files (already locked when they will be written).
fn mas_proposal(a: &MasArgs, paths: &[PathBuf]) -> Result<Proposal> {
    let config = files::load_mas(paths)?;
    let synapse = synapse_side(a)?;
    let opts = matrix_options(a, config.layers.value(), synapse.as_ref())?;
    let secret_file = files::mas_secret_file(&config)?;
    let mut p = plan::mas(
        config,
        &opts,
        &files::new_secret()?,
        secret_file.as_ref(),
        synapse.as_ref(),
        a.renumber_password_scheme,
        &mut files::new_ulid,
    )?;
    if a.renumber_password_scheme {
        let at = settings::syn2mas_at(&a.synapse_config, paths, Source::Mas, Some(&opts.endpoint));
        p.next_step = migration_next(&at);
        // On one host the link names both files; on Cloudron each end is placed in its app.
        let synapse = (!a.synapse_config.is_empty()).then_some(&a.synapse_config[..]);
        if settings::cloudron_app().is_none() {
            p.next_step
                .place(&settings::place(synapse, Some(paths), None));
        }
    }
    Ok(on_cloudron(p, Source::Mas, paths, Some(&opts.endpoint)))
}

/// The production path after MAS is ready for Synapse's passwords: the users brought over,
/// then the link, each command as it runs where this one does.
fn migration_next(at: &users::Syn2masAt) -> Guide {
    let stop = at
        .stop
        .as_ref()
        .map_or(String::new(), |s| format!("stop Synapse ({s}); "));
    let start = at
        .start
        .as_ref()
        .map_or("start Synapse".to_owned(), |s| format!("`{s}`"));
    Guide::text(format!(
        "restart MAS; then bring Synapse's users over before the link: check with `{}`; \
         {stop}migrate with `{}`; {start}; then link with ",
        at.check, at.migrate
    ))
    .run(
        findings::command(Sub::Secret, &["--bundle"]).pipe(findings::command(
            Sub::Synapse,
            &["--secret-stdin", "--users-migrated", "--yes"],
        )),
    )
}

pub(in crate::cli) fn cmd_mas(a: &MasArgs, out: &mut Out) -> Result<u8> {
    let paths = mas_paths(&a.mas_config);
    let _locks = lock(&a.write, &paths, "mas")?;
    let p = mas_proposal(a, &paths)?;
    // MAS's own check on the planned files: a refusal stops the run, nothing written.
    if let Some(judged) = mas_cli::vet(&mas_cli_setting(&a.mas_cli), &p)?
        && judged != mas_cli::Judged::Off
    {
        writeln!(out.err, "note: {}", judged.describe())?;
    }
    finish(out, &p, &a.write)
}

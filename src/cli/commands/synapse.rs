//! `mas-link synapse`: the link request resolved from the flags, the environment, MAS's side
//! and the file itself; Synapse's users checked (fail closed); the plan shown and written.

use crate::cli::*;
use crate::rights::Rights;
use crate::rules::FileState;
use crate::settings::{self, SecretFrom, Settings};

/// The flags and the environment, resolved once (as the wizard resolves its own).
fn settings(a: &SynapseArgs) -> Result<Settings> {
    if let Some(p) = &a.secret_path
        && !p.is_absolute()
    {
        bail!(
            "--secret-path {}: give an absolute path; Synapse reads a relative one from its own \
             working directory, not this one",
            p.display()
        );
    }
    Ok(Settings {
        synapse: Some(a.synapse.synapse_config.clone()),
        mas: (!a.mas_config.is_empty()).then(|| a.mas_config.clone()),
        secret: Some(SecretFrom::resolve(
            &a.mas_config,
            a.secret_file.as_deref(),
            a.secret_stdin,
        )?),
        secret_path: a.secret_path.clone(),
        endpoint: a.endpoint.clone(),
        synapse_endpoint: None,
        homeserver: None,
    })
}

/// What the link needs, from the settings, MAS's side and the file itself (its MAS block,
/// when one is there, so that relinking needs no flags).
fn link_request(
    set: &Settings,
    files: &SynapseFiles,
    config: &files::Config,
    out: &mut Out,
) -> Result<LinkRequest> {
    let root = config.layers.value();
    let from = set.secret.clone().unwrap_or(SecretFrom::Kept);
    let given = match from {
        SecretFrom::Stdin => Some(read_stdin_secret()?),
        _ => from.read()?,
    };
    let bundle = match (given, settings::kept_secret(config)?) {
        (Some(b), _) => b,
        (None, Some((secret, legacy))) => {
            if legacy {
                writeln!(
                    out.err,
                    "note: using experimental_features.msc3861.admin_token as the shared secret; \
                     MAS's matrix.secret must hold the same value"
                )?;
            }
            Bundle {
                secret,
                ..Default::default()
            }
        }
        (None, None) => bail!(
            "no secret given: pass --mas-config PATH (MAS's config.yaml), --secret-file PATH, \
             --secret-stdin, or set MAS_SECRET"
        ),
    };
    // An endpoint already set is kept unless one is given: it may be an internal address
    // (`http://mas.internal:8080/`) where MAS's public URL is not the way to reach it.
    let endpoint = settings::mas_endpoint(set.endpoint.as_deref(), root, Some(&bundle))
        .ok_or_else(|| {
            anyhow!(
                "no MAS endpoint: pass --endpoint URL (where Synapse reaches MAS), set \
                 MAS_ENDPOINT, or give --mas-config with http.public_base"
            )
        })?;
    check_url(&endpoint).map_err(|e| anyhow!("--endpoint: {e}"))?;
    let (secret_path, secret_path_now, secret_path_rights) = secret_path(set, config)?;
    let targets: Vec<PathBuf> = config.files.iter().map(|f| f.target.clone()).collect();
    let synapse_release = loader::release(
        &loader_setting(&files.synapse_python),
        &targets,
        files
            .synapse_version
            .clone()
            .or_else(|| env("MAS_LINK_SYNAPSE_VERSION"))
            .as_deref(),
    )?;
    let at = set.place(Some(&endpoint));
    Ok(LinkRequest {
        at: Some(at),
        endpoint,
        mas_providers: bundle.providers.clone(),
        secret: bundle.secret,
        secret_path_now,
        secret_path,
        secret_path_rights,
        synapse_release,
        mas_homeserver: bundle.homeserver,
    })
}

/// The file to hold the secret, what it holds now, and with whose rights it is read and
/// written: `--secret-path` is the operator's (mas-link's rights); a `secret_path` already set
/// (absolute: a relative one is Synapse's working directory's) is kept, its file rewritten
/// only when it does not hold the secret, with the rights of the configuration's owner.
fn secret_path(
    set: &Settings,
    config: &files::Config,
) -> Result<(Option<PathBuf>, Option<FileState>, Rights)> {
    if let Some(p) = &set.secret_path {
        return Ok((Some(p.clone()), Some(files::state(p)), Rights::Own));
    }
    let Some(path) = synapse::secret_path(config.layers.value())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    else {
        return Ok((None, None, Rights::Own));
    };
    let named = files::Named {
        config,
        key: files::SECRET_PATH,
    };
    let now = files::named_state(Some(&path), named)?;
    files::may_write(&path, named)?;
    Ok((Some(path), now, config.rights()))
}

/// Refuses to link a Synapse whose users MAS may not know: users in its database not yet
/// migrated, or a database that cannot be read (unless the operator says why that is fine).
/// A dry run says what `--yes` would do, and goes on to show the diff.
fn no_lock_out(
    a: &SynapseArgs,
    set: &Settings,
    config: &files::Config,
    out: &mut Out,
) -> Result<()> {
    // Already linked: MAS handles the logins now, and the link only changes its settings.
    if a.users_migrated || synapse::is_linked(config.layers.value()) {
        return Ok(());
    }
    let db = users::database(config.layers.value());
    let root = config.layers.value();
    let mas_url = settings::mas_endpoint(set.endpoint.as_deref(), root, None);
    let mas = set.mas.as_deref().unwrap_or_default();
    let at = settings::syn2mas_at(&config.given, mas, Source::Synapse, mas_url.as_deref());
    let refusal = match database::users(&db, &config.rights()) {
        database::Users::None => return Ok(()),
        database::Users::Some(census) if a.new_server => format!(
            "--new-server, but Synapse's database holds {} active local user(s): they must be \
             migrated first.\n{}",
            census.active,
            users::migration_steps(&census, &db, &at)
        ),
        database::Users::Some(census) => format!(
            "{}\n(Already migrated? Add --users-migrated.)",
            users::migration_steps(&census, &db, &at)
        ),
        database::Users::Unread(why) if a.new_server => {
            writeln!(
                out.err,
                "note: Synapse's users were not read ({why}); linking as a server that never \
                 had users, as --new-server says"
            )?;
            return Ok(());
        }
        database::Users::Unread(why) => users::unread_refusal(&why),
    };
    if !a.write.writes() {
        writeln!(out.err, "note: with --yes this would stop: {refusal}")?;
        return Ok(());
    }
    bail!("{refusal}")
}

pub(in crate::cli) fn cmd_synapse(a: &SynapseArgs, out: &mut Out) -> Result<u8> {
    let set = settings(a)?;
    let (_locks, config) = synapse_config(&a.synapse, &a.write, "synapse", out)?;
    no_lock_out(a, &set, &config, out)?;
    let req = link_request(&set, &a.synapse, &config, out)?;
    let records: Vec<Option<Record>> = config.files.iter().map(files::link_record).collect();
    let p = plan::link(config, &req, &records)?;
    let p = on_cloudron(
        p,
        Source::Synapse,
        &a.synapse.synapse_config,
        Some(&req.endpoint),
    );
    vet(out, &p, &a.synapse)?;
    finish(out, &p, &a.write)
}

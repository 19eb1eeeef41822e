//! `mas-link unlink`: the way back, from the records and backups beside the files.

use crate::cli::*;

/// A file's record's backup, read, when the file is still exactly what `synapse` wrote and the
/// backup is one mas-link made of it (else the settings are put back one by one).
fn untouched_backup(
    record: Option<&Record>,
    file: &files::Loaded,
    doc: &Document,
    out: &mut Out,
) -> Result<Option<Backup>> {
    let Some((r, named)) = record.and_then(|r| Some((r, r.backup.as_ref()?))) else {
        return Ok(None);
    };
    let Some(backup) = files::own_backup(file, named) else {
        writeln!(
            out.err,
            "note: the record beside {} names {} as its backup, which is not a backup mas-link \
             made of that file there: it is not used; the settings are put back one by one",
            file.name(),
            named.display()
        )?;
        return Ok(None);
    };
    if !r.wrote(doc.text().as_bytes()) {
        return Ok(None);
    }
    Ok(files::load(&backup, Options::PYYAML)
        .ok()
        .map(|(_, old)| Backup {
            path: backup,
            doc: old,
        }))
}

pub(in crate::cli) fn cmd_unlink(a: &UnlinkArgs, out: &mut Out) -> Result<u8> {
    let (_locks, config) = synapse_config(&a.synapse, &a.write, "unlink", out)?;
    let records: Vec<Option<Record>> = config.files.iter().map(files::link_record).collect();
    let mut backups = Vec::new();
    for ((r, l), f) in records
        .iter()
        .zip(config.layers.layers())
        .zip(&config.files)
    {
        backups.push(untouched_backup(r.as_ref(), f, &l.doc, out)?);
    }
    let secret_file = files::synapse_secret_file(&config)?;
    match database::users(&users::database(config.layers.value()), &config.rights()) {
        database::Users::Unread(why) => writeln!(
            out.err,
            "note: Synapse's users were not read ({why}): users made while MAS was in charge \
             have no password in Synapse, and get one with Synapse's admin API after unlink"
        )?,
        database::Users::Some(census) if census.without_login > 0 => writeln!(
            out.err,
            "note: {} user(s) have neither a password in Synapse nor an SSO link (made while MAS \
             was in charge): they cannot log in after unlink until they get one, with Synapse's \
             admin API (POST /_synapse/admin/v1/reset_password/USER_ID, or PUT \
             /_synapse/admin/v2/users/USER_ID with a password)",
            census.without_login
        )?,
        _ => {}
    }
    let mas_url = crate::rules::other_app_url(Some(config.layers.value()), None);
    let p = plan::unlink(config, &records, backups, secret_file.as_ref())?;
    let p = on_cloudron(
        p,
        Source::Synapse,
        &a.synapse.synapse_config,
        mas_url.as_deref(),
    );
    vet(out, &p, &a.synapse)?;
    finish(out, &p, &a.write)
}

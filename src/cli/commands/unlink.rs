//! `mas-link unlink`: the way back, from the records and backups beside the files.

use crate::cli::*;

/// A file's record's backup, read, when the file is still exactly what `synapse` wrote.
fn untouched_backup(record: Option<&Record>, doc: &Document) -> Option<Backup> {
    let r = record?;
    let backup = r.backup.as_ref()?;
    r.wrote(doc.text().as_bytes()).then_some(())?;
    let (_, old) = files::load(backup, Options::PYYAML).ok()?;
    Some(Backup {
        path: backup.clone(),
        doc: old,
    })
}

pub(in crate::cli) fn cmd_unlink(a: &UnlinkArgs, out: &mut Out) -> Result<u8> {
    let (_locks, config) = synapse_config(&a.synapse, &a.write, "unlink", out)?;
    let records: Vec<Option<Record>> = config.files.iter().map(files::link_record).collect();
    let backups = records
        .iter()
        .zip(config.layers.layers())
        .map(|(r, l)| untouched_backup(r.as_ref(), &l.doc))
        .collect();
    let secret_file = files::synapse_secret_file(config.layers.value());
    match database::users(&users::database(config.layers.value())) {
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
    let p = plan::unlink(config, &records, backups, secret_file.as_ref())?;
    vet(out, &p, &a.synapse)?;
    finish(out, &p, &a.write)
}

//! Synapse's database, read only, with a short timeout, and only by the commands that need it:
//! the users `check` reports and `synapse` must not lock out. Opened with the rights of the
//! configuration's owner (its SQLite file, a PostgreSQL socket, a `.pgpass`): the
//! configuration names it.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::rights::{Rights, RightsError};
use crate::rules::migration::{MasDatabase, People, localpart};
use crate::rules::users::{Census, Database, PgArgs};

/// How long a locked database is waited for.
const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("reading Synapse's SQLite database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("reading Synapse's PostgreSQL database {at}: {source}")]
    Postgres { at: String, source: postgres::Error },
    #[error(
        "PostgreSQL ({at}) did not answer within {} s: a server that accepts and stays silent, \
         or a network that drops the packets",
        TIMEOUT.as_secs()
    )]
    Silent { at: String },
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Rights(#[from] RightsError),
}

/// What the database holds, read with `rights`: `Ok(None)` for a fresh server (its SQLite file
/// not made yet).
pub fn census(db: &Database, rights: &Rights) -> Result<Option<Census>, DbError> {
    rights.run(|| match db {
        Database::Sqlite { path } => sqlite(path),
        Database::Postgres(args) => pg(args).map(Some),
        Database::Unknown(why) => Err(DbError::Unsupported(why.clone())),
    })?
}

/// What Synapse's database says of its users, for the link.
#[derive(Debug)]
pub enum Users {
    /// Read: no active local user (nobody to lock out).
    None,
    /// Read: users MAS must know before the link.
    Some(Census),
    /// Not read, and why: nothing is known of its users.
    Unread(String),
}

/// Synapse's users, as its configuration's database holds them.
pub fn users(db: &Database, rights: &Rights) -> Users {
    match census(db, rights) {
        Ok(Some(c)) if c.active > 0 => Users::Some(c),
        Ok(Some(_)) => Users::None,
        Ok(None) => Users::Unread(match db {
            Database::Sqlite { path } => format!(
                "the SQLite database {path} is not there from where mas-link runs (a \
                 container's path read from the host, or a server that never started)"
            ),
            _ => "the database was not found".into(),
        }),
        Err(e) => Users::Unread(e.to_string()),
    }
}

/// Synapse's side for MAS, with how many users have a password when the database says so
/// (a database not made yet or not readable says nothing).
pub fn synapse_side(root: &crate::yaml::Value, rights: &Rights) -> crate::rules::sso::SsoBundle {
    let mut side = crate::rules::sso::SsoBundle::of(root);
    side.password_users = census(&crate::rules::users::database(root), rights)
        .ok()
        .flatten()
        .map(|c| c.with_password);
    side
}

fn sqlite(path: &str) -> Result<Option<Census>, DbError> {
    if !Path::new(path).exists() {
        return Ok(None);
    }
    let fail = |source| DbError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_timeout(TIMEOUT).map_err(fail)?;
    count(&mut conn).map_err(fail).map(Some)
}

/// A connection that answers the counting queries.
trait Counts {
    type Error;
    fn count(&mut self, sql: &str) -> Result<u64, Self::Error>;
    fn groups(&mut self, sql: &str) -> Result<Vec<(String, u64)>, Self::Error>;
}

impl Counts for Connection {
    type Error = rusqlite::Error;
    fn count(&mut self, sql: &str) -> rusqlite::Result<u64> {
        self.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
    }
    fn groups(&mut self, sql: &str) -> rusqlite::Result<Vec<(String, u64)>> {
        let mut q = self.prepare(sql)?;
        q.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect()
    }
}

impl Counts for postgres::Client {
    type Error = postgres::Error;
    fn count(&mut self, sql: &str) -> Result<u64, postgres::Error> {
        Ok(self.query_one(sql, &[])?.get::<_, i64>(0) as u64)
    }
    fn groups(&mut self, sql: &str) -> Result<Vec<(String, u64)>, postgres::Error> {
        Ok(self
            .query(sql, &[])?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
            .collect())
    }
}

/// The counts, each one query the database answers from its tables and indexes (no row is
/// read into memory): the same SQL for SQLite and PostgreSQL.
fn count<C: Counts>(c: &mut C) -> Result<Census, C::Error> {
    const ACTIVE: &str = "u.deactivated = 0 AND u.is_guest = 0 AND u.appservice_id IS NULL";
    const PASSWORD: &str = "u.password_hash IS NOT NULL AND u.password_hash <> ''";
    Ok(Census {
        active: c.count(&format!("SELECT COUNT(*) FROM users u WHERE {ACTIVE}"))?,
        with_password: c.count(&format!(
            "SELECT COUNT(*) FROM users u WHERE {ACTIVE} AND {PASSWORD}"
        ))?,
        without_login: c.count(&format!(
            "SELECT COUNT(*) FROM users u WHERE {ACTIVE} AND NOT ({PASSWORD}) AND NOT \
             EXISTS (SELECT 1 FROM user_external_ids e WHERE e.user_id = u.name)"
        ))?,
        guests: c.count("SELECT COUNT(*) FROM users WHERE is_guest <> 0")?,
        deactivated: c.count("SELECT COUNT(*) FROM users WHERE deactivated <> 0")?,
        appservice: c.count("SELECT COUNT(*) FROM users WHERE appservice_id IS NOT NULL")?,
        non_email_3pids: c.count("SELECT COUNT(*) FROM user_threepids WHERE medium <> 'email'")?,
        oauth_delegated: c.count(
            "SELECT COUNT(*) FROM user_external_ids WHERE auth_provider = 'oauth-delegated'",
        )?,
        sso: c.groups(&format!(
            "SELECT e.auth_provider, COUNT(DISTINCT e.user_id) FROM user_external_ids e JOIN \
             users u ON u.name = e.user_id WHERE {ACTIVE} GROUP BY e.auth_provider ORDER BY \
             e.auth_provider"
        ))?,
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// psycopg2's arguments completed as libpq completes them: its `PG…` environment variables,
/// then its defaults (the Unix socket in /var/run/postgresql, port 5432, the OS user, a
/// database named after the user), then a password from `~/.pgpass`.
fn pg_config(a: &PgArgs) -> Result<(postgres::Config, Tls, String), DbError> {
    let host = a
        .host
        .clone()
        .or_else(|| env("PGHOST"))
        .unwrap_or_else(|| "/var/run/postgresql".into());
    let port = a
        .port
        .or_else(|| env("PGPORT").and_then(|p| p.parse().ok()))
        .unwrap_or(5432);
    let user = a
        .user
        .clone()
        .or_else(|| env("PGUSER"))
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "postgres".into());
    let dbname = a
        .dbname
        .clone()
        .or_else(|| env("PGDATABASE"))
        .unwrap_or_else(|| user.clone());
    let sslmode = a
        .sslmode
        .clone()
        .or_else(|| env("PGSSLMODE"))
        .unwrap_or_else(|| "prefer".into());
    let password = a
        .password
        .clone()
        .or_else(|| env("PGPASSWORD"))
        .or_else(|| pgpass(&host, port, &dbname, &user));
    let mut c = postgres::Config::new();
    match host.starts_with('/') {
        true => c.host_path(&host),
        false => c.host(&host),
    };
    c.port(port)
        .user(&user)
        .dbname(&dbname)
        .connect_timeout(TIMEOUT)
        // Nothing this connection does may write.
        .options("-c default_transaction_read_only=on -c statement_timeout=3000");
    if let Some(p) = &password {
        c.password(p);
    }
    // libpq's sslmode: over a Unix socket there is no TLS; `require` encrypts without checking
    // the certificate, `verify-ca`/`verify-full` check it (here against the system's roots).
    use postgres::config::SslMode;
    let (mode, tls) = match sslmode.as_str() {
        _ if host.starts_with('/') => (SslMode::Disable, Tls::None),
        "disable" => (SslMode::Disable, Tls::None),
        "allow" | "prefer" => (SslMode::Prefer, Tls::Unverified),
        "require" => (SslMode::Require, Tls::Unverified),
        "verify-ca" | "verify-full" => (SslMode::Require, Tls::Verified),
        other => {
            return Err(DbError::Unsupported(format!(
                "database.args.sslmode `{other}` is not one of libpq's modes"
            )));
        }
    };
    c.ssl_mode(mode);
    Ok((
        c,
        tls,
        format!("{dbname} at {host}:{port} as {user} (sslmode {sslmode})"),
    ))
}

/// TLS to the server: none (a Unix socket, or `disable`), or with the certificate checked or
/// not.
#[derive(Debug, Clone, Copy)]
enum Tls {
    None,
    Unverified,
    Verified,
}

/// A rustls connector that checks the server's certificate (against the system's roots) or not.
fn rustls(verify: bool) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
    use std::sync::Arc;
    let tls_error = |e: rustls::Error| DbError::Unsupported(format!("TLS: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous();
    let config = match verify {
        true => {
            let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(tls_error)?;
            builder.with_custom_certificate_verifier(Arc::new(verifier))
        }
        false => builder.with_custom_certificate_verifier(Arc::new(NoCheck(provider))),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(
        config.with_no_client_auth(),
    ))
}

/// libpq's `require`: the connection is encrypted, the certificate taken as it is (the
/// signature over the handshake is still checked).
#[derive(Debug)]
struct NoCheck(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoCheck {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A password from libpq's password file (`PGPASSFILE` or `~/.pgpass`): the first line whose
/// host, port, database and user match (`*` matches any). libpq ignores a file others can read.
fn pgpass(host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = env("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
    if std::fs::metadata(&path).ok()?.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let text = std::fs::read_to_string(path).ok()?;
    let wanted = [host, &port.to_string(), dbname, user].map(str::to_owned);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            (fields.len() == 5
                && fields[..4]
                    .iter()
                    .zip(&wanted)
                    .all(|(f, w)| f == "*" || f == w))
            .then(|| fields[4].clone())
        })
}

/// A `.pgpass` line's fields: `:` separates, `\` escapes.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.last_mut().unwrap().extend(chars.next()),
            ':' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// The census from PostgreSQL under one deadline over all of it (connect, TLS, start-up, the
/// queries): a server that accepts and never answers holds nothing, the lock included. The
/// work left behind ends with the process.
fn pg(args: &PgArgs) -> Result<Census, DbError> {
    pg_with(args, TIMEOUT, count)
}

/// `work` on PostgreSQL, read only, under one deadline over all of it.
fn pg_with<T: Send + 'static>(
    args: &PgArgs,
    deadline: Duration,
    work: fn(&mut postgres::Client) -> Result<T, postgres::Error>,
) -> Result<T, DbError> {
    let (mut config, tls, at) = pg_config(args)?;
    config.options(&format!(
        "-c default_transaction_read_only=on -c statement_timeout={}",
        deadline.as_millis()
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    let work_at = at.clone();
    std::thread::spawn(move || {
        let _ = tx.send(pg_work(&config, tls, work_at, work));
    });
    rx.recv_timeout(deadline)
        .unwrap_or(Err(DbError::Silent { at }))
}

fn pg_work<T>(
    config: &postgres::Config,
    tls: Tls,
    at: String,
    work: fn(&mut postgres::Client) -> Result<T, postgres::Error>,
) -> Result<T, DbError> {
    let fail = |source| DbError::Postgres {
        at: at.clone(),
        source,
    };
    // Without TLS, no rustls connector: it is asked for the host's name even over a socket,
    // and takes that for no name at all.
    let mut client = match tls {
        Tls::None => config.connect(postgres::NoTls),
        Tls::Unverified => config.connect(rustls(false)?),
        Tls::Verified => config.connect(rustls(true)?),
    }
    .map_err(fail)?;
    work(&mut client).map_err(fail)
}

/// How long listing a side's users and links may take (a large server's, read once).
const LIST_TIMEOUT: Duration = Duration::from_secs(120);

/// Synapse's active local users and their SSO links, by localpart, read with `rights`: what
/// MAS must hold after the migration (PostgreSQL only, as `syn2mas` reads).
pub fn synapse_people(db: &Database, rights: &Rights) -> Result<People, DbError> {
    rights.run(|| match db {
        Database::Postgres(args) => pg_with(args, LIST_TIMEOUT, |c| {
            const ACTIVE: &str = "u.deactivated = 0 AND u.is_guest = 0 AND u.appservice_id IS NULL";
            let users = c.query(&format!("SELECT u.name FROM users u WHERE {ACTIVE}"), &[])?;
            let links = c.query(
                &format!(
                    "SELECT e.user_id, e.auth_provider, e.external_id FROM user_external_ids e \
                     JOIN users u ON u.name = e.user_id WHERE {ACTIVE}"
                ),
                &[],
            )?;
            Ok(People {
                users: users.iter().map(|r| localpart(r.get(0))).collect(),
                links: links
                    .iter()
                    .map(|r| (localpart(r.get(0)), r.get(1), r.get(2)))
                    .collect(),
            })
        }),
        _ => Err(DbError::Unsupported(
            "MAS's migration reads Synapse's users from PostgreSQL only".into(),
        )),
    })?
}

/// MAS's users and upstream links (by provider UUID), read with `rights`.
pub fn mas_people(db: &MasDatabase, rights: &Rights) -> Result<People, DbError> {
    let args = match db {
        MasDatabase::Args(a) => a.clone(),
        MasDatabase::Uri(uri) => uri_args(uri)?,
    };
    rights.run(|| {
        pg_with(&args, LIST_TIMEOUT, |c| {
            let users = c.query("SELECT username FROM users", &[])?;
            let links = c.query(
                "SELECT u.username, l.upstream_oauth_provider_id::text, l.subject FROM \
                 upstream_oauth_links l JOIN users u USING (user_id)",
                &[],
            )?;
            Ok(People {
                users: users.iter().map(|r| r.get(0)).collect(),
                links: links
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect(),
            })
        })
    })?
}

/// A `postgresql://` URI as libpq's arguments (its first host).
fn uri_args(uri: &str) -> Result<PgArgs, DbError> {
    let c: postgres::Config = uri
        .parse()
        .map_err(|e: postgres::Error| DbError::Unsupported(format!("MAS's database.uri: {e}")))?;
    let host = c.get_hosts().first().map(|h| match h {
        postgres::config::Host::Tcp(name) => name.clone(),
        postgres::config::Host::Unix(path) => path.display().to_string(),
    });
    use postgres::config::SslMode;
    Ok(PgArgs {
        user: c.get_user().map(str::to_owned),
        password: c
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        dbname: c.get_dbname().map(str::to_owned),
        host,
        port: c.get_ports().first().copied(),
        sslmode: Some(
            match c.get_ssl_mode() {
                SslMode::Disable => "disable",
                SslMode::Require => "require",
                _ => "prefer",
            }
            .into(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_fields_split_on_colons_and_escapes() {
        assert_eq!(
            split_pgpass(r"h:5432:db:u:p\:w\\d"),
            ["h", "5432", "db", "u", r"p:w\d"]
        );
    }
}

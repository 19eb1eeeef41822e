//! Synapse's database, read only, with a short timeout, and only by the commands that need it:
//! the users `check` reports and `synapse` must not lock out.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::rules::users::{Census, Database};

/// How long a locked database is waited for.
const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("reading Synapse's SQLite database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

/// What the database holds: `Ok(None)` for a fresh server (its SQLite file not made yet).
pub fn census(db: &Database) -> Result<Option<Census>, DbError> {
    match db {
        Database::Sqlite { path } => sqlite(path),
        Database::Postgres(_) => Err(DbError::Unsupported(
            "Synapse's PostgreSQL database is not read by this version of mas-link".into(),
        )),
        Database::Unknown(why) => Err(DbError::Unsupported(why.clone())),
    }
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
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_timeout(TIMEOUT).map_err(fail)?;
    count(&conn).map_err(fail).map(Some)
}

/// The counts, each one query the database answers from its tables (no row is read into
/// memory): the same SQL for SQLite and PostgreSQL.
fn count(conn: &Connection) -> rusqlite::Result<Census> {
    let n = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
    };
    const ACTIVE: &str = "deactivated = 0 AND is_guest = 0 AND appservice_id IS NULL";
    let has_password = "password_hash IS NOT NULL AND password_hash <> ''";
    let mut c = Census {
        active: n(&format!("SELECT COUNT(*) FROM users WHERE {ACTIVE}"))?,
        with_password: n(&format!(
            "SELECT COUNT(*) FROM users WHERE {ACTIVE} AND {has_password}"
        ))?,
        without_login: n(&format!(
            "SELECT COUNT(*) FROM users u WHERE {ACTIVE} AND NOT ({has_password}) AND NOT \
             EXISTS (SELECT 1 FROM user_external_ids e WHERE e.user_id = u.name)"
        ))?,
        guests: n("SELECT COUNT(*) FROM users WHERE is_guest <> 0")?,
        deactivated: n("SELECT COUNT(*) FROM users WHERE deactivated <> 0")?,
        appservice: n("SELECT COUNT(*) FROM users WHERE appservice_id IS NOT NULL")?,
        non_email_3pids: n("SELECT COUNT(*) FROM user_threepids WHERE medium <> 'email'")?,
        oauth_delegated: n(
            "SELECT COUNT(*) FROM user_external_ids WHERE auth_provider = 'oauth-delegated'",
        )?,
        sso: Vec::new(),
    };
    let mut q = conn.prepare(&format!(
        "SELECT e.auth_provider, COUNT(DISTINCT e.user_id) FROM user_external_ids e JOIN users u \
         ON u.name = e.user_id WHERE {} GROUP BY e.auth_provider ORDER BY e.auth_provider",
        ACTIVE
            .replace("deactivated", "u.deactivated")
            .replace("is_guest", "u.is_guest")
            .replace("appservice_id", "u.appservice_id")
    ))?;
    c.sso = q
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(c)
}

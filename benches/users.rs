//! What reading Synapse's users adds to `mas-link check`: a SQLite database made from
//! Synapse's own full schema (the installed package's `full.sql.sqlite`, with its indexes)
//! holding 100,000 users (a fifth with SSO links, some guests, deactivated and phone 3PIDs),
//! against the same check on a server whose database is not made yet. Prints both medians
//! and the difference. Needs MAS_LINK_SYNAPSE_PYTHON (for Synapse's schema).
//!
//! Run: `MAS_LINK_SYNAPSE_PYTHON=target/synapse-venv/bin/python cargo bench --bench users`

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{median, repo};

const USERS: usize = 100_000;

/// Synapse's full SQLite schema, from the installed package.
fn schema(py: &Path) -> String {
    let out = Command::new(py)
        .args([
            "-c",
            "import synapse, os; print(os.path.dirname(synapse.__file__))",
        ])
        .output()
        .unwrap();
    let pkg = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let dir = pkg.join("storage/schema/main/full_schemas");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    versions.sort();
    std::fs::read_to_string(versions.last().unwrap().join("full.sql.sqlite")).unwrap()
}

fn fill(db: &Path, schema: &str) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(schema).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut user = tx
            .prepare("INSERT INTO users (name, password_hash, creation_ts, is_guest, deactivated) VALUES (?1, ?2, 0, ?3, ?4)")
            .unwrap();
        let mut link = tx
            .prepare("INSERT INTO user_external_ids (auth_provider, external_id, user_id) VALUES ('oidc-keycloak', ?1, ?2)")
            .unwrap();
        let mut threepid = tx
            .prepare("INSERT INTO user_threepids (user_id, medium, address, validated_at, added_at) VALUES (?1, ?2, ?3, 0, 0)")
            .unwrap();
        for i in 0..USERS {
            let name = format!("@user{i}:example.com");
            let sso = i % 5 == 0;
            let hash = (!sso).then(|| "$2b$12$abcdefghijklmnopqrstuv".to_owned());
            user.execute(rusqlite::params![
                name,
                hash,
                i32::from(i % 100 == 1),
                i32::from(i % 50 == 2)
            ])
            .unwrap();
            if sso {
                link.execute(rusqlite::params![format!("kc-{i}"), name])
                    .unwrap();
            }
            let medium = if i % 10 == 3 { "msisdn" } else { "email" };
            threepid
                .execute(rusqlite::params![name, medium, format!("{i}@example.com")])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let Some(py) = std::env::var_os("MAS_LINK_SYNAPSE_PYTHON").map(PathBuf::from) else {
        println!("users: skipped: set MAS_LINK_SYNAPSE_PYTHON (for Synapse's schema)");
        return;
    };
    let bin = env!("CARGO_BIN_EXE_mas-link");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("homeserver.db");
    fill(&db, &schema(&py));
    let fixture =
        std::fs::read_to_string(repo().join("fixtures/cloudron/homeserver.yaml")).unwrap();
    let config = |name: &str, db: &Path| {
        let p = dir.path().join(name);
        let text = fixture.replace("/app/data/data/homeserver.db", &db.display().to_string());
        std::fs::write(&p, text).unwrap();
        p
    };
    let with = config("with.yaml", &db);
    let fresh = config("fresh.yaml", &dir.path().join("not-made-yet.db"));
    let runs = if quick { 1 } else { 31 };
    let check = |hs: &Path| {
        let start = std::time::Instant::now();
        let out = Command::new(bin)
            .args(["check", "--synapse-python", "none", "--synapse-config"])
            .arg(hs)
            .output()
            .unwrap();
        let took = start.elapsed();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (took, text)
    };
    let (_, text) = check(&with);
    assert!(text.contains("users: 97000 active local user(s)"), "{text}");
    let mut a = Vec::new();
    let mut b = Vec::new();
    for _ in 0..runs {
        a.push(check(&with).0);
        b.push(check(&fresh).0);
    }
    let (a, b) = (median(a), median(b));
    println!(
        "check with {USERS} users   median {:>8.2} ms\ncheck, fresh server      median {:>8.2} ms\nreading the users adds {:.2} ms",
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        (a.as_secs_f64() - b.as_secs_f64()) * 1e3
    );
}

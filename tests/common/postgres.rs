//! A real PostgreSQL server (Debian's package) for the tests: a cluster made in a temporary
//! folder by `initdb`, run by the `postgres` user on a Unix socket in that folder and on
//! 127.0.0.1 with TLS only (a self-signed certificate made by `openssl`), stopped on drop.
//! Needs root (to act as `postgres`) and the package's binaries.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's PostgreSQL binaries, the newest version installed.
fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .expect("Debian's postgresql package (/usr/lib/postgresql)")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("initdb in /usr/lib/postgresql/*/bin")
}

fn as_postgres(program: &Path) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--",
    ])
    .arg(program);
    c
}

pub struct Postgres {
    child: Child,
    /// The folder holding the server's socket (psycopg2's `host`).
    pub socket_dir: PathBuf,
    pub port: u16,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Postgres {
    /// A new cluster in `dir` (made readable by `postgres`), started.
    pub fn start(dir: &Path, port: u16) -> Postgres {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
        let bin = bin_dir();
        let data = dir.join("pgdata");
        let out = as_postgres(&bin.join("initdb"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Over TCP, TLS or nothing.
        fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let (crt, key) = (data.join("server.crt"), data.join("server.key"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        for f in [&crt, &key] {
            let chown = Command::new("chown")
                .arg("postgres:postgres")
                .arg(f)
                .status()
                .unwrap();
            assert!(chown.success());
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        let log = fs::File::create(dir.join("postgres.log")).unwrap();
        fs::set_permissions(dir.join("postgres.log"), fs::Permissions::from_mode(0o666)).unwrap();
        let child = as_postgres(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "ssl=on"])
            .args(["-p", &port.to_string(), "-k"])
            .arg(dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let pg = Postgres {
            child,
            socket_dir: dir.to_owned(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if pg.psql("SELECT 1").is_ok() {
                return pg;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "PostgreSQL did not start: {}",
            fs::read_to_string(dir.join("postgres.log")).unwrap_or_default()
        );
    }

    /// Runs one statement as `postgres`.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new("psql")
            .args(["-X", "-q", "-t", "-U", "postgres", "-h"])
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .output()
            .map_err(|e| e.to_string())?;
        match out.status.success() {
            true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    }
}

//! A real Synapse for the tests: started on 127.0.0.1 (SQLite, or another database) by the
//! Python of MAS_LINK_SYNAPSE_PYTHON, its users registered the way operators do
//! (`register_new_matrix_user`, the admin API), stopped on drop.
#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `database:` section for SQLite in `dir`.
pub fn sqlite(dir: &Path) -> String {
    format!(
        "database:\n  name: sqlite3\n  args:\n    database: \"{}/hs.db\"\n",
        dir.display()
    )
}

/// Synapse's files in `dir`: a homeserver.yaml for `localhost` on 127.0.0.1:`port` with the
/// given `database:` section, its log config and signing key.
pub fn write_config(py: &Path, dir: &Path, port: u16, database: &str) {
    let d = dir.display();
    fs::write(
        dir.join("homeserver.yaml"),
        format!(
            "server_name: \"localhost\"\npublic_baseurl: \"http://127.0.0.1:{port}/\"\npid_file: \"{d}/hs.pid\"\n\
             listeners:\n  - port: {port}\n    bind_addresses: ['127.0.0.1']\n    type: http\n    tls: false\n    x_forwarded: false\n    resources:\n      - names: [client, federation]\n\
             {database}\
             log_config: \"{d}/log.config\"\nmedia_store_path: \"{d}/media\"\nsigning_key_path: \"{d}/signing.key\"\n\
             registration_shared_secret: \"{SHARED_SECRET}\"\n\
             report_stats: false\ntrusted_key_servers: []\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.join("log.config"),
        "version: 1\nformatters:\n  f:\n    format: '%(levelname)s %(name)s %(message)s'\nhandlers:\n  console:\n    class: logging.StreamHandler\n    formatter: f\nroot:\n  level: WARNING\n  handlers: [console]\n",
    )
    .unwrap();
    let key = format!(
        "from signedjson.key import generate_signing_key, write_signing_keys\nwrite_signing_keys(open('{d}/signing.key', 'w'), [generate_signing_key('a')])\n"
    );
    assert!(
        Command::new(py)
            .args(["-c", &key])
            .status()
            .unwrap()
            .success()
    );
}

/// A running Synapse in `dir` (its homeserver.yaml, keys and SQLite database there).
pub struct Server {
    child: Child,
    pub dir: PathBuf,
    pub port: u16,
    py: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const SHARED_SECRET: &str = "a-registration-shared-secret-for-tests";

impl Server {
    /// Writes a homeserver.yaml for `localhost` with SQLite in `dir`, and starts Synapse.
    pub fn start(py: &Path, dir: &Path) -> Server {
        Server::start_with(py, dir, &sqlite(dir))
    }

    /// The same with another `database:` section.
    pub fn start_with(py: &Path, dir: &Path, database: &str) -> Server {
        let port = free_port();
        write_config(py, dir, port, database);
        Server::run(py, dir, port)
    }

    /// Starts Synapse on the configuration in `dir` (see [`write_config`]) and waits until it
    /// answers.
    pub fn run(py: &Path, dir: &Path, port: u16) -> Server {
        let log = fs::File::create(dir.join("synapse.log")).unwrap();
        let child = Command::new(py)
            .args(["-m", "synapse.app.homeserver", "-c", "homeserver.yaml"])
            .current_dir(dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            dir: dir.to_owned(),
            port,
            py: py.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if ureq::get(&server.url("/_matrix/client/versions"))
                .call()
                .is_ok()
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "Synapse did not start:\n{}",
            fs::read_to_string(dir.join("synapse.log")).unwrap_or_default()
        );
    }

    /// The process id of the running Synapse.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Registers a user with a password through Synapse's own `register_new_matrix_user`.
    pub fn register(&self, user: &str, password: &str, admin: bool) {
        let script = self.py.parent().unwrap().join("register_new_matrix_user");
        let out = Command::new(&self.py)
            .arg(script)
            .args(["-u", user, "-p", password, "-c", "homeserver.yaml"])
            .arg(if admin { "-a" } else { "--no-admin" })
            .arg(self.url(""))
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An access token for a user, by password login.
    pub fn login(&self, user: &str, password: &str) -> String {
        let body = serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
        });
        let text = ureq::post(&self.url("/_matrix/client/v3/login"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates or updates a user through the admin API (`PUT /_synapse/admin/v2/users/…`).
    pub fn admin_put_user(&self, token: &str, user_id: &str, body: serde_json::Value) {
        ureq::put(&self.url(&format!("/_synapse/admin/v2/users/{user_id}")))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
    }

    /// Deactivates a user through the admin API.
    pub fn deactivate(&self, token: &str, user_id: &str) {
        ureq::post(&self.url(&format!("/_synapse/admin/v1/deactivate/{user_id}")))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send("{\"erase\": false}")
            .unwrap();
    }
}

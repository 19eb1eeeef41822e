//! The production path end to end, against the real programs: Debian's PostgreSQL, Synapse
//! 1.163.2 on it with a password pepper and users made the classic way (one logged in, holding
//! a token), and the real MAS (`mas-cli`, built from MAS's source) with a config from
//! `mas-cli config generate` that knows nothing of Synapse. mas-link pairs them as README's
//! production path says — MAS's side with `--renumber-password-scheme`, Synapse's refused
//! while its users are not migrated, the `syn2mas` commands it prints run as printed, then
//! `--users-migrated` — and both start. The stack starts once for this file (127.0.0.1 only),
//! and its processes are stopped by their ids when the test binary ends.
//!
//! Ignored by default: they need root (PostgreSQL runs as `postgres`), Synapse's venv
//! (MAS_LINK_SYNAPSE_PYTHON, with psycopg2) and MAS's mas-cli (MAS_LINK_MAS_CLI); `.ci/run`
//! gives all three.

mod common;
#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/server.rs"]
mod server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const PEPPER: &str = "an-e2e-password-pepper";
const ALICE: (&str, &str) = ("alice", "alice-old-password-1");
const BOB: (&str, &str) = ("bob", "bob-old-password-2");
/// Dave's password at the upstream identity provider (his subject there is his id).
const DAVE_PASSWORD: &str = "dave-upstream-password-4";

/// The running pair and what the way to it left behind.
struct Stack {
    root: PathBuf,
    /// Synapse's folder: homeserver.yaml (named in full in every command), keys, logs.
    hs_dir: PathBuf,
    mas_config: PathBuf,
    synapse_port: u16,
    mas_port: u16,
    synapse: Mutex<Option<server::Server>>,
    /// Alice's access token from Synapse, before MAS.
    alice_token: String,
    /// Dave's subject at the upstream provider, his link in Synapse.
    dave_subject: String,
    /// The `mas-link migrate …` commands mas-link printed (the check, then the migration with
    /// Synapse stopped), and what they said.
    printed: Vec<String>,
    printed_ran: Vec<(bool, String)>,
    /// The printed check for the same database over TCP (TLS), and what it said.
    tcp_check: (String, bool, String),
    pg: postgres::Postgres,
    /// MAS, and the upstream MAS.
    _mas: Vec<Child>,
}

/// The tests that change the pair (the way back) run alone; the others share it.
static TURN: RwLock<()> = RwLock::new(());

fn stack() -> &'static Stack {
    static STACK: OnceLock<Result<Stack, String>> = OnceLock::new();
    let built = STACK.get_or_init(|| {
        std::panic::catch_unwind(build).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        })
    });
    match built {
        Ok(s) => s,
        Err(why) => panic!("the stack did not start: {why}"),
    }
}

fn kit() -> PathBuf {
    mas_cli().parent().unwrap().to_owned()
}

fn hs(s: &Stack) -> PathBuf {
    s.hs_dir.join("homeserver.yaml")
}

fn synapse_url(s: &Stack, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", s.synapse_port)
}

fn mas_url(s: &Stack, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", s.mas_port)
}

/// An HTTP call that answers whatever the status; (status, JSON body or null).
fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut answer = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        (_, body) => {
            let mut r = agent.post(url).header("Content-Type", "application/json");
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.send(body.unwrap_or(json!({})).to_string())
        }
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let text = answer.body_mut().read_to_string().unwrap_or_default();
    (
        answer.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Password login at `base` (MAS's compatibility layer, or Synapse alone): the token, or the
/// status it was refused with.
fn password_login(base: &str, user: &str, password: &str) -> Result<String, u16> {
    let body = json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
    });
    match call(
        "POST",
        &format!("{base}/_matrix/client/v3/login"),
        None,
        Some(body),
    ) {
        (200, v) => Ok(v["access_token"].as_str().unwrap().to_owned()),
        (status, _) => Err(status),
    }
}

/// Who Synapse says a token belongs to.
fn whoami(s: &Stack, token: &str) -> (u16, Value) {
    call(
        "GET",
        &synapse_url(s, "/_matrix/client/v3/account/whoami"),
        Some(token),
        None,
    )
}

fn wait_for(url: &str, seconds: u64, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if ureq::get(url).call().is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "{url} did not answer in {seconds} s:\n{}",
        fs::read_to_string(log).unwrap_or_default()
    );
}

/// mas-link with the real MAS as MAS's judge (MAS_LINK_MAS_CLI stays set) and Synapse's
/// loader on.
fn mas_link_real() -> assert_cmd::Command {
    let mut c = mas_link();
    with_loader(&mut c);
    c
}

fn run_ok(c: &mut assert_cmd::Command) -> String {
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{c:?}\n{text}");
    text
}

/// The commands quoted in `text` that start with `prefix`.
fn quoted(text: &str, prefix: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// A printed command run as printed, with the real MAS's `mas-cli` and mas-link on PATH.
fn sh(dir: &Path, command: &str) -> (bool, String) {
    let path = format!(
        "{}:{}:{}",
        kit().display(),
        common::bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Stops the stack's processes by their ids once this test binary has ended (a static is
/// never dropped): Synapse's from the id [`start_synapse`] keeps (it is restarted),
/// PostgreSQL's from its pid file, MAS's by its own; then removes the folder.
#[expect(
    clippy::zombie_processes,
    reason = "the watchdog outlives the test binary on purpose: its end is the signal"
)]
fn stop_at_exit(root: &Path, hs_dir: &Path, pg_data: &Path, mas_pids: &[u32]) {
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done\n\
         kill {mas} 2>/dev/null\n\
         [ -f {hs}/synapse.id ] && kill $(cat {hs}/synapse.id) 2>/dev/null\n\
         [ -f {pg}/postmaster.pid ] && kill -INT $(head -1 {pg}/postmaster.pid) 2>/dev/null\n\
         sleep 5\nrm -rf {root}\n",
        me = std::process::id(),
        mas = mas_pids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        hs = hs_dir.display(),
        pg = pg_data.display(),
        root = root.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
}

/// MAS's generated config made to run here: its database, its two listeners on 127.0.0.1,
/// its public URL. Its `matrix` section stays as generated (it knows nothing of Synapse).
fn mas_config(
    root: &Path,
    name: &str,
    pg: &postgres::Postgres,
    mas_port: u16,
    health_port: u16,
) -> PathBuf {
    let path = root.join(format!("{name}/config.yaml"));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = Command::new(mas_cli())
        .args(["config", "generate", "--output"])
        .arg(&path)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut c: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    c["database"] = serde_yaml::from_str(&format!(
        "{{socket: '{}', port: {}, username: postgres, database: {name}}}",
        pg.socket_dir.display(),
        pg.port
    ))
    .unwrap();
    let base = format!("http://127.0.0.1:{mas_port}/");
    c["http"]["public_base"] = base.clone().into();
    c["http"]["issuer"] = base.into();
    for l in c["http"]["listeners"].as_sequence_mut().unwrap() {
        let port = match l["name"].as_str() {
            Some("web") => mas_port,
            _ => health_port,
        };
        l["binds"] = serde_yaml::from_str(&format!("[{{address: '127.0.0.1:{port}'}}]")).unwrap();
    }
    // The tests log in many times from one address within seconds.
    c["rate_limiting"] = serde_yaml::from_str(
        "{login: {per_ip: {burst: 1000, per_second: 100}, per_account: {burst: 1000, per_second: 100}}}",
    )
    .unwrap();
    fs::write(&path, serde_yaml::to_string(&c).unwrap()).unwrap();
    path
}

/// The upstream identity provider Synapse signs users in with: a second MAS (an OpenID
/// provider itself) with Synapse as its client.
const UPSTREAM_CLIENT: &str = "01JE2E0000SYNAPSEC11ENT000";
const UPSTREAM_SECRET: &str = "an-upstream-client-secret-0123456789";

/// The upstream MAS's config (its own database `upstream`), with Synapse as a client.
fn upstream_config(
    root: &Path,
    pg: &postgres::Postgres,
    port: u16,
    health: u16,
    synapse_port: u16,
) -> PathBuf {
    let path = mas_config(root, "upstream", pg, port, health);
    let mut c: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    c["clients"] = serde_yaml::from_str(&format!(
        "[{{client_id: '{UPSTREAM_CLIENT}', client_auth_method: client_secret_basic, \
         client_secret: '{UPSTREAM_SECRET}', \
         redirect_uris: ['http://127.0.0.1:{synapse_port}/_synapse/client/oidc/callback']}}]"
    ))
    .unwrap();
    // It serves no homeserver of its own: it never writes to one.
    c["matrix"]["kind"] = "synapse_read_only".into();
    fs::write(&path, serde_yaml::to_string(&c).unwrap()).unwrap();
    path
}

/// Cloudron's SSO layout (MAS_LINK_E2E_SSO=cloudron; CI runs it with Synapse 1.144.0, the
/// Cloudron app's): MAS already holds its own upstream provider for the issuer Synapse signs
/// users in with, with MAS's own client there (as the Cloudron MAS app configures Cloudron's
/// OpenID provider). The hand-over then gives that provider Synapse's `synapse_idp_id`
/// instead of adding Synapse's client to MAS.
fn cloudron_layout() -> bool {
    std::env::var("MAS_LINK_E2E_SSO").as_deref() == Ok("cloudron")
}

/// MAS's own provider and client at the upstream, in Cloudron's layout.
const MAS_OWN_PROVIDER: &str = "01JE2E0000MASPR0V1DER00000";
const MAS_OWN_CLIENT: &str = "01JE2E0000MASC11ENT0000000";
const MAS_OWN_SECRET: &str = "mas-own-client-secret-0123456789";

/// Cloudron's layout: the upstream knows MAS's own client, and MAS's config its own provider
/// for the upstream's issuer (no `synapse_idp_id`: it was MAS's before Synapse's came).
fn mas_own_provider(upstream: &Path, upstream_port: u16, mas: &Path, mas_port: u16) {
    let mut c: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(upstream).unwrap()).unwrap();
    let client: serde_yaml::Value = serde_yaml::from_str(&format!(
        "{{client_id: '{MAS_OWN_CLIENT}', client_auth_method: client_secret_basic, \
         client_secret: '{MAS_OWN_SECRET}', \
         redirect_uris: ['http://127.0.0.1:{mas_port}/upstream/callback/{MAS_OWN_PROVIDER}']}}"
    ))
    .unwrap();
    c["clients"].as_sequence_mut().unwrap().push(client);
    fs::write(upstream, serde_yaml::to_string(&c).unwrap()).unwrap();
    let mut m: serde_yaml::Value = serde_yaml::from_str(&fs::read_to_string(mas).unwrap()).unwrap();
    m["upstream_oauth2"] = serde_yaml::from_str(&format!(
        "{{providers: [{{id: '{MAS_OWN_PROVIDER}', human_name: Cloudron, \
         issuer: 'http://127.0.0.1:{upstream_port}/', client_id: '{MAS_OWN_CLIENT}', \
         client_secret: '{MAS_OWN_SECRET}', token_endpoint_auth_method: client_secret_basic, \
         scope: 'openid profile', discovery_mode: insecure, \
         claims_imports: {{localpart: {{action: require, \
         template: '{{{{ user.preferred_username }}}}'}}}}}}]}}"
    ))
    .unwrap();
    fs::write(mas, serde_yaml::to_string(&m).unwrap()).unwrap();
}

/// README's production path on Cloudron ("Existing users", "On Cloudron"), its commands as
/// written (the example Synapse URL given the test's), run from the operator's machine
/// through the stand-in `cloudron`: the two apps are folders whose `/app/data` files are the
/// stack's (Synapse's homeserver.yaml, MAS's config.yaml), MAS's app has the real `mas-cli`
/// at `/app/code/mas-cli`, and `cloudron stop` on Synapse's app stops the running Synapse.
/// The one script and what it said.
fn readme_cloudron_path(
    root: &Path,
    hs_dir: &Path,
    mas: &Path,
    synapse_url: &str,
    health: u16,
) -> (Vec<String>, Vec<(bool, String)>) {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let apps = root.join("apps");
    let matrix = apps.join("matrix.example.com");
    let auth = apps.join("auth.example.com");
    for d in [
        matrix.join("app/data/configs"),
        auth.join("app/data"),
        auth.join("app/code"),
    ] {
        fs::create_dir_all(d).unwrap();
    }
    symlink(
        hs_dir.join("homeserver.yaml"),
        matrix.join("app/data/configs/homeserver.yaml"),
    )
    .unwrap();
    symlink(mas, auth.join("app/data/config.yaml")).unwrap();
    symlink(mas_cli(), auth.join("app/code/mas-cli")).unwrap();
    for app in [&matrix, &auth] {
        fs::copy(common::bin(), app.join("app/data/mas-link")).unwrap();
    }
    let id = hs_dir.join("synapse.id");
    let id = id.display();
    fs::write(
        matrix.join("stop"),
        format!(
            // Until it has exited (a zombie of the test's, which reaps it later, counts).
            "#!/bin/sh\npid=$(cat '{id}')\nkill \"$pid\"\nwhile [ -e /proc/$pid ] && [ \"$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f1)\" != Z ]; do sleep 0.1; done\n"
        ),
    )
    .unwrap();
    // MAS's app runs MAS, as Cloudron's does: its restart (re)starts it, so that MAS runs
    // while `syn2mas` migrates, as it must on Cloudron (`exec` needs the app running).
    fs::write(
        auth.join("restart"),
        format!(
            "#!/bin/sh\n[ -f '{root}/mas.pid' ] && kill $(cat '{root}/mas.pid') 2>/dev/null && sleep 1\n\
             cd '{kit}' && RUST_BACKTRACE=0 '{cli}' server -c '{mas}' >>'{root}/mas.log' 2>&1 </dev/null &\n\
             echo $! > '{root}/mas.pid'\n\
             for i in $(seq 600); do python3 -c 'import urllib.request as u; \
             u.urlopen(\"http://127.0.0.1:{health}/health\", timeout=1)' 2>/dev/null && exit 0; \
             sleep 0.2; done\nexit 1\n",
            root = root.display(),
            kit = kit().display(),
            cli = mas_cli().display(),
            mas = mas.display(),
        ),
    )
    .unwrap();
    let tools = root.join("tools");
    fs::create_dir_all(&tools).unwrap();
    fs::write(tools.join("cloudron"), CLOUDRON).unwrap();
    for hook in [
        matrix.join("stop"),
        auth.join("restart"),
        tools.join("cloudron"),
    ] {
        fs::set_permissions(hook, fs::Permissions::from_mode(0o755)).unwrap();
    }
    if !Path::new("/app").exists() {
        fs::create_dir("/app").expect("root makes /app, the apps' mount point");
    }
    let commands = readme_blocks(
        "On Cloudron (the Synapse app keeps its users in PostgreSQL)",
        "Legacy clients",
    )
    .join("\n")
    .replace("https://matrix.example.com/", synapse_url);
    // Under a deadline: a step that waited for ever would hold the whole suite.
    let out = Command::new("timeout")
        .args(["600", "sh", "-c"])
        .arg(format!("set -eu\n{commands}\n"))
        .current_dir(root)
        .env(
            "PATH",
            format!("{}:{}", tools.display(), std::env::var("PATH").unwrap()),
        )
        .env("FAKE_APPS", &apps)
        .env("MAS_LINK_SYNAPSE_PYTHON", synapse_python())
        .env("MAS_LINK_MAS_CLI", mas_cli())
        .env("NO_COLOR", "1")
        .env_remove("CLOUDRON_APP_ORIGIN")
        .env_remove("MAS_SECRET")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (vec![commands], vec![(out.status.success(), said)])
}

/// The upstream's client for Synapse may also send users back to MAS's callback for the
/// provider mas-link handed over (known once it is written).
fn allow_mas_callback(upstream: &Path, mas: &Path, mas_port: u16) {
    let m: serde_yaml::Value = serde_yaml::from_str(&fs::read_to_string(mas).unwrap()).unwrap();
    let id = m["upstream_oauth2"]["providers"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut c: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(upstream).unwrap()).unwrap();
    let uris = c["clients"][0]["redirect_uris"].as_sequence_mut().unwrap();
    uris.push(format!("http://127.0.0.1:{mas_port}/upstream/callback/{id}").into());
    fs::write(upstream, serde_yaml::to_string(&c).unwrap()).unwrap();
}

/// Dave, made at the upstream provider; his subject there. MAS checks with a homeserver that
/// the name is free before it makes a user: for that one command the upstream's config
/// reaches Synapse through its admin API (`synapse_legacy`, Bob's admin token); then it is
/// read-only again, and never writes to Synapse.
fn upstream_user(config: &Path, pg: &postgres::Postgres, admin: &str, synapse_port: u16) -> String {
    let set_matrix = |matrix: &str| {
        let mut c: serde_yaml::Value =
            serde_yaml::from_str(&fs::read_to_string(config).unwrap()).unwrap();
        c["matrix"] = serde_yaml::from_str(matrix).unwrap();
        fs::write(config, serde_yaml::to_string(&c).unwrap()).unwrap();
    };
    let read_only = fs::read_to_string(config).unwrap();
    set_matrix(&format!(
        "{{kind: synapse_legacy, homeserver: localhost, secret: '{admin}', \
         endpoint: 'http://127.0.0.1:{synapse_port}/'}}"
    ));
    let out = Command::new(mas_cli())
        .args([
            "manage",
            "register-user",
            "--yes",
            "--ignore-password-complexity",
        ])
        .args(["-p", DAVE_PASSWORD, "-c"])
        .arg(config)
        .arg("dave")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    fs::write(config, read_only).unwrap();
    assert!(out.status.success(), "{out:?}");
    mas_user_ulid(pg, "upstream", "dave")
}

/// A user's id in a MAS database, as MAS shows it (a ULID): its `sub` as an OpenID provider.
fn mas_user_ulid(pg: &postgres::Postgres, database: &str, username: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-U", "postgres", "-h"])
        .arg(&pg.socket_dir)
        .args(["-p", &pg.port.to_string(), "-d", database, "-c"])
        .arg(format!(
            "SELECT user_id FROM users WHERE username = '{username}'"
        ))
        .output()
        .unwrap();
    let uuid = String::from_utf8_lossy(&out.stdout).trim().replace('-', "");
    let n = u128::from_str_radix(&uuid, 16).unwrap_or_else(|e| panic!("{uuid:?}: {e}"));
    const DIGITS: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..26)
        .map(|i| DIGITS[((n >> (125 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// A MAS server on `config`, run from the kit (it reads `./share`), answering on `health`.
fn start_mas(root: &Path, config: &Path, name: &str, health: u16) -> Child {
    let log_path = root.join(format!("{name}.log"));
    let log = fs::File::create(&log_path).unwrap();
    let child = Command::new(mas_cli())
        .args(["server", "-c"])
        .arg(config)
        .current_dir(kit())
        .env("RUST_BACKTRACE", "0")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&format!("http://127.0.0.1:{health}/health"), 120, &log_path);
    child
}

/// Synapse's homeserver.yaml on PostgreSQL through its Unix socket (Debian's layout), with a
/// pepper, password login on and registration off.
fn synapse_config(py: &Path, hs_dir: &Path, pg: &postgres::Postgres, port: u16, upstream: u16) {
    fs::create_dir_all(hs_dir).unwrap();
    let database = format!(
        "database:\n  name: psycopg2\n  args:\n    user: postgres\n    database: synapse\n    host: \"{}\"\n    port: {}\n    cp_min: 1\n    cp_max: 5\n",
        pg.socket_dir.display(),
        pg.port
    );
    server::write_config(py, hs_dir, port, &database);
    let path = hs_dir.join("homeserver.yaml");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "password_config:\n  enabled: true\n  pepper: \"{PEPPER}\"\nenable_registration: false\n\
         oidc_providers:\n  - idp_id: upstream\n    idp_name: Upstream\n    \
         issuer: \"http://127.0.0.1:{upstream}/\"\n    client_id: \"{UPSTREAM_CLIENT}\"\n    \
         client_secret: \"{UPSTREAM_SECRET}\"\n    skip_verification: true\n    \
         scopes: [\"openid\"]\n    user_mapping_provider:\n      config:\n        \
         localpart_template: \"{{{{ user.preferred_username }}}}\"\n"
    ));
    fs::write(&path, text).unwrap();
}

/// The TCP form of Synapse's database (127.0.0.1, TLS), as another homeserver.yaml: the URI
/// mas-link prints for it, and what `syn2mas check` made of it.
fn tcp_check(
    s_root: &Path,
    hs_path: &Path,
    mas: &Path,
    pg: &postgres::Postgres,
) -> (String, bool, String) {
    let tcp = s_root.join("tcp/homeserver.yaml");
    fs::create_dir_all(tcp.parent().unwrap()).unwrap();
    let text = fs::read_to_string(hs_path).unwrap().replace(
        &format!("host: \"{}\"", pg.socket_dir.display()),
        "host: \"127.0.0.1\"\n    sslmode: require",
    );
    fs::write(&tcp, text).unwrap();
    let out = mas_link()
        .args(["synapse", "--dry-run", "--synapse-config"])
        .arg(&tcp)
        .arg("--mas-config")
        .arg(mas)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let check = quoted(&said, "mas-link migrate")
        .into_iter()
        .find(|c| !c.ends_with("--yes"))
        .unwrap_or_else(|| panic!("no migration check printed: {said}"));
    let (ok, answer) = sh(s_root, &check);
    (check, ok, answer)
}

/// Synapse started on its folder, its process id kept there for [`stop_at_exit`].
fn start_synapse(py: &Path, hs_dir: &Path, port: u16) -> server::Server {
    let synapse = server::Server::run(py, hs_dir, port);
    fs::write(hs_dir.join("synapse.id"), synapse.id().to_string()).unwrap();
    synapse
}

fn build() -> Stack {
    let py = synapse_python();
    let root = tempfile::tempdir().unwrap().keep();
    fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let pg = postgres::Postgres::start(&root.join("pg").tap_mkdir(), server::free_port());
    pg.psql(
        "CREATE DATABASE synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )
    .unwrap();
    pg.psql("CREATE DATABASE mas").unwrap();
    pg.psql("CREATE DATABASE upstream").unwrap();
    let port = server::free_port;
    let (synapse_port, mas_port, health_port) = (port(), port(), port());
    let (upstream_port, upstream_health) = (port(), port());
    // The identity provider Synapse signs users in with (Synapse checks it as it starts).
    let upstream = upstream_config(&root, &pg, upstream_port, upstream_health, synapse_port);
    let upstream_config = upstream;
    let upstream = start_mas(&root, &upstream_config, "upstream", upstream_health);

    let hs_dir = root.join("synapse");
    synapse_config(&py, &hs_dir, &pg, synapse_port, upstream_port);
    let hs_path = hs_dir.join("homeserver.yaml");

    // Phase 1: Synapse alone, its users made the classic way; Alice logs in; Dave signs in
    // with the upstream provider (his link made through the admin API).
    let synapse = start_synapse(&py, &hs_dir, synapse_port);
    synapse.register(ALICE.0, ALICE.1, false);
    synapse.register(BOB.0, BOB.1, true);
    let alice_token = synapse.login(ALICE.0, ALICE.1);
    let admin = synapse.login(BOB.0, BOB.1);
    let dave_subject = upstream_user(&upstream_config, &pg, &admin, synapse_port);
    synapse.admin_put_user(
        &admin,
        "@dave:localhost",
        json!({"external_ids": [{"auth_provider": "oidc-upstream", "external_id": dave_subject}]}),
    );

    // MAS's side: a config that knows nothing of Synapse, paired by mas-link (passwords
    // carried: bcrypt with Synapse's pepper as scheme version 1).
    let mas = mas_config(&root, "mas", &pg, mas_port, health_port);
    if cloudron_layout() {
        mas_own_provider(&upstream_config, upstream_port, &mas, mas_port);
    }
    if cloudron_layout() {
        // README's production path on Cloudron, as written, through the stand-in `cloudron`.
        let synapse_url = format!("http://127.0.0.1:{synapse_port}/");
        let (printed, printed_ran) =
            readme_cloudron_path(&root, &hs_dir, &mas, &synapse_url, health_port);
        drop(synapse);
        // The upstream knows MAS's own client from now on.
        let mut upstream = upstream;
        let _ = upstream.kill();
        let _ = upstream.wait();
        let upstream = start_mas(&root, &upstream_config, "upstream", upstream_health);
        return finish_build(Build {
            root,
            py,
            hs_dir,
            mas,
            pg,
            ports: (synapse_port, mas_port, health_port),
            upstream,
            alice_token,
            dave_subject,
            printed,
            printed_ran,
            tcp_check: (String::new(), true, String::new()),
            link: false,
        });
    }
    run_ok(
        mas_link_real()
            .args(["mas", "--renumber-password-scheme", "--yes", "--mas-config"])
            .arg(&mas)
            .arg("--synapse-config")
            .arg(&hs_path),
    );

    // The upstream lets its users back to MAS's callback for the provider handed over (in
    // Cloudron's layout, MAS's own client already may).
    if !cloudron_layout() {
        allow_mas_callback(&upstream_config, &mas, mas_port);
    }
    let mut upstream = upstream;
    let _ = upstream.kill();
    let _ = upstream.wait();
    let upstream = start_mas(&root, &upstream_config, "upstream", upstream_health);

    // Synapse's side is refused while its users are not in MAS: the steps, printed.
    let refused = mas_link_real()
        .args(["synapse", "--yes", "--synapse-config"])
        .arg(&hs_path)
        .arg("--mas-config")
        .arg(&mas)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(2), "{said}");
    let printed: Vec<String> = quoted(&said, "mas-link migrate");
    assert_eq!(printed.len(), 2, "{said}");

    // The printed check while Synapse runs; Synapse stopped, the printed migration; then the
    // link.
    let tcp_check = tcp_check(&root, &hs_path, &mas, &pg);
    let mut printed_ran = vec![sh(&root, &printed[0])];
    drop(synapse);
    printed_ran.push(sh(&root, &printed[1]));
    finish_build(Build {
        root,
        py,
        hs_dir,
        mas,
        pg,
        ports: (synapse_port, mas_port, health_port),
        upstream,
        alice_token,
        dave_subject,
        printed,
        printed_ran,
        tcp_check,
        link: true,
    })
}

/// What the build made up to the link.
struct Build {
    root: PathBuf,
    py: PathBuf,
    hs_dir: PathBuf,
    mas: PathBuf,
    pg: postgres::Postgres,
    ports: (u16, u16, u16),
    upstream: Child,
    alice_token: String,
    dave_subject: String,
    printed: Vec<String>,
    printed_ran: Vec<(bool, String)>,
    tcp_check: (String, bool, String),
    /// Whether the link is still to be made (README's Cloudron path made it).
    link: bool,
}

/// The link (unless made), then both started.
fn finish_build(b: Build) -> Stack {
    let Build {
        root,
        py,
        hs_dir,
        mas,
        pg,
        ports: (synapse_port, mas_port, health_port),
        upstream,
        alice_token,
        dave_subject,
        printed,
        printed_ran,
        tcp_check,
        link,
    } = b;
    if link {
        run_ok(
            mas_link_real()
                .args(["synapse", "--users-migrated", "--yes", "--synapse-config"])
                .arg(hs_dir.join("homeserver.yaml"))
                .arg("--mas-config")
                .arg(&mas),
        );
    }
    // Both start (MAS, unless its app's `cloudron restart` runs it already).
    let synapse = start_synapse(&py, &hs_dir, synapse_port);
    let running = fs::read_to_string(root.join("mas.pid")).ok();
    let (mas_child, mas_pid) = match running.and_then(|p| p.trim().parse::<u32>().ok()) {
        Some(pid) => {
            wait_for(
                &format!("http://127.0.0.1:{health_port}/health"),
                120,
                &root.join("mas.log"),
            );
            (None, pid)
        }
        None => {
            let child = start_mas(&root, &mas, "mas", health_port);
            let pid = child.id();
            (Some(child), pid)
        }
    };
    stop_at_exit(
        &root,
        &hs_dir,
        &root.join("pg/pgdata"),
        &[mas_pid, upstream.id()],
    );
    Stack {
        root,
        hs_dir,
        mas_config: mas,
        synapse_port,
        mas_port,
        synapse: Mutex::new(Some(synapse)),
        alice_token,
        dave_subject,
        printed,
        printed_ran,
        tcp_check,
        pg,
        _mas: mas_child.into_iter().chain([upstream]).collect(),
    }
}

trait Mkdir {
    fn tap_mkdir(self) -> Self;
}

impl Mkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        fs::create_dir_all(&self).unwrap();
        self
    }
}

const NEEDS: &str = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run";

/// The migration's commands mas-link printed ran as printed: `--mas-config` naming MAS's file,
/// no secret in them; the check (also over TCP with TLS), then the migration, after which
/// MAS holds every user and SSO link of Synapse's.
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn the_printed_syn2mas_commands_run_as_printed() {
    let _ = NEEDS;
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    if cloudron_layout() {
        // README's Cloudron path ran as written: MAS holds everyone, no secret was typed.
        let (ok, said) = &s.printed_ran[0];
        assert!(ok, "{}\n{said}", s.printed[0]);
        assert!(
            said.contains("MAS holds all 3 active local user(s) of Synapse and all 1 SSO link(s)"),
            "{said}"
        );
        assert!(said.contains("stopped matrix.example.com"), "{said}");
        for secret in [UPSTREAM_SECRET, MAS_OWN_SECRET, "postgres:"] {
            assert!(!s.printed[0].contains(secret), "{secret}");
        }
        return;
    }
    let mas = s.mas_config.display().to_string();
    assert!(!s.printed[0].ends_with("--yes") && s.printed[1].ends_with("--yes"));
    for (command, (ok, said)) in s.printed.iter().zip(&s.printed_ran) {
        assert!(command.starts_with("mas-link migrate"), "{command}");
        assert!(
            command.contains(&format!("--mas-config {mas}")),
            "{command}"
        );
        assert!(!command.contains("postgresql:"), "{command}");
        assert!(ok, "{command}\n{said}");
    }
    let (_, said) = &s.printed_ran[1];
    assert!(
        said.contains("MAS holds all 3 active local user(s) of Synapse and all 1 SSO link(s)"),
        "{said}"
    );
    // Its next step is the link, as printed.
    assert!(said.contains("--users-migrated --yes"), "{said}");
    // Nothing of Synapse's side is left behind.
    let left: Vec<_> = fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("mas-link-syn2mas-")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let (command, ok, said) = &s.tcp_check;
    assert!(ok, "{command}\n{said}");
    assert!(said.contains("syn2mas check passed"), "{said}");
}

/// Every old user logs in with the old password through MAS's compatibility login, and the
/// token MAS gives works on Synapse; Alice's Synapse token still works; a wrong password is
/// refused.
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn old_users_log_in_through_mas() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    for (user, password) in [ALICE, BOB] {
        let token = password_login(&mas_url(s, ""), user, password)
            .unwrap_or_else(|status| panic!("{user}: MAS refused the old password ({status})"));
        let (status, me) = whoami(s, &token);
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["user_id"], format!("@{user}:localhost"));
    }
    let (status, me) = whoami(s, &s.alice_token);
    assert_eq!(
        (status, me["user_id"].as_str()),
        (200, Some("@alice:localhost")),
        "{me}"
    );
    assert_eq!(
        password_login(&mas_url(s, ""), ALICE.0, "not-her-password"),
        Err(403)
    );
    // Synapse itself no longer answers password logins: MAS does.
    assert!(password_login(&synapse_url(s, ""), ALICE.0, ALICE.1).is_err());
}

/// A user made in MAS logs in; Synapse tells clients to log in with MAS (its issuer), and
/// QR-code login is there, as msc4108_enabled promises.
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn a_mas_user_logs_in_and_synapse_advertises_mas() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(mas_cli())
        .args([
            "manage",
            "register-user",
            "--yes",
            "--ignore-password-complexity",
        ])
        .args(["-p", "carol-new-password-3", "-c"])
        .arg(&s.mas_config)
        .arg("carol")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = password_login(&mas_url(s, ""), "carol", "carol-new-password-3").unwrap();
    assert_eq!(whoami(s, &token).1["user_id"], "@carol:localhost");
    // What a Cloudron admin can give a bot (README: legacy clients): a token MAS issues,
    // used on Synapse.
    let out = Command::new(mas_cli())
        .args(["manage", "issue-compatibility-token", "-c"])
        .arg(&s.mas_config)
        .arg("carol")
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let bot = said
        .split(|c: char| c.is_whitespace() || c == '"')
        .find(|w| w.starts_with("mct_"))
        .unwrap_or_else(|| panic!("no token in: {said}"));
    assert_eq!(whoami(s, bot).1["user_id"], "@carol:localhost");
    // The stable path, or MSC2965's unstable one where only that is served (1.136).
    let (status, meta) = ["v1", "unstable/org.matrix.msc2965"]
        .iter()
        .map(|at| {
            let path = format!("/_matrix/client/{at}/auth_metadata");
            call("GET", &synapse_url(s, &path), None, None)
        })
        .find(|(status, _)| *status != 404)
        .unwrap_or((404, Value::Null));
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["issuer"], mas_url(s, "/"));
    let (status, _) = call(
        "GET",
        &synapse_url(s, "/_matrix/client/unstable/org.matrix.msc4108/rendezvous"),
        None,
        None,
    );
    // Synapse 1.136 refuses QR-code login beside MAS: mas-link leaves it off there.
    match synapse_release().1.qr_login_with_mas() {
        true => assert_ne!(status, 404, "QR-code login's rendezvous endpoint"),
        false => assert_eq!(status, 404, "QR-code login is off on 1.136"),
    }
}

/// The release of the Synapse under test (MAS_LINK_SYNAPSE_PYTHON's), as it says it.
fn synapse_release() -> (String, mas_link::rules::release::Release) {
    let out = Command::new(synapse_python())
        .args(["-I", "-c", "import synapse; print(synapse.__version__)"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let release = mas_link::rules::release::Release::parse(&text).unwrap();
    (text, release)
}

fn check_online(s: &Stack, hs: &Path, mas: &Path) -> (i32, Value) {
    let out = mas_link_real()
        .args(["check", "--online", "--format", "json", "--synapse-config"])
        .arg(hs)
        .arg("--mas-config")
        .arg(mas)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let _ = s;
    (out.status.code().unwrap(), report)
}

fn probe<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name}: {report:#}"))
}

/// `check` and `check --online` pass against the live pair, with Synapse's loader and MAS's
/// own check as judges; `--online` says what password clients meet at Synapse's URL.
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn check_passes_on_the_live_pair() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    let (code, report) = check_online(s, &hs(s), &s.mas_config);
    assert_eq!(code, 0, "{report:#}");
    let (version, release) = synapse_release();
    let mut names = vec![
        "synapse_from_mas",
        "client_versions",
        "mas_discovery",
        "shared_secret",
        "auth_metadata",
        "synapse_release",
    ];
    if release.qr_login_with_mas() {
        names.push("qr_login");
    }
    for name in names {
        assert_eq!(probe(&report, name)["ok"], true, "{name}: {report:#}");
    }
    // The running server's release, and the files' (from the loader that judged).
    assert_eq!(
        probe(&report, "synapse_release")["detail"],
        format!("Synapse {version}"),
        "{report:#}"
    );
    assert!(
        report["synapse_release"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Synapse {version} (from Synapse's loader")),
        "{report:#}"
    );
    assert!(
        report["mas_check"].as_str().unwrap().contains("accepts"),
        "{report:#}"
    );
    assert!(
        report["synapse_loader"]
            .as_str()
            .unwrap()
            .contains("accepts"),
        "{report:#}"
    );
    // Probed directly (no reverse proxy), Synapse's /login answers 404, and MAS serves it.
    let login = probe(&report, "login_routed");
    assert_eq!(login["ok"], false);
    assert!(
        login["detail"].as_str().unwrap().contains(&format!(
            "MAS serves it at {}",
            mas_url(s, "/_matrix/client/v3/login")
        )),
        "{login}"
    );
}

/// A copy of one side's file, changed: the live probes against the running pair.
fn changed_copy(s: &Stack, from: &Path, name: &str, change: &dyn Fn(String) -> String) -> PathBuf {
    let dir = s.root.join(format!("copies/{name}"));
    fs::create_dir_all(&dir).unwrap();
    let to = dir.join(from.file_name().unwrap());
    fs::write(&to, change(fs::read_to_string(from).unwrap())).unwrap();
    to
}

/// The secret in the copy's `matrix` section (MAS's), replaced.
fn other_secret(text: String) -> String {
    let at = text.find("\nmatrix:").unwrap();
    let line = at + text[at..].find("  secret: ").unwrap();
    let end = line + text[line..].find('\n').unwrap();
    format!(
        "{}  secret: not-the-secret-synapse-has-0123{}",
        &text[..line],
        &text[end..]
    )
}

#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn online_fails_when_the_secret_differs() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    let mas = changed_copy(s, &s.mas_config, "secret", &other_secret);
    let (code, report) = check_online(s, &hs(s), &mas);
    assert_eq!(code, 1, "{report:#}");
    let p = probe(&report, "shared_secret");
    assert_eq!(p["ok"], false);
    assert!(
        p["detail"].as_str().unwrap().contains("secret mismatch"),
        "{p}"
    );
    assert!(
        !report
            .to_string()
            .contains("not-the-secret-synapse-has-0123")
    );
}

#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn online_fails_when_mas_cannot_reach_synapse() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    let closed = server::free_port();
    let mas = changed_copy(s, &s.mas_config, "endpoint", &|t| {
        t.replace(
            &format!("127.0.0.1:{}", s.synapse_port),
            &format!("127.0.0.1:{closed}"),
        )
    });
    let (code, report) = check_online(s, &hs(s), &mas);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        probe(&report, "synapse_from_mas")["ok"],
        false,
        "{report:#}"
    );
    assert!(
        report["findings"]
            .to_string()
            .contains("MAS cannot reach Synapse at its matrix.endpoint"),
        "{report:#}"
    );
}

#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn online_fails_when_synapse_cannot_reach_mas() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    let closed = server::free_port();
    let hs = changed_copy(s, &hs(s), "mas-endpoint", &|t| {
        t.replace(
            &format!("http://127.0.0.1:{}/", s.mas_port),
            &format!("http://127.0.0.1:{closed}/"),
        )
    });
    let (code, report) = check_online(s, &hs, &s.mas_config);
    assert_eq!(code, 1, "{report:#}");
    let p = probe(&report, "mas_discovery");
    assert_eq!(p["ok"], false, "{report:#}");
    assert!(p["detail"].as_str().unwrap().contains("unreachable"), "{p}");
}

/// The way back: `unlink`, Synapse alone, the old users log in with their passwords through
/// Synapse; then linked again as the first time, and MAS logs them in again.
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn the_way_back_and_forth() {
    let s = stack();
    let _turn = TURN.write().unwrap_or_else(|e| e.into_inner());
    let py = synapse_python();
    let restart = || {
        let mut synapse = s.synapse.lock().unwrap();
        drop(synapse.take());
        *synapse = Some(start_synapse(&py, &s.hs_dir, s.synapse_port));
    };
    run_ok(
        mas_link_real()
            .args(["unlink", "--yes", "--synapse-config"])
            .arg(hs(s)),
    );
    restart();
    for (user, password) in [ALICE, BOB] {
        let token = password_login(&synapse_url(s, ""), user, password)
            .unwrap_or_else(|status| panic!("{user}: Synapse alone refused ({status})"));
        assert_eq!(whoami(s, &token).1["user_id"], format!("@{user}:localhost"));
    }
    run_ok(
        mas_link_real()
            .args(["synapse", "--users-migrated", "--yes", "--synapse-config"])
            .arg(hs(s))
            .arg("--mas-config")
            .arg(&s.mas_config),
    );
    restart();
    let token = password_login(&mas_url(s, ""), ALICE.0, ALICE.1).unwrap();
    assert_eq!(whoami(s, &token).0, 200);
}

/// Dave, who signed in to Synapse through the upstream provider, keeps his identity: after
/// `syn2mas`, MAS links him to the provider mas-link handed over (the upstream's issuer) under
/// the same subject.
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn an_sso_user_keeps_their_identity() {
    let s = stack();
    let _turn = TURN.read().unwrap_or_else(|e| e.into_inner());
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-U", "postgres", "-h"])
        .arg(&s.pg.socket_dir)
        .args(["-p", &s.pg.port.to_string(), "-d", "mas", "-c"])
        .arg(
            "SELECT u.username || ' ' || l.subject || ' ' || p.issuer \
             FROM upstream_oauth_links l JOIN users u USING (user_id) \
             JOIN upstream_oauth_providers p USING (upstream_oauth_provider_id)",
        )
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mas = fs::read_to_string(&s.mas_config).unwrap();
    let issuer = mas
        .lines()
        .filter_map(|l| l.trim().strip_prefix("issuer: "))
        .map(|i| i.trim_matches('"').to_owned())
        .find(|i| !i.contains(&s.mas_port.to_string()));
    let issuer = issuer.unwrap_or_else(|| panic!("no upstream issuer in MAS's config:\n{mas}"));
    assert_eq!(
        links.trim(),
        format!("dave {} {issuer}", s.dave_subject),
        "{mas}"
    );
    // In Cloudron's layout, the provider is MAS's own (its client), now claiming Synapse's.
    if cloudron_layout() {
        let m: serde_yaml::Value = serde_yaml::from_str(&mas).unwrap();
        let providers = m["upstream_oauth2"]["providers"].as_sequence().unwrap();
        assert_eq!(providers.len(), 1, "{mas}");
        assert_eq!(providers[0]["id"], MAS_OWN_PROVIDER, "{mas}");
        assert_eq!(providers[0]["client_id"], MAS_OWN_CLIENT, "{mas}");
        assert_eq!(providers[0]["synapse_idp_id"], "oidc-upstream", "{mas}");
    }
    // And he signs in: through MAS, which sends him to the upstream provider, and back.
    let token = sso_login(s, "dave", DAVE_PASSWORD);
    assert_eq!(whoami(s, &token).1["user_id"], "@dave:localhost");
}

/// A browser's cookies, one jar per server (port): enough for MAS's pages.
#[derive(Default)]
struct Browser {
    jars: std::collections::HashMap<u16, Vec<(String, String)>>,
}

fn port_of(url: &str) -> u16 {
    let rest = url.trim_start_matches("http://127.0.0.1:");
    rest[..rest.find('/').unwrap_or(rest.len())]
        .parse()
        .unwrap()
}

impl Browser {
    /// One request, redirects not followed: status, `Location`, body.
    fn go(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> (u16, Option<String>, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let port = port_of(url);
        let cookie: Vec<String> = self
            .jars
            .get(&port)
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let answer = match form {
            None => agent.get(url).header("Cookie", &cookie.join("; ")).call(),
            Some(fields) => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", percent(v)))
                    .collect();
                agent
                    .post(url)
                    .header("Cookie", &cookie.join("; "))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(body.join("&"))
            }
        };
        let mut answer = answer.unwrap_or_else(|e| panic!("{url}: {e}"));
        let jar = self.jars.entry(port).or_default();
        for set in answer.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                jar.retain(|(name, _)| name != k);
                jar.push((k.to_owned(), v.to_owned()));
            }
        }
        let location = answer
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = answer.body_mut().read_to_string().unwrap_or_default();
        (answer.status().as_u16(), location, body)
    }
}

fn percent(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the hidden `csrf` field of a MAS page.
fn csrf(body: &str) -> String {
    const FIELD: &str = "name=\"csrf\" value=\"";
    let at = body.find(FIELD).expect("a form with csrf") + FIELD.len();
    body[at..at + body[at..].find('"').unwrap()].to_owned()
}

/// Sign-in through MAS's compatibility SSO, as a legacy client's browser does it: MAS's login
/// page, its upstream provider's button, the upstream's login and consent pages, back to MAS,
/// MAS's "continue", then the client's redirect with a login token, exchanged for a token.
fn sso_login(s: &Stack, user: &str, password: &str) -> String {
    let done = "http://127.0.0.1:9/done";
    let mut b = Browser::default();
    let mut url = mas_url(
        s,
        &format!(
            "/_matrix/client/v3/login/sso/redirect?redirectUrl={}",
            percent(done)
        ),
    );
    let mut form: Option<Vec<(&str, String)>> = None;
    let mut trail = Vec::new();
    for _ in 0..30 {
        let posted = form.take();
        let fields: Option<Vec<(&str, &str)>> = posted
            .as_ref()
            .map(|f| f.iter().map(|(k, v)| (*k, v.as_str())).collect());
        let (status, location, body) = b.go(&url, fields.as_deref());
        // Tera escapes `/` and `&` in attributes.
        let body = body
            .replace("&#x2f;", "/")
            .replace("&#x2F;", "/")
            .replace("&amp;", "&");
        trail.push(format!("{status} {url}"));
        if let Some(to) = location {
            url = match to.starts_with("http") {
                true => to,
                false => format!("http://127.0.0.1:{}{to}", port_of(&url)),
            };
            if let Some(token) = url.strip_prefix(&format!("{done}?loginToken=")) {
                let body = json!({"type": "m.login.token", "token": token});
                let login = mas_url(s, "/_matrix/client/v3/login");
                let (status, v) = call("POST", &login, None, Some(body));
                assert_eq!(status, 200, "{v}");
                return v["access_token"].as_str().unwrap().to_owned();
            }
            continue;
        }
        if status != 200 {
            let logs: String = ["mas.log", "upstream.log"]
                .iter()
                .map(|l| fs::read_to_string(s.root.join(l)).unwrap_or_default())
                .map(|t| t.lines().rev().take(15).collect::<Vec<_>>().join("\n"))
                .collect::<Vec<_>>()
                .join("\n---\n");
            panic!("{}\n{body}\n{logs}", trail.join("\n"));
        }
        if port_of(&url) == s.mas_port && body.contains("/upstream/authorize/") {
            let at = body.find("/upstream/authorize/").unwrap();
            let href = &body[at..at + body[at..].find('"').unwrap()];
            url = mas_url(s, href);
        } else if body.contains("name=\"password\"") {
            form = Some(vec![
                ("csrf", csrf(&body)),
                ("username", user.to_owned()),
                ("password", password.to_owned()),
            ]);
        } else {
            form = Some(vec![("csrf", csrf(&body))]);
        }
    }
    panic!("no login token after:\n{}", trail.join("\n"));
}

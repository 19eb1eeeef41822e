//! `mas-link check` with its own rules (the fast path, where Synapse's loader is not found)
//! against the same check with Synapse's own loader, and against Synapse's own validator
//! (`python -m synapse.config -c`), on the 2,865-line Synapse 1.60 sample, linked by mas-link
//! first; prints the medians and the ratios. The loader half needs MAS_LINK_SYNAPSE_PYTHON (a
//! Python with matrix-synapse).
//!
//! Run: `MAS_LINK_SYNAPSE_PYTHON=target/synapse-venv/bin/python cargo bench --bench check`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let bin = env!("CARGO_BIN_EXE_mas-link");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // The sample with its /data paths pointing here, then linked by mas-link.
    let sample =
        std::fs::read_to_string(repo.join("tests/data/corpus/synapse-1.60-sample-deployed.yaml"))
            .unwrap();
    let hs = data.join("homeserver.yaml");
    std::fs::write(&hs, sample.replace("/data", &data.display().to_string())).unwrap();
    let ok = Command::new(bin)
        .args([
            "synapse",
            // The sample's database is not there: a server without users.
            "--new-server",
            "--yes",
            "--no-backup",
            "--endpoint",
            "http://localhost:8080/",
            "--synapse-config",
        ])
        .arg(&hs)
        .env("MAS_SECRET", "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP")
        // The signing key the loader needs is made below.
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let lines = std::fs::read_to_string(&hs).unwrap().lines().count();

    let check = |python: Option<&Path>| {
        let mut c = Command::new(bin);
        c.args(["check", "--synapse-config"]).arg(&hs);
        match python {
            Some(p) => c.env("MAS_LINK_SYNAPSE_PYTHON", p),
            // The search as on a host without Synapse: PATH's python3 has none.
            None => c
                .env_remove("MAS_LINK_SYNAPSE_PYTHON")
                .env("PATH", "/usr/bin:/bin"),
        };
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(python.is_some(), text.contains("loader (Synapse"), "{text}");
    };
    let ours = time(if quick { 1 } else { 51 }, || check(None));
    println!(
        "mas-link check (own rules)     {lines} lines  median {:>9.2} ms",
        ours.as_secs_f64() * 1e3
    );
    let wide = wide_file(data, 100_000);
    let t = time(if quick { 1 } else { 5 }, || {
        let out = Command::new(bin)
            .args(["check", "--synapse-config"])
            .arg(&wide)
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .output()
            .unwrap();
        assert!(out.status.code().is_some(), "{out:?}");
    });
    println!(
        "mas-link check, 100,000 top-level keys  median {:>9.2} ms (time linear in the file)",
        t.as_secs_f64() * 1e3
    );

    let Some(py) = std::env::var_os("MAS_LINK_SYNAPSE_PYTHON").map(PathBuf::from) else {
        println!("with Synapse's loader         skipped: set MAS_LINK_SYNAPSE_PYTHON");
        return;
    };
    prepare_keys(&py, data);
    let loader = time(if quick { 1 } else { 5 }, || check(Some(&py)));
    println!(
        "mas-link check (Synapse's loader) median {:>9.2} ms",
        loader.as_secs_f64() * 1e3
    );
    let theirs = time(if quick { 1 } else { 5 }, || {
        let out = Command::new(&py)
            .args(["-m", "synapse.config", "-c"])
            .arg(&hs)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    println!(
        "python -m synapse.config       {lines} lines  median {:>9.2} ms",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "ratios: own rules {:.0} times faster than check with the loader, {:.0} times faster \
         than python -m synapse.config",
        loader.as_secs_f64() / ours.as_secs_f64(),
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}

/// A homeserver.yaml of `keys` top-level keys (hostile input: time must stay linear in it).
fn wide_file(dir: &Path, keys: usize) -> PathBuf {
    let mut text = String::from("server_name: example.org\nreport_stats: false\n");
    for i in 0..keys {
        text.push_str(&format!("key_{i}: {i}\n"));
    }
    let path = dir.join("wide.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The signing key and log config the sample names, which Synapse's loader needs to exist.
fn prepare_keys(py: &Path, data: &Path) {
    let script = format!(
        "from signedjson.key import generate_signing_key, write_signing_keys\n\
         write_signing_keys(open('{0}/example.org.signing.key', 'w'), [generate_signing_key('a')])\n\
         open('{0}/example.org.log.config', 'w').write('version: 1\\n')\n",
        data.display()
    );
    assert!(
        Command::new(py)
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
}

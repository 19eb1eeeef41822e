//! `mas-link check` against Synapse's own validator (`python -m synapse.config -c`) on the
//! 2,865-line Synapse 1.60 sample, linked by mas-link first, in one run; prints both medians
//! and the ratio. The Python half needs MAS_LINK_SYNAPSE_PYTHON (a Python with matrix-synapse).
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
        std::fs::read_to_string(repo.join("../shared/corpus/synapse-1.60-sample-deployed.yaml"))
            .unwrap();
    let hs = data.join("homeserver.yaml");
    std::fs::write(&hs, sample.replace("/data", &data.display().to_string())).unwrap();
    let ok = Command::new(bin)
        .args([
            "synapse",
            "--yes",
            "--no-backup",
            "--endpoint",
            "http://localhost:8080/",
            "--synapse-config",
        ])
        .arg(&hs)
        .env("MAS_SECRET", "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let lines = std::fs::read_to_string(&hs).unwrap().lines().count();

    let check = || {
        let out = Command::new(bin)
            .args(["check", "--synapse-config"])
            .arg(&hs)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    let ours = time(if quick { 1 } else { 51 }, check);
    println!(
        "mas-link check             {lines} lines  median {:>9.2} ms",
        ours.as_secs_f64() * 1e3
    );

    let Some(py) = std::env::var_os("MAS_LINK_SYNAPSE_PYTHON").map(PathBuf::from) else {
        println!("python -m synapse.config   skipped: set MAS_LINK_SYNAPSE_PYTHON");
        return;
    };
    prepare_keys(&py, data);
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
        "python -m synapse.config   {lines} lines  median {:>9.2} ms",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "ratio: check is {:.0} times faster",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
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

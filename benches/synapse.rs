//! Times `mas-link synapse --yes` end to end (process start, read, plan, diff, backup, atomic
//! write) on the 2,865-line Synapse 1.60 sample and on a generated 100,000-line file, and
//! reports the medians and the peak resident memory of the child processes.
//!
//! Run: `cargo bench --bench synapse`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A homeserver.yaml of about `lines` lines: the generated default plus documented sections.
pub fn generated(lines: usize) -> String {
    let mut out =
        std::fs::read_to_string(repo().join("fixtures/generated-1.163/homeserver.yaml")).unwrap();
    out.push('\n');
    let mut n = 0;
    while out.lines().count() < lines {
        out.push_str(&format!(
            "\n# Section {n}: settings for module {n}.\n# Uncomment to change the default.\n#\n\
             module_{n}:\n  enabled: true\n  name: \"module-{n}\"\n  # limit: 10\n  options:\n    \
             retries: 3\n    hosts:\n      - a{n}.example.org\n      - b{n}.example.org\n"
        ));
        n += 1;
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn peak_children_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage into the pointer it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss
}

fn time_link(name: &str, source: &Path, runs: usize) -> Duration {
    let bin = env!("CARGO_BIN_EXE_mas-link");
    let dir = tempfile::tempdir().unwrap();
    let hs = dir.path().join("homeserver.yaml");
    let original = std::fs::read(source).unwrap();
    let mut times = Vec::new();
    for _ in 0..runs {
        std::fs::write(&hs, &original).unwrap();
        let start = Instant::now();
        let out = Command::new(bin)
            .args([
                "synapse",
                "--yes",
                "--endpoint",
                "https://auth.example.org/",
                "--synapse-config",
            ])
            .arg(&hs)
            .env("MAS_SECRET", "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP")
            .output()
            .unwrap();
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "bak") {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    let lines = original.iter().filter(|&&b| b == b'\n').count();
    let m = median(times.clone());
    println!(
        "{name:<34} {lines:>7} lines  median {:>8.2} ms  min {:>8.2} ms  ({runs} runs)  peak RSS so far {:.1} MiB",
        m.as_secs_f64() * 1e3,
        times.iter().min().unwrap().as_secs_f64() * 1e3,
        peak_children_rss_kib() as f64 / 1024.0
    );
    m
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run quickly then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = |n: usize| if quick { 1 } else { n };
    let sample = repo().join("../shared/corpus/synapse-1.60-sample-deployed.yaml");
    let big_dir = tempfile::tempdir().unwrap();
    let big = big_dir.path().join("generated-100k.yaml");
    std::fs::write(&big, generated(100_000)).unwrap();
    println!("mas-link synapse --yes, wall time per process (includes start-up, backup, fsync):");
    time_link("synapse-1.60-sample-deployed.yaml", &sample, runs(51));
    time_link("generated 100k", &big, runs(21));
}

//! `mas-link synapse --yes` against a ruamel.yaml round-trip script making the same five
//! edits (benches/ruamel_edit.py) and against `cp` of the same file (the floor), on the
//! 2,865-line sample and generated files of 1k, 10k and 100k lines in two shapes (the sample's,
//! and dense): medians, ratios, peak memory (GNU time's maximum resident set), and time per
//! line to show linear growth.
//!
//! Run: `MAS_LINK_RUAMEL_PYTHON=path/to/python cargo bench --bench compare`
//! (a Python with ruamel.yaml; without it the ruamel column is skipped).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Shape, generated, median, repo};

/// Runs `cmd` `runs` times on fresh copies of `src`; returns the median wall time, and the
/// peak RSS (KiB) from one more run under GNU time (kept apart so that it adds nothing to the
/// times).
fn measure(src: &Path, runs: usize, cmd: &dyn Fn(&Path) -> Command) -> (Duration, u64) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("homeserver.yaml");
    let bytes = std::fs::read(src).unwrap();
    let fresh = || {
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let _ = std::fs::remove_file(e.unwrap().path());
        }
        std::fs::write(&file, &bytes).unwrap();
    };
    let mut times = Vec::new();
    for _ in 0..runs {
        fresh();
        let mut c = cmd(&file);
        let t = Instant::now();
        let out = c.output().unwrap();
        times.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    fresh();
    let inner = cmd(&file);
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f")
        .arg("%M")
        .arg(inner.get_program())
        .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let peak = err
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    (median(times), peak)
}

fn main() {
    let quick = common::quick();
    let bin = env!("CARGO_BIN_EXE_mas-link");
    let python = std::env::var_os("MAS_LINK_RUAMEL_PYTHON").map(PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = vec![(
        "sample 1.60".to_string(),
        repo().join("../shared/corpus/synapse-1.60-sample-deployed.yaml"),
    )];
    for (shape, tag) in [(Shape::Sample, "sample-shape"), (Shape::Dense, "dense")] {
        for lines in [1_000, 10_000, 100_000] {
            let p = dir.path().join(format!("gen-{tag}-{lines}.yaml"));
            std::fs::write(&p, generated(lines, shape)).unwrap();
            inputs.push((format!("{tag} {}k", lines / 1000), p));
        }
    }
    let mas_link = |f: &Path| {
        let mut c = Command::new(bin);
        c.args([
            "synapse",
            "--yes",
            "--endpoint",
            "https://auth.example.org/",
            "--synapse-config",
        ])
        .arg(f)
        .env("MAS_SECRET", "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP")
        .env("NO_COLOR", "1");
        c
    };
    let cp = |f: &Path| {
        let mut c = Command::new("cp");
        c.arg(f).arg(f.with_extension("copy"));
        c
    };
    println!(
        "{:<18} {:>7} | {:>10} {:>8} | {:>10} {:>8} {:>8} | {:>8} {:>8} | {:>10}",
        "file", "lines", "mas-link", "RSS", "ruamel", "RSS", "ratio", "cp", "ratio", "µs/line"
    );
    for (name, path) in &inputs {
        let lines = std::fs::read_to_string(path).unwrap().lines().count();
        let runs = if quick {
            1
        } else if lines > 50_000 {
            11
        } else {
            31
        };
        let (ours, our_rss) = measure(path, runs, &mas_link);
        let (floor, _) = measure(path, runs, &cp);
        let theirs = python.as_ref().map(|py| {
            let script = repo().join("benches/ruamel_edit.py");
            let py = py.clone();
            measure(
                path,
                if quick {
                    1
                } else if lines > 50_000 {
                    3
                } else {
                    7
                },
                &move |f: &Path| {
                    let mut c = Command::new(&py);
                    c.arg(&script).arg(f);
                    c
                },
            )
        });
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (ruamel, ruamel_rss, ratio) = match theirs {
            Some((t, rss)) => (
                format!("{:.1} ms", ms(t)),
                format!("{:.1}M", rss as f64 / 1024.0),
                format!("{:.0}x", ms(t) / ms(ours)),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{name:<18} {lines:>7} | {:>7.2} ms {:>7.1}M | {ruamel:>10} {ruamel_rss:>8} {ratio:>8} | {:>5.2} ms {:>7.1}x | {:>10.3}",
            ms(ours),
            our_rss as f64 / 1024.0,
            ms(floor),
            ms(ours) / ms(floor),
            ms(ours) * 1e3 / lines as f64,
        );
    }
}

//! Times `mas-link synapse --yes` end to end (process start, read, plan, diff, backup, atomic
//! write) on the 2,865-line Synapse 1.60 sample and on generated 100,000-line files (in the
//! sample's shape, and dense: every line a setting), and reports the medians and the peak
//! resident memory (GNU time's, of one more run).
//!
//! Run: `cargo bench --bench synapse`

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Shape, generated, median, repo};

fn time_link(bin: &Path, name: &str, source: &Path, runs: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let hs = dir.path().join("homeserver.yaml");
    let original = std::fs::read(source).unwrap();
    let mut times = Vec::new();
    for _ in 0..runs {
        std::fs::write(&hs, &original).unwrap();
        let start = Instant::now();
        let out = common::link_command(bin, &hs).output().unwrap();
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
    std::fs::write(&hs, &original).unwrap();
    println!(
        "{name:<36} {lines:>7} lines  median {:>8.2} ms  min {:>8.2} ms  ({runs} runs)  peak RSS {:.1} MiB",
        m.as_secs_f64() * 1e3,
        times.iter().min().unwrap().as_secs_f64() * 1e3,
        common::peak_rss_kib(&common::link_command(bin, &hs)) as f64 / 1024.0
    );
    m
}

fn main() {
    let quick = common::quick();
    let runs = |n: usize| if quick { 1 } else { n };
    let sample = repo().join("tests/data/corpus/synapse-1.60-sample-deployed.yaml");
    let big_dir = tempfile::tempdir().unwrap();
    let like_sample = big_dir.path().join("generated-100k-sample-shape.yaml");
    std::fs::write(&like_sample, generated(100_000, Shape::Sample)).unwrap();
    let dense = big_dir.path().join("generated-100k-dense.yaml");
    std::fs::write(&dense, generated(100_000, Shape::Dense)).unwrap();
    let bin = common::shipped_binary();
    println!(
        "{} synapse --yes, wall time per process (includes start-up, backup, fsync):",
        bin.display()
    );
    time_link(&bin, "synapse-1.60-sample-deployed.yaml", &sample, runs(51));
    time_link(
        &bin,
        "generated 100k, sample's shape",
        &like_sample,
        runs(21),
    );
    time_link(&bin, "generated 100k, dense", &dense, runs(11));
}

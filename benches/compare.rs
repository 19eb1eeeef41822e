//! `mas-link synapse --yes` against a ruamel.yaml round-trip script making the same five
//! edits (benches/ruamel_edit.py) and against `cp` of the same file (the floor), on the
//! 2,865-line sample and generated files of 1k, 10k and 100k lines in two shapes (the sample's,
//! and dense): medians, ratios, peak memory (GNU time's maximum resident set), and time per
//! line to show linear growth. The mas-link measured is the one shipped: on x86_64 Linux the
//! static binary `cargo dist` builds (or `MAS_LINK_BIN`).
//!
//! Run: `MAS_LINK_RUAMEL_PYTHON=path/to/python cargo bench --bench compare`
//! (a Python with ruamel.yaml; without it the ruamel column is skipped).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Shape, generated, median, repo};

/// One command measured: how many times, and how to run it on a file.
struct Tool<'a> {
    runs: usize,
    cmd: &'a dyn Fn(&Path) -> Command,
}

/// Runs each tool its number of times on fresh copies of `src`, interleaved (a round of each
/// in turn, the tools with fewer runs spread evenly), so that a slow spell of the machine
/// weighs on all alike; output goes to /dev/null, as hyperfine does. Returns each tool's median
/// wall time, and its peak RSS (KiB) from one more run under GNU time (kept apart so that it
/// adds nothing to the times).
fn measure(src: &Path, tools: &[Tool]) -> Vec<(Duration, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("homeserver.yaml");
    let bytes = std::fs::read(src).unwrap();
    let fresh = || {
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let _ = std::fs::remove_file(e.unwrap().path());
        }
        std::fs::write(&file, &bytes).unwrap();
    };
    let rounds = tools.iter().map(|t| t.runs).max().unwrap_or(0);
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); tools.len()];
    for round in 0..rounds {
        for (i, tool) in tools.iter().enumerate() {
            // This tool's k-th run falls in round k * rounds / runs.
            if times[i].len() >= tool.runs || times[i].len() * rounds > round * tool.runs {
                continue;
            }
            fresh();
            let mut c = (tool.cmd)(&file);
            c.stdout(Stdio::null()).stderr(Stdio::null());
            let t = Instant::now();
            let status = c.status().unwrap();
            times[i].push(t.elapsed());
            if !status.success() {
                fresh();
                let out = (tool.cmd)(&file).output().unwrap();
                panic!("{}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
    tools
        .iter()
        .zip(times)
        .map(|(tool, times)| {
            fresh();
            let peak = common::peak_rss_kib(&(tool.cmd)(&file));
            (median(times), peak)
        })
        .collect()
}

fn main() {
    let quick = common::quick();
    let bin = common::shipped_binary();
    println!("mas-link: {}", bin.display());
    let python = std::env::var_os("MAS_LINK_RUAMEL_PYTHON").map(PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = vec![(
        "sample 1.60".to_string(),
        repo().join("tests/data/corpus/synapse-1.60-sample-deployed.yaml"),
    )];
    for (shape, tag) in [(Shape::Sample, "sample-shape"), (Shape::Dense, "dense")] {
        for lines in [1_000, 10_000, 100_000] {
            let p = dir.path().join(format!("gen-{tag}-{lines}.yaml"));
            std::fs::write(&p, generated(lines, shape)).unwrap();
            inputs.push((format!("{tag} {}k", lines / 1000), p));
        }
    }
    let mas_link = |f: &Path| common::link_command(&bin, f);
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
            101
        };
        let script = repo().join("benches/ruamel_edit.py");
        let ruamel = |f: &Path| {
            let mut c = Command::new(python.as_ref().expect("a Python with ruamel.yaml"));
            c.arg(&script).arg(f);
            c
        };
        let ruamel_runs = if quick {
            1
        } else if lines > 50_000 {
            3
        } else {
            21
        };
        let mut tools = vec![
            Tool {
                runs,
                cmd: &mas_link,
            },
            Tool { runs, cmd: &cp },
        ];
        if python.is_some() {
            tools.push(Tool {
                runs: ruamel_runs,
                cmd: &ruamel,
            });
        }
        let results = measure(path, &tools);
        let ((ours, our_rss), (floor, _)) = (results[0], results[1]);
        let theirs = results.get(2).copied();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (ruamel, ruamel_rss, ratio) = match theirs {
            Some((t, rss)) => (
                format!("{:.1} ms", ms(t)),
                format!("{:.1}M", rss as f64 / 1024.0),
                format!("{:.1}x", ms(t) / ms(ours)),
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

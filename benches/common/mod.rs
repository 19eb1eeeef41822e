//! What the benchmarks share: generated homeserver.yaml files and medians.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How a generated file is made.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Like real homeserver.yaml files: the Synapse 1.60 sample (about 87% comments) repeated,
    /// each copy's top-level keys renamed so that every copy adds settings.
    Sample,
    /// Every line a setting: small documented sections of nested mappings and lists, the
    /// hardest case for the engine.
    Dense,
}

/// A homeserver.yaml of about `lines` lines in the given shape.
pub fn generated(lines: usize, shape: Shape) -> String {
    match shape {
        Shape::Sample => {
            let sample = std::fs::read_to_string(
                repo().join("tests/data/corpus/synapse-1.60-sample-deployed.yaml"),
            )
            .unwrap();
            // Fewer lines than the sample: its beginning, cut before a top-level key.
            if sample.lines().count() > lines {
                let mut out = String::new();
                for (i, line) in sample.lines().enumerate() {
                    let top_level_key = line.starts_with(|c: char| c.is_ascii_lowercase());
                    if i >= lines && top_level_key {
                        break;
                    }
                    out.push_str(line);
                    out.push('\n');
                }
                return out;
            }
            let mut out = sample.clone();
            let mut n = 1;
            while out.lines().count() < lines {
                for line in sample.lines() {
                    // `key:` at the start of a line is a top-level key: give this copy its own.
                    match line.split_once(':') {
                        Some((k, rest))
                            if !k.is_empty()
                                && k.chars().all(|c| {
                                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
                                }) =>
                        {
                            out.push_str(&format!("{k}_{n}:{rest}\n"));
                        }
                        _ => {
                            out.push_str(line);
                            out.push('\n');
                        }
                    }
                }
                n += 1;
            }
            out
        }
        Shape::Dense => {
            let mut out =
                std::fs::read_to_string(repo().join("fixtures/generated-1.163/homeserver.yaml"))
                    .unwrap();
            out.push('\n');
            let mut n = 0;
            let mut count = out.lines().count();
            while count < lines {
                let section = format!(
                    "\n# Section {n}: settings for module {n}.\n# Uncomment to change the default.\n#\n\
                     module_{n}:\n  enabled: true\n  name: \"module-{n}\"\n  # limit: 10\n  options:\n    \
                     retries: 3\n    hosts:\n      - a{n}.example.org\n      - b{n}.example.org\n"
                );
                count += section.lines().count();
                out.push_str(&section);
                n += 1;
            }
            out
        }
    }
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `cargo bench` passes --bench; `cargo test --benches` does not: then one quick run each.
pub fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// The binary to measure, the one users run: `MAS_LINK_BIN` if set; on x86_64 Linux the static
/// release binary (`cargo dist`, built here when missing or older than the sources); else this
/// build's.
pub fn shipped_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MAS_LINK_BIN") {
        return PathBuf::from(p);
    }
    let this_build = PathBuf::from(env!("CARGO_BIN_EXE_mas-link"));
    if !(cfg!(target_arch = "x86_64") && cfg!(target_os = "linux")) {
        return this_build;
    }
    let status = std::process::Command::new(env!("CARGO"))
        .arg("dist")
        .current_dir(repo())
        .status();
    let dist = repo().join("target/x86_64-unknown-linux-gnu/release/mas-link");
    match status {
        Ok(s) if s.success() && dist.exists() => dist,
        _ => {
            eprintln!("`cargo dist` failed: measuring this build's binary instead");
            this_build
        }
    }
}

/// The peak resident memory (KiB, GNU time's) of one run of `cmd`, output to /dev/null.
pub fn peak_rss_kib(cmd: &std::process::Command) -> u64 {
    let mut c = std::process::Command::new("/usr/bin/time");
    c.arg("-f")
        .arg("%M")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdout(std::process::Stdio::null());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0)
}

/// `mas-link synapse --yes` on `file`, as the benchmarks run it.
pub fn link_command(bin: &Path, file: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(bin);
    c.args([
        "synapse",
        // The benchmarks' files name no database: servers without users.
        "--new-server",
        "--yes",
        "--endpoint",
        "https://auth.example.org/",
        "--synapse-config",
    ])
    .arg(file)
    .env("MAS_SECRET", "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP")
    .env("NO_COLOR", "1");
    c
}

//! What the benchmarks share: generated homeserver.yaml files and medians.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A homeserver.yaml of about `lines` lines: the generated default plus documented sections.
pub fn generated(lines: usize) -> String {
    let mut out =
        std::fs::read_to_string(repo().join("fixtures/generated-1.163/homeserver.yaml")).unwrap();
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

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `cargo bench` passes --bench; `cargo test --benches` does not: then one quick run each.
pub fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

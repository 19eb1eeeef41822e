//! The project's own rules, checked: the data flows one way (no module imports one that comes
//! after it in the flow), the YAML engine says nothing about Synapse or MAS, no test skips as
//! "ok", and CI finds cargo's target folder wherever it is.

use std::path::{Path, PathBuf};

/// The layers in flow order; a module may import only from its own layer and those before.
/// Modules in one layer (apply, database, loader, online) import neither each other.
const LAYERS: &[&[&str]] = &[
    &["yaml"],
    &["findings"],
    &["rules"],
    &["files"],
    &["plan"],
    &["apply", "database", "loader", "online"],
    &["show"],
    &["wizard"],
    &["cli"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("src/{module} is in no layer of tests/layers.rs"))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top module a source file belongs to (`src/rules/mas.rs` → `rules`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

#[test]
fn imports_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("crate::") {
                let used: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if used.is_empty() || used == module {
                    continue;
                }
                if layer(&used) >= layer(&module) {
                    wrong.push(format!(
                        "{}:{}: {module} uses {used}",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_engine_says_nothing_of_synapse_or_mas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/yaml");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    for file in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            let in_string = code.contains('"');
            for word in ["Synapse", "MAS", "homeserver"] {
                assert!(
                    !(in_string && names(code, word)),
                    "{}:{}: the engine's messages name {word}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

/// Whether `word` stands in `code` as a word of its own.
fn names(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// A test that cannot run says so in cargo's summary (`#[ignore = "why"]`), never by returning
/// early as "ok".
#[test]
fn no_test_skips_silently() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    for file in files.iter().filter(|f| !f.ends_with("layers.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        let lower = text.to_lowercase();
        assert!(
            !lower.contains("\"skipping"),
            "{}: a test that skips at run time passes as ok; mark it #[ignore = \"why\"]",
            file.display()
        );
    }
}

/// CI works wherever cargo's target folder is (CARGO_TARGET_DIR): no path into `target/` is
/// written out in .ci/run.
#[test]
fn ci_honours_cargo_target_dir() {
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(ci.contains("${CARGO_TARGET_DIR:-"), "{ci}");
    for line in ci.lines().filter(|l| !l.trim_start().starts_with('#')) {
        assert!(
            !line.contains("/target/") && !line.contains(" target/"),
            ".ci/run names the target folder itself: {line}"
        );
    }
}

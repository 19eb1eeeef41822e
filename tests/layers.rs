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
    &["rights"],
    &["files", "process"],
    &["plan"],
    &["apply", "database", "loader", "mas_cli", "online"],
    &["check", "migrate"],
    &["show"],
    &["settings"],
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

/// Inside a folder (`src/yaml`, `src/rules`, `src/cli`), the files' imports of each other
/// (`super::x`, `crate::folder::x`, outside their tests) form no loop: each folder has an order
/// too. The folder's `mod.rs` is its face, left out.
#[test]
fn no_loops_inside_folders() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut loops = Vec::new();
    for folder in std::fs::read_dir(&src).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let files: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|f| f != "mod")
            .collect();
        let uses = |file: &str| -> Vec<String> {
            let text = std::fs::read_to_string(folder.join(format!("{file}.rs"))).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            files
                .iter()
                .filter(|other| *other != file)
                .filter(|other| {
                    [format!("super::{other}"), format!("crate::{name}::{other}")]
                        .iter()
                        .any(|p| {
                            code.match_indices(p.as_str()).any(|(at, _)| {
                                let after = code[at + p.len()..].chars().next();
                                !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                            })
                        })
                })
                .cloned()
                .collect()
        };
        let edges: Vec<(String, Vec<String>)> =
            files.iter().map(|f| (f.clone(), uses(f))).collect();
        for (file, used) in &edges {
            for other in used {
                if reaches(&edges, other, file, &mut Vec::new()) {
                    loops.push(format!("src/{name}: {file} -> {other} -> … -> {file}"));
                }
            }
        }
    }
    assert!(
        loops.is_empty(),
        "loops inside folders:\n{}",
        loops.join("\n")
    );
}

/// Whether `from` leads to `to` along `edges`.
fn reaches(edges: &[(String, Vec<String>)], from: &str, to: &str, seen: &mut Vec<String>) -> bool {
    if from == to {
        return true;
    }
    if seen.iter().any(|s| s == from) {
        return false;
    }
    seen.push(from.to_owned());
    edges
        .iter()
        .filter(|(f, _)| f == from)
        .flat_map(|(_, used)| used)
        .any(|next| reaches(edges, next, to, seen))
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

//! The committed completions and man pages must match what the binary generates. After a change
//! to the command line, refresh them with `MAS_LINK_BLESS=1 cargo test --test completions`.

mod common;

use std::fs;

use common::*;
use mas_link::cli::{Shell, subcommand_man_pages};

#[test]
fn committed_completions_are_fresh() {
    let bless = std::env::var("MAS_LINK_BLESS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    let outputs = Shell::ALL
        .iter()
        .map(|s| (s.file_name().to_owned(), s.render()))
        .chain(subcommand_man_pages());
    for (name, generated) in outputs {
        let path = repo().join("completions").join(name);
        if bless {
            fs::write(&path, &generated).unwrap();
            continue;
        }
        match fs::read(&path) {
            Ok(committed) if committed == generated => {}
            _ => stale.push(path.display().to_string()),
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {}\nrefresh with `MAS_LINK_BLESS=1 cargo test --test completions` and commit",
        stale.join(", ")
    );
}

#[test]
fn the_binary_prints_them() {
    for (arg, file) in [
        ("bash", "mas-link.bash"),
        ("zsh", "_mas-link"),
        ("man", "mas-link.1"),
    ] {
        let out = mas_link().args(["completions", arg]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            out.stdout,
            fs::read(repo().join("completions").join(file)).unwrap(),
            "{arg}"
        );
    }
    let man = String::from_utf8(
        mas_link()
            .args(["completions", "man"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(man.contains(".TH mas-link"), "{man}");
    for sub in ["synapse", "mas", "check", "unlink", "wizard", "secret"] {
        assert!(man.contains(sub), "man page lacks {sub}");
    }
}

#[test]
fn every_page_the_man_page_names_is_shipped() {
    let man = String::from_utf8(Shell::Man.render()).unwrap();
    let named: Vec<&str> = man
        .match_indices("mas\\-link\\-")
        .filter_map(|(at, _)| {
            let rest = &man[at..];
            let name = &rest[..rest.find('(')?];
            // A page's name, not a file's (`.FILE.mas-link-XXXXXX.tmp` under FILES).
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '\\')
                .then_some(name)
        })
        .collect();
    assert!(named.len() >= 6, "{man}");
    for page in named {
        let file = format!("{}.1", page.replace('\\', ""));
        assert!(
            repo().join("completions").join(&file).exists(),
            "the man page names {file}, which is not in completions/"
        );
    }
}

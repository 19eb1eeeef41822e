//! The command line's conventions, as an operator meets them: what README documents exists,
//! `--json`, a pipe closed early, the man pages, and the order and tone of what is said.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::process::Stdio;

use common::*;

/// The subcommands' names, for reading README.
const SUBCOMMANDS: &[&str] = &[
    "synapse",
    "mas",
    "sso",
    "secret",
    "check",
    "unlink",
    "wizard",
    "completions",
];

/// Every `--flag` README writes after `mas-link SUB` (up to the end of that command: a pipe,
/// a backtick, the end of the line) with the subcommand it goes with.
fn documented_flags(readme: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for line in readme.lines() {
        for (at, _) in line.match_indices("mas-link ") {
            let rest = &line[at + "mas-link ".len()..];
            let Some(sub) = SUBCOMMANDS
                .iter()
                .find(|s| rest.starts_with(*s) && !rest[s.len()..].starts_with(['-', '.']))
            else {
                continue;
            };
            let command = rest.split(['|', '`']).next().unwrap_or("");
            for word in command.split_whitespace().skip(1) {
                if let Some(flag) = word.strip_prefix("--") {
                    let flag: String = flag
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                        .collect();
                    if !flag.is_empty() {
                        found.insert((sub.to_string(), format!("--{flag}")));
                    }
                }
            }
        }
    }
    // The paragraphs that describe a command (`**`mas-link SUB`** …`, or the writing
    // commands' common flags): each `--flag` quoted on its own belongs to it.
    for para in readme.split("\n\n") {
        let subs: Vec<&str> = match SUBCOMMANDS
            .iter()
            .find(|s| para.starts_with(&format!("**`mas-link {s}`**")))
        {
            Some(sub) => vec![sub],
            None if para.starts_with("Common to the writing commands") => {
                vec!["synapse", "mas", "unlink"]
            }
            None => continue,
        };
        for quoted in para.split('`').skip(1).step_by(2) {
            let Some(flag) = quoted.strip_prefix("--") else {
                continue;
            };
            for flag in flag.split('/') {
                let flag = flag.trim_start_matches("--");
                let flag = flag.split_whitespace().next().unwrap_or("");
                for sub in &subs {
                    found.insert((sub.to_string(), format!("--{flag}")));
                }
            }
        }
    }
    found
}

#[test]
fn every_flag_readme_documents_is_in_help() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let flags = documented_flags(&readme);
    assert!(flags.len() >= 35, "{flags:?}");
    let mut missing = Vec::new();
    for (sub, flag) in &flags {
        let help = mas_link().args([sub.as_str(), "--help"]).output().unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        if !help.contains(&format!("{flag} ")) && !help.contains(&format!("{flag}\n")) {
            missing.push(format!("mas-link {sub} {flag}"));
        }
    }
    assert!(missing.is_empty(), "README documents: {missing:?}");
}

#[test]
fn json_is_format_json() {
    let run = |flag: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(
            fixture("cloudron/homeserver.yaml"),
            dir.path().join("homeserver.yaml"),
        )
        .unwrap();
        let out = link_with_mas_fixture(dir.path(), &["--dry-run"])
            .args(flag)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v
    };
    assert_eq!(run(&["--json"]), run(&["--format", "json"]));
    let out = mas_link()
        .args([
            "check",
            "--json",
            "--synapse-config",
            fixture("cloudron/homeserver.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
}

/// JSON that would have to ask is refused before anything else runs: here, before Synapse's
/// loader (a Python that does not exist would be an error of its own).
#[test]
fn json_without_an_answer_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        fixture("cloudron/homeserver.yaml"),
        dir.path().join("homeserver.yaml"),
    )
    .unwrap();
    let out = link_with_mas_fixture(dir.path(), &["--json"])
        .args(["--synapse-python", "/nonexistent/python"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--format json needs --yes"), "{err}");
    assert!(!err.contains("nonexistent"), "{err}");
}

/// A reader that stops early (here: one that never reads) ends the writer quietly.
#[test]
fn a_closed_pipe_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(bin())
        .args(["secret", "--bundle", "--mas-config"])
        .arg(fixture("mas/config.yaml"))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn completions_man_dir_writes_every_page() {
    let dir = tempfile::tempdir().unwrap();
    mas_link()
        .args(["completions", "man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    let mut pages: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for sub in SUBCOMMANDS {
        let page = format!("mas-link-{sub}.1");
        assert!(pages.contains(&page), "{page} not in {pages:?}");
        let text = fs::read_to_string(dir.path().join(&page)).unwrap();
        for section in ["EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "FILES"] {
            assert!(text.contains(section), "{page} lacks {section}");
        }
    }
    assert!(pages.contains(&"mas-link.1".to_owned()), "{pages:?}");
}

/// An empty homeserver.yaml is named first: nothing about its users (which it cannot say
/// anything of) comes before.
#[test]
fn an_empty_file_is_named_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("homeserver.yaml"), "").unwrap();
    let out = link_with_mas_fixture(dir.path(), &["--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("mas-link: error: homeserver.yaml is empty"),
        "{err}"
    );
}

/// After a deliberate `unlink`, check reports the state the operator chose: a warning, exit 0.
#[test]
fn check_after_unlink_says_it_was_chosen() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    link_with_mas_fixture(dir.path(), &["--yes"])
        .assert()
        .success();
    mas_link()
        .args(["unlink", "--yes", "--synapse-config"])
        .arg(&hs)
        .assert()
        .success();
    let out = mas_link()
        .args(["check", "--synapse-config"])
        .arg(&hs)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("warning:") && said.contains("`mas-link unlink` turned"),
        "{said}"
    );
    // Without unlink's record, not being linked is still an error.
    let (_dir2, fresh) = scratch(&fixture("cloudron/homeserver.yaml"));
    let out = mas_link()
        .args(["check", "--synapse-config"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// `mas-link sso` prints client secrets for a pipe: on a terminal it refuses.
#[test]
fn sso_refuses_a_terminal() {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["sso", "--synapse-config"])
        .arg(fixture("sso/keycloak/homeserver.yaml"))
        .env("NO_COLOR", "1")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none");
    let mut p = rexpect::session::spawn_command(cmd, Some(10_000)).unwrap();
    let said = p.exp_eof().unwrap();
    assert!(said.contains("standard output is a terminal"), "{said}");
    assert!(!said.contains("mas-link-sso/1"), "{said}");
}

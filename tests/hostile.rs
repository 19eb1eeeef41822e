//! Hostile input is bounded: what is not a regular file (a device, a FIFO) is refused as a
//! config or a secret file before anything waits on it or reads it without end, and standard
//! input is read with a bound. (The 60 s guard only keeps a hang from holding the suite.)

mod common;
#[path = "common/server.rs"]
mod server;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// mas-link with `args` in `dir`, stdin from `stdin`, killed (and the test failed) if it still
/// runs after 60 s.
fn bounded(dir: &Path, args: &[&str], stdin: Stdio) -> Output {
    let mut child = Command::new(bin())
        .current_dir(dir)
        .args(args)
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env("NO_COLOR", "1")
        .env_remove("MAS_SECRET")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} still runs: it waits or reads without end");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn refused(out: &Output, said: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(said), "{err}");
}

fn fifo(dir: &Path) -> String {
    let path = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success()
    );
    path.display().to_string()
}

#[test]
fn devices_and_fifos_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&fixture("cloudron/homeserver.yaml"), d, "homeserver.yaml");
    let fifo = fifo(d);
    for special in ["/dev/zero", "/dev/urandom", fifo.as_str()] {
        for args in [
            vec!["check", "--synapse-config", special],
            vec!["check", "--mas-config", special],
            vec!["secret", "--mas-config", special],
            vec!["synapse", "--synapse-config", special, "--dry-run"],
        ] {
            refused(&bounded(d, &args, Stdio::null()), "is not a regular file");
        }
        let out = bounded(
            d,
            &[
                "synapse",
                "--synapse-config",
                "homeserver.yaml",
                "--new-server",
                "--endpoint",
                "https://auth.example.com/",
                "--dry-run",
                "--secret-file",
                special,
            ],
            Stdio::null(),
        );
        refused(&out, "is not a regular file");
    }
}

#[test]
fn standard_input_is_read_with_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&fixture("cloudron/homeserver.yaml"), d, "homeserver.yaml");
    copy(&fixture("mas/config.yaml"), d, "config.yaml");
    let zero = || Stdio::from(fs::File::open("/dev/zero").unwrap());
    let out = bounded(
        d,
        &[
            "synapse",
            "--synapse-config",
            "homeserver.yaml",
            "--new-server",
            "--endpoint",
            "https://auth.example.com/",
            "--dry-run",
            "--secret-stdin",
        ],
        zero(),
    );
    refused(&out, "standard input is over 1048576 bytes");
    let out = bounded(
        d,
        &[
            "mas",
            "--mas-config",
            "config.yaml",
            "--sso-stdin",
            "--dry-run",
        ],
        zero(),
    );
    refused(&out, "standard input is over 1048576 bytes");
    let out = bounded(
        d,
        &[
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-bundle-stdin",
        ],
        zero(),
    );
    refused(&out, "standard input is over 1048576 bytes");
}

/// A "billion laughs" (ten levels of ten aliases, under 1 KB) is refused with its place, read
/// as Synapse reads it or as MAS does, instead of filling memory.
#[test]
fn a_billion_laughs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    assert!(text.len() < 1024);
    fs::write(
        d.join("laughs.yaml"),
        format!("server_name: example.com\n{text}"),
    )
    .unwrap();
    for flag in ["--synapse-config", "--mas-config"] {
        let out = bounded(d, &["check", flag, "laughs.yaml"], Stdio::null());
        refused(&out, "laughs.yaml:");
        refused(&out, "aliases stand for more than 1000000 values");
    }
}

/// A record edited to name another file as the backup (a root-only file elsewhere, or a
/// symlink beside the config dressed as a backup): unlink neither shows it nor copies it in;
/// it puts the settings back one by one and says why.
#[test]
fn a_records_backup_is_taken_only_when_it_is_ours() {
    let elsewhere = tempfile::tempdir().unwrap();
    let private = elsewhere.path().join("private");
    fs::write(&private, "private_key: \"ROOT-ONLY-CONTENT\"\n").unwrap();
    for forged in ["elsewhere", "symlink beside"] {
        let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
        link_with_mas_fixture(dir.path(), &["--yes"])
            .assert()
            .success();
        let record_path = dir.path().join("homeserver.yaml.mas-link.json");
        let mut record: serde_json::Value =
            serde_json::from_slice(&fs::read(&record_path).unwrap()).unwrap();
        let target = match forged {
            "elsewhere" => private.clone(),
            _ => {
                let fake = fs::canonicalize(dir.path())
                    .unwrap()
                    .join("homeserver.yaml.20250101T000000Z.bak");
                std::os::unix::fs::symlink(&private, &fake).unwrap();
                fake
            }
        };
        record["backup"] = serde_json::json!(target);
        fs::write(&record_path, serde_json::to_vec(&record).unwrap()).unwrap();
        for mode in ["--dry-run", "--yes"] {
            let out = mas_link()
                .current_dir(dir.path())
                .args(["unlink", "--synapse-config", "homeserver.yaml", mode])
                .output()
                .unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{forged} {mode}: {said}");
            assert!(
                !said.contains("ROOT-ONLY-CONTENT"),
                "{forged} {mode}: {said}"
            );
            assert!(said.contains("is not used"), "{forged} {mode}: {said}");
        }
        let text = fs::read_to_string(&hs).unwrap();
        assert!(!text.contains("ROOT-ONLY-CONTENT"), "{forged}: {text}");
        assert!(text.contains("enabled: false"), "{forged}: {text}");
    }
}

/// `--json` answers JSON on standard output also when the command stops (exit 2): the message
/// and, for an error in a file, its place.
#[test]
fn json_answers_json_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("bad.yaml"), "server_name: example.com\nbad: [1,\n").unwrap();
    for args in [
        vec!["check", "--synapse-config", "bad.yaml", "--json"],
        vec![
            "synapse",
            "--synapse-config",
            "bad.yaml",
            "--dry-run",
            "--format",
            "json",
        ],
        vec![
            "unlink",
            "--synapse-config",
            "bad.yaml",
            "--check",
            "--json",
        ],
        vec!["mas", "--mas-config", "bad.yaml", "--dry-run", "--json"],
    ] {
        let out = bounded(d, &args, Stdio::null());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(v["ok"], false, "{args:?}");
        let e = &v["error"];
        assert!(
            e["message"].as_str().unwrap().contains("bad.yaml:2:"),
            "{args:?}: {v}"
        );
        assert_eq!(
            (e["file"].as_str(), e["line"].as_u64()),
            (Some("bad.yaml"), Some(2)),
            "{v}"
        );
    }
}

/// A secret holding characters YAML may not carry as they are (C1 controls, U+FFFE) is
/// written escaped and read back as it was: no internal error.
#[test]
fn any_secret_is_carried() {
    for secret in ["abc\u{86}def", "abc\u{fffe}def", "abc\u{9f}\u{2028}def"] {
        let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
        let out = mas_link()
            .current_dir(dir.path())
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--yes",
            ])
            .args(["--endpoint", "https://auth.example.com/"])
            .env("MAS_SECRET", secret)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs::read_to_string(&hs).unwrap();
        let doc = mas_link::yaml::Document::parse(text, mas_link::yaml::Options::PYYAML).unwrap();
        assert_eq!(
            doc.value().at(&["matrix_authentication_service", "secret"]),
            Some(&mas_link::yaml::Value::Str(secret.into()))
        );
    }
}

/// Synapse's own loader quotes values back in its refusals (pydantic's `input_value={…}`):
/// check's output, human and JSON, holds no part of 8 or more characters of the secret.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn no_secret_through_synapses_loader() {
    const SECRET: &str = "Zq7MAIL999iiiiAAAABBBBCCCCxY42pW";
    let py = synapse_python();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    server::write_config(&py, d, server::free_port(), &server::sqlite(d));
    fs::write(d.join("mas-secret"), format!("{SECRET}\n")).unwrap();
    let mut text = fs::read_to_string(d.join("homeserver.yaml")).unwrap();
    // Both a secret_path and a secret: Synapse refuses, quoting the section's values, the
    // secret last (pydantic shows the tail of what it quotes).
    text.push_str(&format!(
        "matrix_authentication_service:\n  enabled: true\n  endpoint: http://127.0.0.1:8080/\n  secret_path: {}/mas-secret\n  secret: \"{SECRET}\"\npassword_config:\n  enabled: false\n",
        d.display()
    ));
    fs::write(d.join("homeserver.yaml"), text).unwrap();
    for format in ["human", "json"] {
        let out = Command::new(bin())
            .current_dir(d)
            .args([
                "check",
                "--synapse-config",
                "homeserver.yaml",
                "--format",
                format,
            ])
            .env("MAS_LINK_SYNAPSE_PYTHON", &py)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("loader refuses"), "{format}: {said}");
        // The refusal quotes the values back (masked).
        assert!(
            said.contains("input_value") && said.contains("********"),
            "{format}: {said}"
        );
        for w in 0..=SECRET.len() - 8 {
            assert!(!said.contains(&SECRET[w..w + 8]), "{format}: {said}");
        }
    }
}

/// Read as Synapse reads: a character PyYAML takes for a line break (here hiding
/// `enabled: true` in a comment from a YAML 1.2 reader), or a tag PyYAML's safe loader refuses,
/// is refused with its place instead of being read otherwise.
#[test]
fn what_pyyaml_reads_otherwise_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = fs::read_to_string(fixture("cloudron/homeserver.yaml")).unwrap();
    for (extra, said) in [
        (
            "password_config:\n  # see wiki\u{2028}  enabled: true\n",
            "LINE SEPARATOR (U+2028)",
        ),
        ("a: 1 # x\u{85}b: 2\n", "NEXT LINE (U+0085)"),
        ("note: \"one\u{2029}two\"\n", "PARAGRAPH SEPARATOR (U+2029)"),
        ("custom: !custom value\n", "the tag `!custom`"),
        (
            "obj: !!python/object:os.system x\n",
            "tag:yaml.org,2002:python/object",
        ),
    ] {
        fs::write(d.join("homeserver.yaml"), format!("{base}{extra}")).unwrap();
        let out = bounded(
            d,
            &["check", "--synapse-config", "homeserver.yaml"],
            Stdio::null(),
        );
        refused(&out, said);
        refused(&out, "homeserver.yaml:");
    }
    // Tags PyYAML takes stay as they were read.
    fs::write(d.join("homeserver.yaml"), format!("{base}n: !!str 1\n")).unwrap();
    let out = bounded(
        d,
        &["check", "--synapse-config", "homeserver.yaml"],
        Stdio::null(),
    );
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A file with other hard links (or `--in-place`, for a file bind-mounted alone into a
/// container) is written into its own inode, after the backup, and the output says so: every
/// name (and the container) sees the new text.
#[test]
fn shared_inodes_are_written_in_place() {
    use std::os::unix::fs::MetadataExt;
    for how in ["hard link", "--in-place"] {
        let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
        let other = dir.path().join("other-name.yaml");
        if how == "hard link" {
            fs::hard_link(&hs, &other).unwrap();
        }
        let ino = fs::metadata(&hs).unwrap().ino();
        let mut c = link_with_mas_fixture(dir.path(), &["--yes"]);
        if how == "--in-place" {
            c.arg("--in-place");
        }
        let out = c.output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{how}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("Written in place:"), "{how}: {said}");
        assert!(said.contains("Backup: "), "{how}: {said}");
        assert_eq!(fs::metadata(&hs).unwrap().ino(), ino, "{how}");
        let text = fs::read_to_string(&hs).unwrap();
        assert!(text.contains("matrix_authentication_service:"), "{how}");
        if how == "hard link" {
            assert_eq!(fs::read_to_string(&other).unwrap(), text);
        }
    }
}

//! What mas-link tells a new user: every command it prints after a write runs as printed, in
//! the same place; the wrong kind of file, an empty one or one that is not YAML settings is
//! named as such; `unlink` on a file never linked says so; `--secret-stdin` never waits
//! silently on a terminal.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use predicates::prelude::*;

/// The commands in backquotes on the `Next:` line of a run's output.
fn next_commands(stdout: &str) -> Vec<String> {
    let next = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Next: "))
        .unwrap_or_else(|| panic!("no Next: line in\n{stdout}"));
    next.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Runs a printed command as a shell would, in `dir`, with this build's binary as `mas-link`.
fn run_printed(dir: &Path, command: &str) -> std::process::Output {
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::bin(), bin_dir.path().join("mas-link")).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env_remove("MAS_SECRET")
        .env_remove("MAS_ENDPOINT")
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn printed_next_steps_run_as_printed() {
    // Both files in one folder under names that are not the defaults: every printed command
    // must carry them.
    let dir = tempfile::tempdir().unwrap();
    let mas_text = fs::read_to_string(fixture("mas/config.yaml")).unwrap();
    fs::write(dir.path().join("mas config.yaml"), mas_text).unwrap();
    copy(&fixture("cloudron/homeserver.yaml"), dir.path(), "hs.yaml");
    let link = mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "hs.yaml",
            "--mas-config",
            "mas config.yaml",
        ])
        .arg("--yes")
        .output()
        .unwrap();
    let unlink = next_commands(&stdout(&link));
    assert_eq!(unlink, ["mas-link unlink --synapse-config hs.yaml --yes"]);
    // Untouched since the link: the backup comes back whole, MAS block and all gone, and the
    // way back names where to look for the secret sources.
    let printed = next_commands(&stdout(&run_printed(dir.path(), &unlink[0])));
    assert_eq!(
        printed,
        ["mas-link synapse --synapse-config hs.yaml --help"]
    );
    stdout(&run_printed(dir.path(), &printed[0]));
    // Edited since the link: unlink keeps the disabled block, and relinking is the printed
    // command alone.
    let relinked = mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "hs.yaml",
            "--mas-config",
            "mas config.yaml",
        ])
        .arg("--yes")
        .output()
        .unwrap();
    stdout(&relinked);
    let mut text = fs::read_to_string(dir.path().join("hs.yaml")).unwrap();
    text.push_str("# edited\n");
    fs::write(dir.path().join("hs.yaml"), text).unwrap();
    let relink = next_commands(&stdout(&run_printed(dir.path(), &unlink[0])));
    assert_eq!(relink, ["mas-link synapse --synapse-config hs.yaml --yes"]);
    // The fixture's database is not there (as on a new server): whoever linked it with
    // --new-server says so again; where the database can be read, the line runs as printed.
    let again = stdout(&run_printed(
        dir.path(),
        &format!("{} --new-server", relink[0]),
    ));
    assert!(again.contains("Wrote hs.yaml."), "{again}");
    // MAS's side names its file, and the pipe it prints runs where both files are.
    let mas = mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "mas config.yaml",
            "--homeserver",
            "example.com",
        ])
        .args(["--synapse-endpoint", "http://synapse:8008/", "--yes"])
        .output()
        .unwrap();
    let printed = next_commands(&stdout(&mas));
    let pipe = printed
        .iter()
        .find(|c| c.contains('|'))
        .expect("a pipe to Synapse");
    assert!(pipe.contains("--mas-config 'mas config.yaml'"), "{pipe}");
    let pipe = pipe.replace("--secret-stdin", "--secret-stdin --synapse-config hs.yaml");
    let out = stdout(&run_printed(dir.path(), &pipe));
    assert!(
        out.contains("Nothing to do") || out.contains("Wrote"),
        "{out}"
    );
}

#[test]
fn the_wrong_kind_of_file_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture("mas/config.yaml"), dir.path(), "config.yaml");
    copy(
        &fixture("cloudron/homeserver.yaml"),
        dir.path(),
        "homeserver.yaml",
    );
    let before = [
        fs::read(dir.path().join("config.yaml")).unwrap(),
        fs::read(dir.path().join("homeserver.yaml")).unwrap(),
    ];
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "homeserver.yaml",
            "--homeserver",
            "example.com",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "looks like Synapse's homeserver.yaml",
        ));
    mas_link()
        .current_dir(dir.path())
        .env("MAS_SECRET", MAS_SECRET)
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "config.yaml",
            "--endpoint",
        ])
        .args(["https://auth.example.com/", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("looks like MAS's config.yaml"));
    assert_eq!(fs::read(dir.path().join("config.yaml")).unwrap(), before[0]);
    assert_eq!(
        fs::read(dir.path().join("homeserver.yaml")).unwrap(),
        before[1]
    );
}

#[test]
fn empty_and_non_yaml_files_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        (
            "<!DOCTYPE html>\n<html>\n<body>Not found</body>\n</html>\n",
            "not a YAML mapping",
        ),
    ] {
        fs::write(dir.path().join("homeserver.yaml"), text).unwrap();
        mas_link()
            .current_dir(dir.path())
            .env("MAS_SECRET", MAS_SECRET)
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--endpoint",
            ])
            .args(["https://auth.example.com/", "--yes"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains(says).and(predicate::str::contains("(document)").not()),
            );
        assert_eq!(
            fs::read_to_string(dir.path().join("homeserver.yaml")).unwrap(),
            text
        );
    }
}

#[test]
fn unlink_on_a_file_never_linked_says_so() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let before = fs::read(&hs).unwrap();
    mas_link()
        .current_dir(dir.path())
        .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("is not linked to MAS"));
    assert_eq!(fs::read(&hs).unwrap(), before);
}

#[test]
fn secret_stdin_on_a_terminal_refuses_instead_of_waiting() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let before = fs::read(&hs).unwrap();
    let mut cmd = Command::new(common::bin());
    cmd.current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--secret-stdin",
        ])
        .args(["--endpoint", "https://auth.example.com/", "--yes"])
        .env("NO_COLOR", "1")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env_remove("MAS_SECRET");
    let mut p = rexpect::session::spawn_command(cmd, Some(10_000)).unwrap();
    p.exp_string("standard input is a terminal").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(fs::read(&hs).unwrap(), before);
}

#[test]
fn check_fixes_run_as_printed_on_the_files_checked() {
    // A secret that differs between the two files, both under names that are not the
    // defaults: the fix check prints copies MAS's secret over, and check then passes.
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture("mas/config.yaml"), dir.path(), "mas.yaml");
    copy(&fixture("cloudron/homeserver.yaml"), dir.path(), "hs.yaml");
    let link = mas_link()
        .current_dir(dir.path())
        .env("MAS_SECRET", "an-old-secret")
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "hs.yaml",
            "--endpoint",
        ])
        .args(["https://auth.example.com/", "--yes"])
        .output()
        .unwrap();
    stdout(&link);
    let check = || {
        let out = mas_link()
            .current_dir(dir.path())
            .args([
                "check",
                "--synapse-config",
                "hs.yaml",
                "--mas-config",
                "mas.yaml",
            ])
            .args(["--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let report = check();
    let mismatch = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "matrix_authentication_service.secret")
        .expect("the secret mismatch");
    let fix = mismatch["fix"].as_str().unwrap();
    let command = fix.split('`').nth(1).expect("a command in the fix");
    assert!(
        command.contains("--mas-config mas.yaml") && command.contains("--synapse-config hs.yaml"),
        "{command}"
    );
    stdout(&run_printed(dir.path(), command));
    let report = check();
    assert_eq!(report["ok"], true, "{report}");
}

#[test]
fn errors_about_a_mas_config_read_as_sentences() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("config.yaml"),
        "http:\n  public_base: https://a.example.com/\n",
    )
    .unwrap();
    mas_link()
        .current_dir(dir.path())
        .args(["secret", "--mas-config", "config.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("config.yaml: no `matrix` section"));
}

/// Synapse-only check: the way to bring MAS's side, printed as `not checked`, names the file
/// checked, and runs as printed (MAS's config where `mas-link secret` finds it, as in MAS's
/// container) to a check of the pairing.
#[test]
fn the_missing_side_is_brought_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let hs = copy(&fixture("cloudron/homeserver.yaml"), dir.path(), "hs.yaml");
    let mas = mas_fixture_for(&hs);
    let linked = mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "hs.yaml",
            "--yes",
        ])
        .arg("--mas-config")
        .arg(&mas)
        .output()
        .unwrap();
    stdout(&linked);
    let out = mas_link()
        .current_dir(dir.path())
        .args(["check", "--synapse-config", "hs.yaml", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = report["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .find(|l| l.starts_with("the pairing"))
        .unwrap()
        .to_owned();
    let command = line.split('`').nth(1).unwrap();
    assert_eq!(
        command,
        "mas-link secret --bundle | mas-link check --synapse-config hs.yaml --mas-bundle-stdin"
    );
    // Each end where it runs: `secret` in MAS's container, its config where `secret` looks
    // (here: MAS_CONFIG); `check` in Synapse's, reading the bundle.
    let (mas_end, synapse_end) = command.split_once(" | ").unwrap();
    let bin = common::bin().display().to_string();
    let bundle = Command::new("sh")
        .args(["-c", &mas_end.replace("mas-link", &bin)])
        .env("MAS_CONFIG", &mas)
        .output()
        .unwrap();
    let mut check = std::process::Command::new("sh");
    check
        .args(["-c", &synapse_end.replace("mas-link", &bin)])
        .current_dir(dir.path())
        .env_remove("MAS_CONFIG")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = check.spawn().unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&bundle.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("(MAS's bundle on stdin)"), "{said}");
    assert!(!said.contains("not checked: the pairing"), "{said}");
}

/// After unlink on a server whose SSO came back, the relink line brings MAS's side (without
/// it the link would stop: MAS must be seen to cover the providers), and runs as printed.
#[test]
fn relinking_an_sso_server_runs_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&fixture("sso/keycloak/config.yaml"), d, "config.yaml");
    copy(&fixture("sso/keycloak/homeserver.yaml"), d, "hs.yaml");
    let run = |args: &[&str]| {
        let out = mas_link().current_dir(d).args(args).output().unwrap();
        stdout(&out)
    };
    run(&[
        "mas",
        "--mas-config",
        "config.yaml",
        "--synapse-config",
        "hs.yaml",
        "--yes",
    ]);
    run(&[
        "synapse",
        "--new-server",
        "--synapse-config",
        "hs.yaml",
        "--mas-config",
        "config.yaml",
        "--yes",
    ]);
    // Edited since: unlink puts settings back one by one and keeps the block.
    let mut text = fs::read_to_string(d.join("hs.yaml")).unwrap();
    text.push_str("# edited\n");
    fs::write(d.join("hs.yaml"), text).unwrap();
    let unlinked = run(&["unlink", "--synapse-config", "hs.yaml", "--yes"]);
    let relink = next_commands(&unlinked);
    assert_eq!(
        relink,
        [
            "mas-link secret --bundle | mas-link synapse --synapse-config hs.yaml --secret-stdin --yes"
        ]
    );
    // MAS's config where `secret` looks for it; the fixture's database is not there (a new
    // server), which the operator says as the first time.
    let bin = common::bin().display().to_string();
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("{} --new-server", relink[0].replace("mas-link", &bin)),
        ])
        .current_dir(d)
        .env("MAS_CONFIG", d.join("config.yaml"))
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env_remove("MAS_SECRET")
        .output()
        .unwrap();
    assert!(stdout(&out).contains("Wrote hs.yaml."));
}

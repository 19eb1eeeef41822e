//! Trust under stress: SIGKILL at every step of a write and at random moments, disk full, a
//! read-only file system, permission denied, the file replaced between read and write, two
//! runs at once, files too large or too deep, and an in-place edit after a kill. The
//! file is always the old bytes or the new, never a mix; the backup is whole; refusals exit 2
//! with the original intact.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use predicates::prelude::*;

/// The pause hook (MAS_LINK_TEST_PAUSE) exists in debug builds only: the tests that drive it
/// are named `paused_…`, and a run on a release binary leaves them out (`-- --skip paused_`).
fn pause_hook() {
    // The binary under test is this build's unless MAS_LINK_BIN names a release build.
    let debug = cfg!(debug_assertions) && std::env::var_os("MAS_LINK_BIN").is_none();
    assert!(
        debug,
        "this test drives the pause hook of a debug build of mas-link; on a release binary \
         (MAS_LINK_BIN) leave it out with `-- --skip paused_`"
    );
}

/// Why the tests that mount file systems or act as another user are ignored by default.
const NEEDS_ROOT: &str = "needs root";

fn link_cmd(dir: &Path) -> Command {
    let mut c = Command::new(common::bin());
    c.current_dir(dir)
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
            "https://auth.example.com/",
        ])
        .env("MAS_SECRET", MAS_SECRET)
        .env("NO_COLOR", "1")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// What a completed link writes for this input.
fn expected_output(src: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(src, dir.path().join("homeserver.yaml")).unwrap();
    assert!(link_cmd(dir.path()).status().unwrap().success());
    fs::read(dir.path().join("homeserver.yaml")).unwrap()
}

/// Waits until the child says it paused at `step`.
fn wait_for_pause(child: &mut Child, step: &str) {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("the child ended before pausing")
            .unwrap();
        if line.contains(&format!("paused at {step}")) {
            return;
        }
    }
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bak"))
        .collect()
}

fn temps(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

/// The invariants after any interruption.
fn assert_old_or_new(dir: &Path, old: &[u8], new: &[u8], when: &str) {
    let now = fs::read(dir.join("homeserver.yaml")).unwrap();
    assert!(
        now == old || now == new,
        "{when}: the file is neither the old nor the new bytes"
    );
    for b in backups(dir) {
        assert_eq!(
            fs::read(&b).unwrap(),
            old,
            "{when}: backup {} is not whole",
            b.display()
        );
    }
}

#[test]
fn paused_sigkill_at_every_step_of_a_write() {
    pause_hook();
    let src = fixture("legacy-msc3861/homeserver.yaml");
    let old = fs::read(&src).unwrap();
    let new = expected_output(&src);
    for step in ["start", "backup-written", "temp-written", "renamed"] {
        let (dir, _) = scratch(&src);
        let mut child = link_cmd(dir.path())
            .env("MAS_LINK_TEST_PAUSE", step)
            .spawn()
            .unwrap();
        wait_for_pause(&mut child, step);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_old_or_new(dir.path(), &old, &new, step);
        // The next run finishes the job and clears what the killed one left.
        assert!(
            link_cmd(dir.path()).status().unwrap().success(),
            "{step}: rerun"
        );
        assert_eq!(
            fs::read(dir.path().join("homeserver.yaml")).unwrap(),
            new,
            "{step}"
        );
        assert!(
            temps(dir.path()).is_empty(),
            "{step}: temporary files left: {:?}",
            temps(dir.path())
        );
    }
}

#[test]
fn sigkill_at_random_moments() {
    // A larger file, so that the write takes a while; the delays are spread over the whole run.
    let dir0 = tempfile::tempdir().unwrap();
    let src = dir0.path().join("big.yaml");
    let mut text = fs::read_to_string(fixture("generated-1.163/homeserver.yaml")).unwrap();
    text.push('\n');
    for n in 0..1500 {
        text.push_str(&format!(
            "# section {n}\nmodule_{n}:\n  enabled: true\n  hosts:\n    - a{n}.example.org\n"
        ));
    }
    fs::write(&src, &text).unwrap();
    let old = fs::read(&src).unwrap();
    let t = Instant::now();
    let new = expected_output(&src);
    let full = t.elapsed();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    const KILLS: usize = 60;
    let mut outcomes = [0usize; 2];
    for i in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % (full.as_micros() as u64 + 1).max(1));
        let dir = tempfile::tempdir().unwrap();
        fs::copy(&src, dir.path().join("homeserver.yaml")).unwrap();
        let mut child = link_cmd(dir.path()).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        child.wait().unwrap();
        assert_old_or_new(dir.path(), &old, &new, &format!("kill {i} after {delay:?}"));
        outcomes[usize::from(fs::read(dir.path().join("homeserver.yaml")).unwrap() == new)] += 1;
        // The next run cleans up after the killed one (its temporary files are full copies of
        // the config, secrets included) and writes the same new file.
        assert!(link_cmd(dir.path()).status().unwrap().success());
        let left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "kill {i} after {delay:?}: left {left:?}");
        assert_eq!(fs::read(dir.path().join("homeserver.yaml")).unwrap(), new);
    }
    eprintln!(
        "{KILLS} kills over {full:?}: {} left the old file, {} the new",
        outcomes[0], outcomes[1]
    );
    assert_eq!(outcomes[0] + outcomes[1], KILLS);
    // The kills were spread over the run: some came before the new file was in place.
    assert!(outcomes[0] > 0, "{outcomes:?}");
}

/// A small tmpfs (root only).
struct Mount {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mount {
    fn new(size: &str) -> Mount {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fs");
        fs::create_dir(&path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot mount a tmpfs here: this test {NEEDS_ROOT}");
        Mount { path, _dir: dir }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn disk_full_is_a_clean_refusal() {
    let m = Mount::new("64k");
    let hs = m.path.join("homeserver.yaml");
    let old = fs::read(fixture("cloudron/homeserver.yaml")).unwrap();
    fs::write(&hs, &old).unwrap();
    // Take every free byte, leaving the file as it is.
    let filler = m.path.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let chunk = vec![b'x'; 1024];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);
    for extra in [&[][..], &["--no-backup"][..]] {
        let out = link_cmd(&m.path).args(extra).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("No space left on device"), "{err}");
        assert_eq!(fs::read(&hs).unwrap(), old);
        assert!(
            temps(&m.path).is_empty() && backups(&m.path).is_empty(),
            "{err}"
        );
    }
}

#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn read_only_file_system_is_a_clean_refusal() {
    let m = Mount::new("1m");
    let hs = m.path.join("homeserver.yaml");
    let old = fs::read(fixture("cloudron/homeserver.yaml")).unwrap();
    fs::write(&hs, &old).unwrap();
    assert!(
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&m.path)
            .status()
            .unwrap()
            .success()
    );
    let out = link_cmd(&m.path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    assert_eq!(fs::read(&hs).unwrap(), old);
}

#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn permission_denied_is_a_clean_refusal() {
    // As an unprivileged user (setpriv, when this runs as root) the folder is not writable.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    assert!(
        is_root && Command::new("setpriv").arg("--help").output().is_ok(),
        "this test {NEEDS_ROOT} and setpriv, to act as another user"
    );
    let dir = tempfile::tempdir().unwrap();
    let hs = dir.path().join("homeserver.yaml");
    let old = fs::read(fixture("cloudron/homeserver.yaml")).unwrap();
    fs::write(&hs, &old).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(common::bin())
        .args(["synapse", "--new-server", "--synapse-config"])
        .arg(&hs)
        .args(["--yes", "--endpoint", "https://a.example.com/"])
        .env("MAS_SECRET", "s")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&hs).unwrap(), old);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn paused_a_file_replaced_between_read_and_write_is_left_alone() {
    pause_hook();
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let mut child = link_cmd(dir.path())
        .env("MAS_LINK_TEST_PAUSE", "start:1500")
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    // Past the note that --new-server was taken at its word.
    assert!(
        lines
            .by_ref()
            .map(Result::unwrap)
            .find(|l| l.contains("paused at"))
            .unwrap()
            .contains("paused at start")
    );
    // Another editor saves the file meanwhile (by rename, as editors do).
    let theirs = b"server_name: \"example.com\"\n# saved by someone else\n";
    fs::write(dir.path().join("other"), theirs).unwrap();
    fs::rename(dir.path().join("other"), &hs).unwrap();
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(status.code(), Some(2));
    assert!(
        rest.join("\n").contains("changed since it was read"),
        "{rest:?}"
    );
    assert_eq!(fs::read(&hs).unwrap(), theirs);
    assert!(backups(dir.path()).is_empty() && temps(dir.path()).is_empty());
}

#[test]
fn paused_a_failed_write_takes_its_secret_file_back() {
    // The file changes between read and write: nothing is written, and the --secret-path
    // file this run made is gone again.
    pause_hook();
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let secret = dir.path().join("mas-secret");
    let mut child = link_cmd(dir.path())
        .arg("--secret-path")
        .arg(&secret)
        .env("MAS_LINK_TEST_PAUSE", "start:1500")
        .spawn()
        .unwrap();
    wait_for_pause(&mut child, "start");
    assert!(secret.exists(), "the secret file is written first");
    fs::write(&hs, "server_name: \"example.com\"\n").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(2));
    assert!(!secret.exists(), "the secret file was left behind");
    assert!(backups(dir.path()).is_empty() && temps(dir.path()).is_empty());
}

#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn the_lock_file_belongs_to_the_configs_owner() {
    // Run as root on a file owned by someone else: the lock left beside it is theirs, so a
    // later run as that user can take it.
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    assert!(
        std::os::unix::fs::chown(&hs, Some(4321), Some(4321)).is_ok(),
        "cannot give a file away here: this test {NEEDS_ROOT}"
    );
    assert!(link_cmd(dir.path()).status().unwrap().success());
    let lock = fs::metadata(dir.path().join("homeserver.yaml.mas-link.lock")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((lock.uid(), lock.gid()), (4321, 4321));
    let written = fs::metadata(&hs).unwrap();
    assert_eq!((written.uid(), written.gid()), (4321, 4321));
    assert_eq!(lock.mode() & 0o7777, 0o600);
}

/// The folder's owner (`nobody`) plants `homeserver.yaml.mas-link.lock` as a symlink to a
/// root-only file, or as a hard link to one: root's run refuses it by name, and the file it
/// points at keeps its bytes, owner and mode.
#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn a_planted_lock_is_never_followed() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    for plant in ["symlink", "hard link", "dangling symlink"] {
        let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
        let victim_dir = tempfile::tempdir().unwrap();
        let victim = victim_dir.path().join("shadow");
        fs::write(&victim, "root-only data\n").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
        std::os::unix::fs::chown(&hs, Some(65534), Some(65534)).unwrap();
        let lock = dir.path().join("homeserver.yaml.mas-link.lock");
        // Planted by the folder's owner, `nobody` (a hard link to a file it cannot read is
        // refused to it by the kernel's protected_hardlinks: root makes that one).
        let as_nobody = |args: &[&std::ffi::OsStr]| {
            let ok = Command::new("setpriv")
                .args([
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    "--",
                    "ln",
                    "-s",
                ])
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "{plant}");
        };
        match plant {
            "symlink" => as_nobody(&[victim.as_os_str(), lock.as_os_str()]),
            "hard link" => fs::hard_link(&victim, &lock).unwrap(),
            _ => as_nobody(&[victim_dir.path().join("new").as_os_str(), lock.as_os_str()]),
        }
        let before = fs::read(&hs).unwrap();
        let out = link_cmd(dir.path()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{plant}: {err}");
        assert!(
            err.contains("homeserver.yaml.mas-link.lock is a"),
            "{plant}: {err}"
        );
        assert_eq!(fs::read(&hs).unwrap(), before, "{plant}");
        assert_eq!(fs::read(&victim).unwrap(), b"root-only data\n", "{plant}");
        let m = fs::metadata(&victim).unwrap();
        assert_eq!((m.uid(), m.mode() & 0o7777), (0, 0o600), "{plant}");
        assert!(
            !victim_dir.path().join("new").exists(),
            "{plant}: a file was created"
        );
    }
}

/// A read-only homeserver.yaml linked by its owner: the lock left beside it is 0600 and the
/// owner's, so every later run, the way back included, takes it. A lock an older mas-link
/// left read-only is made writable again by its owner.
#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn the_way_back_is_never_locked() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::chown(&hs, Some(65534), Some(65534)).unwrap();
    fs::set_permissions(&hs, fs::Permissions::from_mode(0o444)).unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(common::bin())
            .args(args)
            .current_dir(dir.path())
            .env("MAS_SECRET", MAS_SECRET)
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .output()
            .unwrap()
    };
    let link = [
        "synapse",
        "--new-server",
        "--synapse-config",
        "homeserver.yaml",
        "--yes",
        "--endpoint",
        "https://auth.example.com/",
    ];
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    ok(as_nobody(&link));
    let lock = dir.path().join("homeserver.yaml.mas-link.lock");
    assert_eq!(
        fs::metadata(&lock).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    ok(as_nobody(&[
        "unlink",
        "--synapse-config",
        "homeserver.yaml",
        "--yes",
    ]));
    // An older mas-link's lock, read-only like the config it copied its mode from.
    fs::set_permissions(&lock, fs::Permissions::from_mode(0o444)).unwrap();
    ok(as_nobody(&link));
}

#[test]
fn paused_two_runs_never_interleave() {
    pause_hook();
    let (dir, _) = scratch(&fixture("cloudron/homeserver.yaml"));
    let mut first = link_cmd(dir.path())
        .env("MAS_LINK_TEST_PAUSE", "start")
        .spawn()
        .unwrap();
    wait_for_pause(&mut first, "start");
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
            "https://auth.example.com/",
        ])
        .env("MAS_SECRET", MAS_SECRET)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "another mas-link (pid {}, `mas-link synapse`",
            first.id()
        )));
    first.kill().unwrap();
    first.wait().unwrap();
    // The lock went with the process: the next run goes through.
    assert!(link_cmd(dir.path()).status().unwrap().success());
}

#[test]
fn too_large_and_too_deep_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("homeserver.yaml");
    fs::File::create(&big)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    link_cmd(dir.path())
        .output()
        .map(|o| {
            assert_eq!(o.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&o.stderr).contains("over the 67108864-byte limit"));
        })
        .unwrap();
    // `check` reads under the same limit as the writers.
    mas_link()
        .current_dir(dir.path())
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("over the 67108864-byte limit"));
    let deep = format!("{}1{}\n", "a: [".repeat(300), "]".repeat(300));
    fs::write(&big, &deep).unwrap();
    let o = link_cmd(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("homeserver.yaml:1:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let deep_block: String = (0..300)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    fs::write(&big, &deep_block).unwrap();
    let o = link_cmd(dir.path()).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(fs::read_to_string(&big).unwrap(), deep_block);
}

#[test]
fn paused_a_backup_outlives_an_in_place_edit_after_a_kill() {
    // Killed right after the backup is made, then the live file edited in place (an editor
    // that writes into the same file): the backup must still hold the bytes that were read.
    pause_hook();
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let old = fs::read(&hs).unwrap();
    let mut child = link_cmd(dir.path())
        .env("MAS_LINK_TEST_PAUSE", "backup-written")
        .spawn()
        .unwrap();
    wait_for_pause(&mut child, "backup-written");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut f = fs::OpenOptions::new().write(true).open(&hs).unwrap();
    std::io::Write::write_all(&mut f, b"# edited in place\n").unwrap();
    drop(f);
    let b = backups(dir.path());
    assert_eq!(b.len(), 1);
    assert_eq!(
        fs::read(&b[0]).unwrap(),
        old,
        "the backup followed the live file"
    );
    assert_ne!(fs::read(&hs).unwrap(), old);
}

/// Run as root, the secret file takes the owner and group of the config that names it, so
/// that Synapse (here `nobody`) can read it; one the folder's owner planted as a symlink is
/// refused, and what it points at is left alone.
#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn synapse_can_read_the_secret_file() {
    use std::os::unix::fs::MetadataExt;
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    std::os::unix::fs::chown(&hs, Some(65534), Some(65534)).unwrap();
    let secret = dir.path().join("mas-secret");
    let link = |secret: &Path| {
        mas_link()
            .current_dir(dir.path())
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--yes",
            ])
            .args(["--endpoint", "https://auth.example.com/", "--secret-path"])
            .arg(secret)
            .env("MAS_SECRET", MAS_SECRET)
            .output()
            .unwrap()
    };
    let out = link(&secret);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = fs::metadata(&secret).unwrap();
    assert_eq!((m.uid(), m.gid()), (65534, 65534));
    let read = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "cat",
        ])
        .arg(&secret)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), MAS_SECRET);
    // A planted symlink where the secret file goes.
    let (dir2, _) = scratch(&fixture("cloudron/homeserver.yaml"));
    let victim = dir2.path().join("victim");
    fs::write(&victim, "untouched\n").unwrap();
    let planted = dir.path().join("planted");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let before = fs::read(&hs).unwrap();
    let out = link(&planted);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("planted is a symlink"), "{err}");
    assert_eq!(fs::read(&victim).unwrap(), b"untouched\n");
    assert_eq!(fs::read(&hs).unwrap(), before);
}

/// A file bind-mounted alone (Docker Compose's `./homeserver.yaml:/data/homeserver.yaml`, seen
/// from inside the container): the rename over it fails (EBUSY), so it is written in place,
/// after its backup, and the file behind the mount has the new text.
#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn a_single_file_bind_mount_is_written_in_place() {
    let host = tempfile::tempdir().unwrap();
    let on_host = host.path().join("homeserver.yaml");
    fs::copy(fixture("cloudron/homeserver.yaml"), &on_host).unwrap();
    let (container, in_container) = scratch(&fixture("cloudron/homeserver.yaml"));
    let mounted = Command::new("mount")
        .args(["--bind"])
        .arg(&on_host)
        .arg(&in_container)
        .status()
        .is_ok_and(|s| s.success());
    assert!(mounted, "cannot bind-mount here: this test {NEEDS_ROOT}");
    let out = link_cmd(container.path())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = Command::new("umount").arg(&in_container).status();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("Written in place:"), "{said}");
    assert!(
        fs::read_to_string(&on_host)
            .unwrap()
            .contains("matrix_authentication_service:")
    );
}

/// The folder's owner (`nobody`) edits the record to name a root-only file as the backup;
/// root's `unlink` neither shows nor copies it in.
#[ignore = "needs root (mounts a tmpfs, or acts as another user): as root, cargo test --test stress -- --include-ignored"]
#[test]
fn a_forged_record_leaks_nothing_to_its_author() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    assert!(link_cmd(dir.path()).status().unwrap().success());
    let elsewhere = tempfile::tempdir().unwrap();
    let private = elsewhere.path().join("shadow");
    fs::write(&private, "private_key: \"ROOT-ONLY-CONTENT\"\n").unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    for p in [
        dir.path(),
        &hs,
        &dir.path().join("homeserver.yaml.mas-link.json"),
    ] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
    }
    let record = dir.path().join("homeserver.yaml.mas-link.json");
    let script = format!(
        "sed -i 's#\"backup\": *[^,]*,#\"backup\": \"{}\",#' {}",
        private.display(),
        record.display()
    );
    let forged = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .status()
        .unwrap();
    assert!(forged.success());
    assert!(fs::read_to_string(&record).unwrap().contains("shadow"));
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
        assert!(out.status.success(), "{mode}: {said}");
        assert!(!said.contains("ROOT-ONLY-CONTENT"), "{mode}: {said}");
    }
    assert!(
        !fs::read_to_string(&hs)
            .unwrap()
            .contains("ROOT-ONLY-CONTENT")
    );
}

//! Writing a proposal safely. Under a lock taken before the file was read:
//! 1. the backup is copied (a temporary file beside it, synced, then given its name);
//! 2. the new file is written beside the target under a temporary name, with the target's
//!    owner and mode, and synced;
//! 3. if the target still holds the bytes that were read, the new file is renamed over it and
//!    the folder synced.
//!
//! On any failure before the rename the target is untouched, and the backup and secret file
//! this run made are taken back. Temporary files a killed run left are removed by the next.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::files::Loaded;
use crate::plan::{Proposal, RecordStep};
use crate::rules::record;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} changed since it was read; nothing was written. Run the command again")]
    Changed { path: PathBuf },
    #[error(
        "{path} is being changed by another mas-link ({holder}); nothing was written. Wait for it, then run again"
    )]
    Locked { path: PathBuf, holder: String },
    #[error(
        "{path} is {what}: mas-link does not follow or share a file beside the config. If no \
         mas-link runs, delete it and run again"
    )]
    Unexpected { path: PathBuf, what: &'static str },
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What a write left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub backup: Option<PathBuf>,
    /// Written into the file itself, not renamed over it (see [`Writing::in_place`]).
    pub in_place: bool,
}

/// How to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writing {
    /// Keep a backup beside each file.
    pub backup: bool,
    /// Write into the file itself rather than rename a new one over it: a file bind-mounted
    /// alone into a container (Docker Compose's `./homeserver.yaml:/data/homeserver.yaml`)
    /// keeps showing its old inode after a rename. Also done, and said, where the rename
    /// cannot replace the file (EBUSY, EXDEV) or the file has other hard links.
    pub in_place: bool,
}

/// For the crash-safety tests: in debug builds, `MAS_LINK_TEST_PAUSE=STEP[:MS]` makes the
/// write stop at that step (saying so on stderr) for MS milliseconds (default 30 s), so that a
/// test can kill it or change the file there. Release builds have no such hook.
fn test_pause(step: &str) {
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var("MAS_LINK_TEST_PAUSE") {
        let (name, ms) = spec.split_once(':').unwrap_or((&spec, "30000"));
        if name == step {
            eprintln!("mas-link: paused at {step}");
            std::thread::sleep(std::time::Duration::from_millis(
                ms.parse().unwrap_or(30_000),
            ));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = step;
}

/// An exclusive lock on a file's sidecar `NAME.mas-link.lock` (never on the file itself, which
/// is replaced): two runs never interleave, and the second is told who holds it. The lock
/// file has the config's owner and mode 0600, so that whoever may edit the config may lock it
/// (a read-only config included); it is opened without following a symlink, and one with
/// other hard links is refused: root never writes through a name the folder's owner planted.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// The lock of the file `path` leads to (through symlinks), for `mas-link WHAT`.
    pub fn for_file(path: &Path, what: &str) -> Result<Lock, WriteError> {
        let target = fs::canonicalize(path).map_err(io("reading", path))?;
        Lock::acquire(&target, what)
    }

    pub fn acquire(target: &Path, what: &str) -> Result<Lock, WriteError> {
        let path = sibling(target, ".mas-link.lock");
        let meta = fs::metadata(target).map_err(io("reading", target))?;
        let file = open_lock(&path)?;
        let lock_meta = file.metadata().map_err(io("locking", &path))?;
        if !lock_meta.is_file() {
            return Err(WriteError::Unexpected {
                path,
                what: "not a regular file",
            });
        }
        if lock_meta.nlink() > 1 {
            return Err(WriteError::Unexpected {
                path,
                what: "a file with other hard links",
            });
        }
        if (lock_meta.uid(), lock_meta.gid()) != (meta.uid(), meta.gid()) {
            // Only root can give a file away (an older run's root-owned lock included);
            // anyone else made it as themselves.
            let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
        }
        if lock_meta.mode() & 0o7777 != 0o600 {
            let _ = file.set_permissions(fs::Permissions::from_mode(0o600));
        }
        if let Err(e) = file.try_lock() {
            let holder = match e {
                fs::TryLockError::WouldBlock => fs::read_to_string(&path).unwrap_or_default(),
                fs::TryLockError::Error(e) => return Err(io("locking", &path)(e)),
            };
            let holder = holder.trim();
            return Err(WriteError::Locked {
                path: target.to_owned(),
                holder: if holder.is_empty() { "unknown" } else { holder }.to_owned(),
            });
        }
        let me = format!(
            "pid {}, `mas-link {what}`, since {}",
            std::process::id(),
            stamp(SystemTime::now())
        );
        // Written over the old text, then cut to length: truncating to empty first makes ext4
        // flush the file when it is closed (auto_da_alloc), a sixth of a run.
        let _ = std::os::unix::fs::FileExt::write_all_at(&file, me.as_bytes(), 0)
            .and_then(|_| file.set_len(me.len() as u64));
        // Temporary files a killed run left behind (copies of the config, with its secrets):
        // no one else can be writing them now.
        if let (Some(dir), Some(name)) = (target.parent(), target.file_name()) {
            let name = name.to_string_lossy();
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                if is_our_temp(&name, &entry.file_name().to_string_lossy()) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(Lock { _file: file })
    }
}

/// The lock file, opened for writing without following a symlink (created 0600). One an older
/// mas-link left read-only (it took a read-only config's mode) is made writable first, when
/// it is this user's own.
fn open_lock(path: &Path) -> Result<File, WriteError> {
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)
    };
    match open() {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            Err(WriteError::Unexpected {
                path: path.to_owned(),
                what: "a symlink",
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let mine = fs::symlink_metadata(path)
                .is_ok_and(|m| m.is_file() && m.uid() == rustix::process::geteuid().as_raw());
            if !mine {
                return Err(io("locking", path)(e));
            }
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .and_then(|_| open())
                .map_err(io("locking", path))
        }
        other => other.map_err(io("locking", path)),
    }
}

/// UTC time as `YYYYMMDDTHHMMSSZ`, for backup names.
fn stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    target.with_file_name(name)
}

/// Temporary files beside `NAME` are `.NAME.mas-link-XXXXXX.tmp`.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.mas-link-")
}

/// Whether `file` is a temporary file a write to `name` makes beside it: the config's own
/// (`.NAME.mas-link-XXXXXX.tmp`), its backup's (`.NAME.STAMP.bak.mas-link-XXXXXX.tmp`) or its
/// record's (`.NAME.mas-link.json.mas-link-XXXXXX.tmp`).
fn is_our_temp(name: &str, file: &str) -> bool {
    let Some(rest) = file
        .strip_prefix(&format!(".{name}."))
        .and_then(|r| r.strip_suffix(".tmp"))
    else {
        return false;
    };
    // What stands between `.NAME.` and tempfile's `mas-link-XXXXXX`.
    let Some((middle, tail)) = rest
        .len()
        .checked_sub("mas-link-XXXXXX".len())
        .and_then(|at| Some((rest.get(..at)?, rest.get(at..)?)))
    else {
        return false;
    };
    let backup = middle.len() == "20261127T101500Z.bak.".len() && middle.ends_with("Z.bak.");
    tail.starts_with("mas-link-") && (middle.is_empty() || middle == "mas-link.json." || backup)
}

/// A temporary file beside `path` holding `bytes`, with `mode` and `owner`, synced when
/// `sync`: given `path`'s name once whole, so that the file there is whole or absent.
fn temp_beside(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: (u32, u32),
    sync: bool,
) -> Result<tempfile::NamedTempFile, WriteError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&name))
        .suffix(".tmp")
        .tempfile_in(dir.unwrap_or(Path::new(".")))
        .map_err(io("creating a file beside", path))?;
    tmp.write_all(bytes).map_err(io("writing", path))?;
    let f = tmp.as_file();
    let current = f.metadata().map_err(io("writing", path))?;
    if (current.uid(), current.gid()) != owner {
        std::os::unix::fs::fchown(f, Some(owner.0), Some(owner.1))
            .map_err(io("keeping the owner of", path))?;
    }
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io("keeping the mode of", path))?;
    if sync {
        f.sync_all().map_err(io("syncing", path))?;
    }
    Ok(tmp)
}

/// [`temp_beside`], then named `path`, replacing what is there.
fn write_over(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: (u32, u32),
    sync: bool,
) -> Result<(), WriteError> {
    temp_beside(path, bytes, mode, owner, sync)?
        .persist(path)
        .map_err(|e| io("replacing", path)(e.error))?;
    Ok(())
}

fn sync_dir(path: &Path) -> Result<(), WriteError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing", dir))
}

/// A backup name beside `target` that does not exist yet: `NAME.YYYYMMDDTHHMMSSZ.bak`, with
/// `-N` added when a run in the same second left one.
fn backup_name(target: &Path) -> PathBuf {
    let now = stamp(SystemTime::now());
    let mut path = sibling(target, &format!(".{now}.bak"));
    let mut n = 1;
    while fs::symlink_metadata(&path).is_ok() {
        path = sibling(target, &format!(".{now}-{n}.bak"));
        n += 1;
    }
    path
}

/// Replaces the loaded file's target, read as `old`, with `new`, keeping its owner and mode,
/// after copying `old` to a timestamped backup beside it (when `backup`).
pub fn replace(
    loaded: &Loaded,
    old: &[u8],
    new: &[u8],
    how: Writing,
) -> Result<Written, WriteError> {
    let target = &loaded.target;
    test_pause("start");
    let meta = fs::metadata(target).map_err(io("reading", target))?;
    let (mode, owner) = (meta.mode() & 0o7777, (meta.uid(), meta.gid()));
    let backup = match how.backup {
        true => {
            let path = backup_name(target);
            temp_beside(&path, old, mode, owner, true)?
                .persist_noclobber(&path)
                .map_err(|e| io("creating", &path)(e.error))?;
            test_pause("backup-written");
            Some(path)
        }
        false => None,
    };
    let in_place = how.in_place || meta.nlink() > 1;
    let written = match in_place {
        true => write_in_place(loaded, old, new),
        false => rename_over(loaded, old, new, mode, owner),
    };
    match written {
        Ok(in_place) => Ok(Written { backup, in_place }),
        Err(e) => {
            // The file is as it was: the backup goes with the attempt.
            if let Some(b) = &backup {
                let _ = fs::remove_file(b);
            }
            Err(e)
        }
    }
}

/// The new file written beside the target, then renamed over it if the target still holds
/// `old`. Where the rename cannot replace it (a file bind-mounted alone: EBUSY; another file
/// system: EXDEV), written in place instead. Returns whether it was.
fn rename_over(
    loaded: &Loaded,
    old: &[u8],
    new: &[u8],
    mode: u32,
    owner: (u32, u32),
) -> Result<bool, WriteError> {
    let target = &loaded.target;
    let new_file = temp_beside(target, new, mode, owner, true)?;
    test_pause("temp-written");
    unchanged(loaded, old)?;
    use rustix::io::Errno;
    match new_file.persist(target) {
        Ok(_) => {}
        Err(e) => {
            let errno = e.error.raw_os_error();
            if ![Errno::BUSY, Errno::XDEV]
                .iter()
                .any(|x| errno == Some(x.raw_os_error()))
            {
                return Err(io("replacing", target)(e.error));
            }
            // The temporary file goes with `e`; the file is written where it is.
            drop(e.file);
            return write_in_place(loaded, old, new);
        }
    }
    test_pause("renamed");
    sync_dir(target)?;
    Ok(false)
}

/// The target still holds the bytes that were read.
fn unchanged(loaded: &Loaded, old: &[u8]) -> Result<(), WriteError> {
    match fs::read(&loaded.target).map_err(io("reading", &loaded.target))? == old {
        true => Ok(()),
        false => Err(WriteError::Changed {
            path: loaded.path.clone(),
        }),
    }
}

/// The new bytes written into the file itself (same inode: a bind mount and other hard links
/// see them), synced, then read back; if they do not read back, the old bytes are put back.
/// Not atomic: the backup, written first, is the way back from a crash in between.
fn write_in_place(loaded: &Loaded, old: &[u8], new: &[u8]) -> Result<bool, WriteError> {
    use std::os::unix::fs::FileExt;
    let target = &loaded.target;
    unchanged(loaded, old)?;
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(target)
        .map_err(io("writing", target))?;
    let put = |bytes: &[u8]| {
        file.write_all_at(bytes, 0)
            .and_then(|_| file.set_len(bytes.len() as u64))
            .and_then(|_| file.sync_all())
    };
    put(new).map_err(io("writing", target))?;
    if fs::read(target).map_err(io("reading", target))? != new {
        let _ = put(old);
        return Err(WriteError::Io {
            action: "verifying",
            path: target.clone(),
            source: std::io::Error::other("the file did not read back as written; put back"),
        });
    }
    Ok(true)
}

/// A secret file as it was before this run wrote it, to put back if the write fails.
struct SecretUndo {
    path: PathBuf,
    before: Option<Vec<u8>>,
}

impl SecretUndo {
    fn undo(self) {
        let _ = match self.before {
            Some(bytes) => fs::write(&self.path, bytes),
            None => fs::remove_file(&self.path),
        };
    }
}

/// Writes a secret file: an existing one keeps its owner and mode; a new one gets the owner
/// and group of `config` (the file that names it: Synapse reads it as that user), readable by
/// the group when the config is. A symlink or a file with other hard links there is refused,
/// never followed. Returns what it was, for [`SecretUndo`].
fn write_secret_file(path: &Path, secret: &str, config: &Path) -> Result<SecretUndo, WriteError> {
    let unexpected = |what| WriteError::Unexpected {
        path: path.to_owned(),
        what,
    };
    let (mode, owner, before) = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Err(unexpected("a symlink")),
        Ok(m) if !m.is_file() => return Err(unexpected("not a regular file")),
        Ok(m) if m.nlink() > 1 => return Err(unexpected("a file with other hard links")),
        Ok(m) => (
            m.mode() & 0o7777,
            (m.uid(), m.gid()),
            Some(fs::read(path).map_err(io("reading", path))?),
        ),
        Err(_) => {
            let c = fs::metadata(config).map_err(io("reading", config))?;
            let mode = if c.mode() & 0o040 != 0 { 0o640 } else { 0o600 };
            (mode, (c.uid(), c.gid()), None)
        }
    };
    write_over(path, format!("{secret}\n").as_bytes(), mode, owner, true)?;
    Ok(SecretUndo {
        path: path.to_owned(),
        before,
    })
}

/// What writing a proposal left behind: each written file's backup, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub written: Vec<(PathBuf, Written)>,
}

impl Applied {
    pub fn backups(&self) -> impl Iterator<Item = &Path> {
        self.written.iter().filter_map(|(_, w)| w.backup.as_deref())
    }
}

/// Writes a proposal: its secret file, each changed file (with a backup, when `backup`), then
/// the records. All or nothing: if a file cannot be written, those already written are put
/// back as they were read (their backups removed), and so is the secret file.
pub fn apply(p: &Proposal, how: Writing) -> Result<Applied, WriteError> {
    // The file that names the secret file: the first that changes (the link's).
    let config = p.files.iter().find(|f| f.changed()).unwrap_or(&p.files[0]);
    let undo = match &p.secret_file {
        // With the rights of whoever named it: a file its owner could not write is not.
        Some(s) => Some(
            s.rights
                .run(|| write_secret_file(&s.path, &s.secret, &config.file.target))
                .map_err(|e| WriteError::Io {
                    action: "writing",
                    path: s.path.clone(),
                    source: std::io::Error::other(e.to_string()),
                })??,
        ),
        None => None,
    };
    let mut applied = Applied::default();
    for f in p.files.iter().filter(|f| f.changed()) {
        let old = f.before.text().as_bytes();
        match replace(&f.file, old, f.after.text().as_bytes(), how) {
            Ok(w) => applied.written.push((f.file.target.clone(), w)),
            Err(e) => {
                put_back(p, &applied);
                // Put back with the same rights it was written with: the path is the owner's.
                if let (Some(undo), Some(s)) = (undo, &p.secret_file) {
                    let _ = s.rights.run(|| undo.undo());
                }
                return Err(e);
            }
        }
    }
    for f in &p.files {
        let backup = applied
            .written
            .iter()
            .find(|(t, _)| *t == f.file.target)
            .and_then(|(_, w)| w.backup.clone());
        write_record(&f.file.target, &f.record, backup)?;
    }
    Ok(applied)
}

/// Puts the files already written back as they were read, and removes their backups.
fn put_back(p: &Proposal, applied: &Applied) {
    for (target, w) in &applied.written {
        let Some(f) = p.files.iter().find(|f| f.file.target == *target) else {
            continue;
        };
        let old = f.before.text().as_bytes();
        // Back the way it was written: into the same inode when it was written in place.
        if w.in_place {
            let loaded = Loaded {
                path: target.clone(),
                target: target.clone(),
            };
            let _ = write_in_place(&loaded, f.after.text().as_bytes(), old);
        } else if let Ok(meta) = fs::metadata(target) {
            let (mode, owner) = (meta.mode() & 0o7777, (meta.uid(), meta.gid()));
            let _ = write_over(target, old, mode, owner, true);
        }
        if let Some(b) = &w.backup {
            let _ = fs::remove_file(b);
        }
    }
}

/// The record step beside one file (`backup` is the one this write made, if any).
fn write_record(
    target: &Path,
    step: &RecordStep,
    backup: Option<PathBuf>,
) -> Result<(), WriteError> {
    let record_path = record::path_for(target);
    match step {
        RecordStep::Keep => {}
        RecordStep::Write(r) => {
            let mut r = r.clone();
            // The backup a link starts from; an unlink's record names none, so that a later
            // link's record keeps the one from before any link.
            if backup.is_some() && !r.unlinked {
                r.backup = backup;
            }
            let meta = fs::metadata(target).map_err(io("reading", target))?;
            let (mode, owner) = (meta.mode() & 0o7777, (meta.uid(), meta.gid()));
            // Advice for `unlink`, not data: not synced. A crash may lose it; `unlink` then
            // turns password login back on and leaves the rest as it is.
            write_over(&record_path, &r.encode(), mode, owner, false)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOMIC: Writing = Writing {
        backup: true,
        in_place: false,
    };

    #[test]
    fn a_killed_runs_temporary_files_are_known() {
        let ours = [
            ".homeserver.yaml.mas-link-a1B2c3.tmp",
            ".homeserver.yaml.20261127T101500Z.bak.mas-link-a1B2c3.tmp",
            ".homeserver.yaml.mas-link.json.mas-link-a1B2c3.tmp",
        ];
        for f in ours {
            assert!(is_our_temp("homeserver.yaml", f), "{f}");
        }
        for f in [
            "homeserver.yaml",
            ".homeserver.yaml.swp",
            ".homeserver.yaml.mas-link-a1B2c3.tmp.keep",
            ".other.yaml.mas-link-a1B2c3.tmp",
            ".homeserver.yaml.notes.mas-link-a1B2c3.tmp",
            ".homeserver.yaml.20261127T101500Z.bak",
        ] {
            assert!(!is_our_temp("homeserver.yaml", f), "{f}");
        }
    }

    #[test]
    fn stamps_are_utc_calendar_dates() {
        assert_eq!(stamp(UNIX_EPOCH), "19700101T000000Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_749_132);
        assert_eq!(stamp(t), "20261127T031212Z");
    }

    fn read(path: &Path) -> (Loaded, Vec<u8>) {
        crate::files::read(path).unwrap()
    }

    #[test]
    fn replaces_keeping_mode_and_a_copied_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let (loaded, old) = read(&link);
        let ino = fs::metadata(&p).unwrap().ino();
        let w = replace(&loaded, &old, b"new", ATOMIC).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let b = w.backup.unwrap();
        assert_eq!(fs::read(&b).unwrap(), b"old");
        // A copy, never a second name of the file: editing one never changes the other.
        assert_ne!(fs::metadata(&b).unwrap().ino(), ino);
        assert_eq!(fs::metadata(&b).unwrap().mode() & 0o777, 0o640);
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn refuses_when_the_file_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        fs::write(&p, "old").unwrap();
        let (loaded, old) = read(&p);
        fs::write(&p, "other").unwrap();
        assert!(matches!(
            replace(&loaded, &old, b"new", ATOMIC),
            Err(WriteError::Changed { .. })
        ));
        assert_eq!(fs::read(&p).unwrap(), b"other");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_lock_is_private_and_cleans_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        fs::write(&p, "x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let strays = [
            dir.path().join(".hs.yaml.mas-link-abc123.tmp"),
            dir.path()
                .join(".hs.yaml.20261127T101500Z.bak.mas-link-abc123.tmp"),
        ];
        for stray in &strays {
            fs::write(stray, "half").unwrap();
        }
        let lock = Lock::acquire(&p, "test").unwrap();
        let meta = fs::metadata(dir.path().join("hs.yaml.mas-link.lock")).unwrap();
        // 0600 whatever the config's mode: a read-only config must not leave a read-only lock.
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(strays.iter().all(|s| !s.exists()));
        assert!(matches!(
            Lock::acquire(&p, "second"),
            Err(WriteError::Locked { holder, .. }) if holder.contains("mas-link test")
        ));
        drop(lock);
        assert!(Lock::acquire(&p, "third").is_ok());
    }
}

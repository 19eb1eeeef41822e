//! Replacing a file safely: through a symlink to its target, a backup beside it, a temporary
//! file in the same directory, fsync, rename, owner and mode kept, and a refusal when the file
//! changed since it was read.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} changed since it was read; nothing was written. Run the command again")]
    Changed { path: PathBuf },
    #[error(
        "{path} is being changed by another mas-link ({holder}); nothing was written. Wait for it, then run again"
    )]
    Locked { path: PathBuf, holder: String },
    #[error("{path} is {bytes} bytes, over the {limit}-byte limit; nothing was read")]
    TooLarge {
        path: PathBuf,
        bytes: u64,
        limit: usize,
    },
    #[error("{action} {path}: {source}")]
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

/// A file as read: the path given and the file it resolves to.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub target: PathBuf,
}

impl Loaded {
    /// Reads the file behind `path` (refusing one over the size limit before reading it).
    pub fn read(path: &Path) -> Result<(Loaded, Vec<u8>), WriteError> {
        let target = fs::canonicalize(path).map_err(io("reading", path))?;
        let size = fs::metadata(&target).map_err(io("reading", path))?.len();
        if size > crate::yaml::MAX_BYTES as u64 {
            return Err(WriteError::TooLarge {
                path: path.to_owned(),
                bytes: size,
                limit: crate::yaml::MAX_BYTES,
            });
        }
        let bytes = fs::read(&target).map_err(io("reading", path))?;
        let loaded = Loaded {
            path: path.to_owned(),
            target,
        };
        Ok((loaded, bytes))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub backup: Option<PathBuf>,
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
/// is replaced): two runs never interleave, and the second is told who holds it.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn acquire(target: &Path, what: &str) -> Result<Lock, WriteError> {
        let path = sibling(target, ".mas-link.lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io("locking", &path))?;
        if let Err(e) = file.try_lock() {
            let holder = match e {
                fs::TryLockError::WouldBlock => fs::read_to_string(&path)
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                fs::TryLockError::Error(e) => return Err(io("locking", &path)(e)),
            };
            return Err(WriteError::Locked {
                path: target.to_owned(),
                holder: if holder.is_empty() {
                    "unknown".into()
                } else {
                    holder
                },
            });
        }
        let me = format!(
            "pid {}, `mas-link {what}`, since {}",
            std::process::id(),
            stamp(SystemTime::now())
        );
        // Written over the old text, then cut to length: never truncated to empty first,
        // which makes ext4 flush the file when it is closed (its auto_da_alloc).
        let _ = std::os::unix::fs::FileExt::write_all_at(&file, me.as_bytes(), 0)
            .and_then(|_| file.set_len(me.len() as u64));
        // Temporary files a killed run left behind: no one else can be writing them now.
        if let (Some(dir), Some(name)) = (target.parent(), target.file_name()) {
            let prefix = format!(".{}.mas-link-", name.to_string_lossy());
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let n = entry.file_name().to_string_lossy().into_owned();
                if n.starts_with(&prefix) && n.ends_with(".tmp") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(Lock { _file: file })
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

/// Creates `path` with exactly `mode` and the given owner, holding `bytes`; removes it again
/// on failure.
fn create(path: &Path, bytes: &[u8], mode: u32, owner: (u32, u32)) -> Result<File, WriteError> {
    let result = (|| {
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io("creating", path))?;
        fill(f, path, bytes, mode, owner)
    })();
    if result.is_err() {
        let _ = fs::remove_file(path);
    }
    result
}

/// Writes `bytes` to the new file `f` (named `path` in errors) and gives it `mode` and `owner`.
fn fill(
    mut f: File,
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: (u32, u32),
) -> Result<File, WriteError> {
    f.write_all(bytes).map_err(io("writing", path))?;
    let current = f.metadata().map_err(io("reading", path))?;
    if (current.uid(), current.gid()) != owner {
        std::os::unix::fs::fchown(&f, Some(owner.0), Some(owner.1))
            .map_err(io("keeping the owner of", path))?;
    }
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io("keeping the mode of", path))?;
    Ok(f)
}

/// [`create`], then synced to disk.
fn create_synced(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: (u32, u32),
) -> Result<(), WriteError> {
    create(path, bytes, mode, owner)?.sync_all().map_err(|e| {
        let _ = fs::remove_file(path);
        io("syncing", path)(e)
    })
}

/// A hidden temporary name beside `target`: `.NAME.mas-link-PID-WHAT.tmp` (a killed run's are
/// removed by the next run that takes the lock).
fn tmp_name(target: &Path, what: &str) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(
        ".{name}.mas-link-{}-{what}.tmp",
        std::process::id()
    ))
}

fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(Default::default, |n| n.to_os_string());
    let mut s = name;
    s.push(suffix);
    target.with_file_name(s)
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

/// Makes `path` a backup of `target`, read as `old`; returns whether it is a second name for
/// the target (a hard link), which the caller checks is still the file read.
///
/// A second name is the cheapest whole backup: the replacement is a new file renamed over
/// `target`, so the old one lives on under the backup's name, with its owner and mode, and
/// with no bytes copied or synced. A file that has other names (whose next in-place edit
/// would change the backup too), or a file system without hard links, gets a copy instead,
/// written under a temporary name first so that a backup is whole or absent, never partial.
fn make_backup(
    target: &Path,
    path: &Path,
    old: &[u8],
    meta: &fs::Metadata,
) -> Result<bool, WriteError> {
    if meta.nlink() == 1 && fs::hard_link(target, path).is_ok() {
        return Ok(true);
    }
    let partial = tmp_name(target, "bak");
    let _ = fs::remove_file(&partial);
    create_synced(
        &partial,
        old,
        meta.mode() & 0o7777,
        (meta.uid(), meta.gid()),
    )?;
    // A hard link never replaces an existing file; then the temporary name goes.
    let linked = fs::hard_link(&partial, path);
    let _ = fs::remove_file(&partial);
    linked.map_err(io("creating", path))?;
    Ok(false)
}

/// Whether the file at `path` holds exactly `expected`, and its identity (device, inode), from
/// one open. Read a block at a time into one small buffer: no second copy of the file.
fn holds(path: &Path, expected: &[u8]) -> std::io::Result<(bool, (u64, u64))> {
    let mut f = File::open(path)?;
    let meta = f.metadata()?;
    let identity = (meta.dev(), meta.ino());
    let mut buf = [0u8; 16 * 1024];
    let mut at = 0;
    loop {
        let n = match std::io::Read::read(&mut f, &mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok((at == expected.len(), identity));
        }
        if expected.get(at..at + n) != Some(&buf[..n]) {
            return Ok((false, identity));
        }
        at += n;
    }
}

/// A small file written beside the target once it is replaced (mas-link's record): given the
/// backup's path, its path and bytes.
pub type Sidecar<'a> = &'a dyn Fn(Option<&Path>) -> (PathBuf, Vec<u8>);

/// Replaces the loaded file's target, read as `old`, with `new`: [`stage`], then
/// [`Staged::commit`].
pub fn replace(
    loaded: &Loaded,
    old: &[u8],
    new: &[u8],
    backup: bool,
    sidecar: Option<Sidecar>,
) -> Result<Written, WriteError> {
    stage(loaded, old, new, backup, sidecar)?.commit()
}

/// A replacement made ready and not yet visible: the backup taken, the new bytes in a
/// temporary file beside the target with their way to disk begun, the sidecar's bytes in
/// another. [`Staged::commit`] puts them in place; dropping it instead removes all three, so
/// that the directory is as it was.
///
/// Staging apart from committing lets a caller do its other work (showing the diff) while the
/// disk writes the new bytes: the sync at the commit then has little left to wait for.
///
/// The new file is created without a name where the system allows (Linux's O_TMPFILE) and
/// named only once synced: syncing a newly named file syncs its directory too on some file
/// systems (ext4 without a journal), which the directory sync after the rename does anyway,
/// and a run killed before that leaves nothing behind.
#[must_use = "dropping a staged replacement undoes it"]
pub struct Staged<'a> {
    loaded: &'a Loaded,
    old: &'a [u8],
    new: &'a [u8],
    mode: u32,
    owner: (u32, u32),
    /// The new file, open until it is synced.
    file: Option<File>,
    /// Whether the new file has its temporary name yet.
    named: bool,
    tmp: PathBuf,
    /// The sidecar's temporary file and its final path.
    side: Option<(PathBuf, PathBuf)>,
    backup: Option<PathBuf>,
    /// Whether the backup is a second name for the target (then checked at the commit).
    linked: bool,
    /// Set once the target is replaced: from then on nothing is undone.
    committed: bool,
}

/// Stages the replacement of the loaded file's target, read as `old`, by `new`, keeping its
/// owner and mode, after making a timestamped backup of `old` beside it (unless `backup` is
/// false). On failure nothing is left behind.
///
/// A `sidecar` is written with the target's owner and mode and renamed into place after the
/// target, made durable by the same directory sync, without a sync of its own: it is advice
/// for a later run (which reads a missing or torn one as absent), not data, and a sync costs
/// as much as the rest of a run on a typical file.
pub fn stage<'a>(
    loaded: &'a Loaded,
    old: &'a [u8],
    new: &'a [u8],
    backup: bool,
    sidecar: Option<Sidecar>,
) -> Result<Staged<'a>, WriteError> {
    stage_as(loaded, old, new, backup, sidecar, Temp::UnnamedFirst)
}

/// How the new file is created: unnamed where possible, or (for tests of the other way)
/// named from the start.
#[derive(Clone, Copy, PartialEq)]
enum Temp {
    UnnamedFirst,
    #[cfg_attr(not(test), allow(dead_code))]
    Named,
}

fn stage_as<'a>(
    loaded: &'a Loaded,
    old: &'a [u8],
    new: &'a [u8],
    backup: bool,
    sidecar: Option<Sidecar>,
    temp: Temp,
) -> Result<Staged<'a>, WriteError> {
    let target = &loaded.target;
    test_pause("start");
    let meta = fs::metadata(target).map_err(io("reading", target))?;
    let mode = meta.mode() & 0o7777;
    let owner = (meta.uid(), meta.gid());
    let mut staged = Staged {
        loaded,
        old,
        new,
        mode,
        owner,
        file: None,
        named: false,
        tmp: tmp_name(target, "new"),
        side: None,
        backup: None,
        linked: false,
        committed: false,
    };
    if backup {
        let path = backup_name(target);
        staged.linked = make_backup(target, &path, old, &meta)?;
        staged.backup = Some(path);
        test_pause("backup-written");
    }
    let unnamed = match (temp, target.parent()) {
        (Temp::UnnamedFirst, Some(dir)) => create_unnamed(dir, new, mode, owner),
        _ => None,
    };
    let file = match unnamed {
        Some(file) => file,
        // No O_TMPFILE here (or it failed: then this way reports why).
        None => {
            staged.named = true;
            let _ = fs::remove_file(&staged.tmp);
            create(&staged.tmp, new, mode, owner)?
        }
    };
    start_writeback(&file);
    staged.file = Some(file);
    if let Some(make) = sidecar {
        let (path, bytes) = make(staged.backup.as_deref());
        // Named like the other temporary files, so that a killed run's is cleaned up too.
        let tmp = tmp_name(target, "sidecar");
        let _ = fs::remove_file(&tmp);
        create(&tmp, &bytes, mode, owner)?;
        staged.side = Some((tmp, path));
    }
    Ok(staged)
}

impl Staged<'_> {
    /// Syncs the new bytes, checks that the target still holds the bytes read (and a linked
    /// backup is still that file), renames the new file over the target, then the sidecar
    /// beside it, and syncs the directory. On any failure before the rename, the target is
    /// untouched and the backup this run made is removed.
    pub fn commit(mut self) -> Result<Written, WriteError> {
        let target = &self.loaded.target;
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(io("syncing", &self.tmp))?;
            if !self.named {
                let _ = fs::remove_file(&self.tmp);
                // Where /proc is missing, a second copy under the name instead.
                if link_unnamed(&file, &self.tmp).is_err() {
                    create_synced(&self.tmp, self.new, self.mode, self.owner)?;
                }
                self.named = true;
            }
        }
        test_pause("temp-written");
        let (same, identity) = holds(target, self.old).map_err(io("reading", target))?;
        let same_backup = || {
            let b = fs::metadata(self.backup.as_ref().expect("linked to a backup"));
            b.is_ok_and(|b| (b.dev(), b.ino()) == identity)
        };
        if !same || (self.linked && !same_backup()) {
            return Err(WriteError::Changed {
                path: self.loaded.path.clone(),
            });
        }
        fs::rename(&self.tmp, target).map_err(io("replacing", target))?;
        self.committed = true;
        test_pause("renamed");
        let side = self.side.take().map(|(tmp, path)| {
            fs::rename(&tmp, &path).map_err(|e| {
                let _ = fs::remove_file(&tmp);
                io("writing", &path)(e)
            })
        });
        if let Some(dir) = target.parent() {
            // The renames (and the backup's name) are durable only once the directory is synced.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io("syncing", dir))?;
        }
        side.transpose()?;
        Ok(Written {
            backup: self.backup.take(),
        })
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let _ = fs::remove_file(&self.tmp);
        if let Some((tmp, _)) = &self.side {
            let _ = fs::remove_file(tmp);
        }
        if let Some(b) = &self.backup {
            let _ = fs::remove_file(b);
        }
    }
}

/// A new file in `dir` without a name (O_TMPFILE), holding `bytes`, with `mode` and `owner`;
/// None where the system cannot make one (or any step fails: the named way then says why).
fn create_unnamed(dir: &Path, bytes: &[u8], mode: u32, owner: (u32, u32)) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        let f = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_TMPFILE)
            .mode(0o600)
            .open(dir)
            .ok()?;
        fill(f, dir, bytes, mode, owner).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, bytes, mode, owner);
        None
    }
}

/// Gives an unnamed file (see [`create_unnamed`]) the name `to`, through its /proc link.
fn link_unnamed(file: &File, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
        let to = CString::new(to.as_os_str().as_bytes())?;
        // std's hard_link does not follow the /proc link to the open file: linkat with
        // AT_SYMLINK_FOLLOW does.
        // SAFETY: both paths are NUL-terminated strings that outlive the call.
        let done = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if done == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, to);
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// Asks the kernel to start writing `file`'s dirty pages now, without waiting: a hint, so a
/// failure is ignored (the sync at the commit is what makes the bytes durable).
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range reads only its integer arguments; the descriptor stays open
        // for the duration of the call, borrowed from `file`.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Writes a secret file with mode 0600 unless it already holds the secret (trimmed, as Synapse
/// reads it). Returns whether it wrote.
pub fn write_secret_file(path: &Path, secret: &str) -> Result<bool, WriteError> {
    if let Ok(existing) = fs::read_to_string(path)
        && existing.trim() == secret
    {
        return Ok(false);
    }
    let tmp = sibling(path, &format!(".mas-link-{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let owner = fs::metadata(path)
        .map(|m| (m.uid(), m.gid()))
        .or_else(|_| {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            fs::metadata(dir).map(|m| (m.uid(), m.gid()))
        })
        .map_err(io("reading", path))?;
    create_synced(&tmp, format!("{secret}\n").as_bytes(), 0o600, owner)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io("writing", path)(e)
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_dates() {
        assert_eq!(stamp(UNIX_EPOCH), "19700101T000000Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_749_132);
        assert_eq!(stamp(t), "20261127T031212Z");
    }

    #[test]
    fn replaces_keeping_mode_and_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let (loaded, old) = Loaded::read(&link).unwrap();
        let w = replace(&loaded, &old, b"new", true, None).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let b = w.backup.unwrap();
        assert_eq!(fs::read(&b).unwrap(), b"old");
        assert_eq!(fs::metadata(&b).unwrap().mode() & 0o777, 0o640);
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn backup_is_the_old_file_itself_unless_it_has_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        fs::write(&p, "old").unwrap();
        let ino = fs::metadata(&p).unwrap().ino();
        let (loaded, old) = Loaded::read(&p).unwrap();
        let b = replace(&loaded, &old, b"new", true, None)
            .unwrap()
            .backup
            .unwrap();
        // No bytes copied: the backup is the inode that was read.
        assert_eq!(fs::metadata(&b).unwrap().ino(), ino);
        assert_eq!(fs::metadata(&b).unwrap().nlink(), 1);

        // A file with a second name: the backup must not follow edits made through it.
        let q = dir.path().join("other.yaml");
        fs::hard_link(&p, &q).unwrap();
        let (loaded, old) = Loaded::read(&p).unwrap();
        let b = replace(&loaded, &old, b"newer", true, None)
            .unwrap()
            .backup
            .unwrap();
        assert_ne!(
            fs::metadata(&b).unwrap().ino(),
            fs::metadata(&q).unwrap().ino()
        );
        fs::write(&q, "edited through the other name").unwrap();
        assert_eq!(fs::read(&b).unwrap(), b"new");
        assert_eq!(fs::read(&p).unwrap(), b"newer");
    }

    #[test]
    fn a_staged_replacement_is_invisible_until_committed_and_undone_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        let record = |_: Option<&Path>| (dir.path().join("hs.yaml.rec"), b"rec".to_vec());
        let names = || {
            let mut v: Vec<String> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };

        for temp in [Temp::UnnamedFirst, Temp::Named] {
            fs::write(&p, "old").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
            let (loaded, old) = Loaded::read(&p).unwrap();
            let staged = stage_as(&loaded, &old, b"new", true, Some(&record), temp).unwrap();
            assert_eq!(fs::read(&p).unwrap(), b"old");
            // The backup and the record's temporary file; the new file has a name only when
            // the system has no unnamed files (or the test asks for a name).
            let unnamed = cfg!(target_os = "linux") && temp == Temp::UnnamedFirst;
            let expected = if unnamed { 3 } else { 4 };
            assert_eq!(names().len(), expected, "{:?}", names());
            drop(staged);
            assert_eq!(names(), ["hs.yaml"]);
            assert_eq!(fs::read(&p).unwrap(), b"old");

            let written = stage_as(&loaded, &old, b"new", true, Some(&record), temp)
                .unwrap()
                .commit()
                .unwrap();
            assert_eq!(fs::read(&p).unwrap(), b"new");
            assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
            assert_eq!(fs::read(dir.path().join("hs.yaml.rec")).unwrap(), b"rec");
            let backup = written.backup.unwrap();
            assert_eq!(fs::read(&backup).unwrap(), b"old");
            assert_eq!(names().len(), 3, "{:?}", names());
            fs::remove_file(backup).unwrap();
            fs::remove_file(dir.path().join("hs.yaml.rec")).unwrap();
        }
    }

    #[test]
    fn holds_compares_whole_files_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let text: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&p, &text).unwrap();
        assert!(holds(&p, &text).unwrap().0);
        assert!(!holds(&p, &text[..39_999]).unwrap().0);
        assert!(!holds(&p, &[&text[..], b"x"].concat()).unwrap().0);
        let mut other = text.clone();
        other[30_000] ^= 1;
        assert!(!holds(&p, &other).unwrap().0);
    }

    #[test]
    fn refuses_when_the_file_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hs.yaml");
        fs::write(&p, "old").unwrap();
        let (loaded, old) = Loaded::read(&p).unwrap();
        fs::write(&p, "other").unwrap();
        assert!(matches!(
            replace(&loaded, &old, b"new", true, None),
            Err(WriteError::Changed { .. })
        ));
        assert_eq!(fs::read(&p).unwrap(), b"other");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

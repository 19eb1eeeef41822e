//! Whose rights mas-link acts with on what a configuration names. Run by root on files another
//! user owns (`cloudron exec` on `/app/data`, sudo on a deploy user's folder), mas-link does
//! nothing that user could not do: the programs it runs for their verdict (Synapse's loader,
//! `mas-cli`) and the files a config names (MAS's `secret_file`, Synapse's `secret_path`, a
//! SQLite database, a PostgreSQL socket) run and open with that user's rights, on a thread of
//! their own whose credentials are the owner's (Linux keeps credentials per thread, and a
//! program started from that thread inherits them). The anchors: git's `safe.directory`,
//! `sudoedit`.
//!
//! Paths the operator gives on the command line are theirs: read with mas-link's own rights.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::process::{Gid, Uid};

/// A user whose rights a run takes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, as the user would have them after logging in.
    pub groups: Vec<u32>,
    pub name: Option<String>,
}

/// With whose rights a configuration's own paths and programs are used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rights {
    /// This process's own: it is not root, or root owns the files and their folders.
    Own,
    /// Root on files (or folders) another user owns: that user's.
    Owner(User),
    /// Root on files of several users: no one user's rights stand for all of them, so nothing
    /// a config names is opened or run.
    Several(Vec<u32>),
}

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error(
        "the configuration's files belong to several users (uids {}): mas-link opens or runs \
         nothing they name with root's rights, and no one of theirs stands for all; give files \
         of one owner",
        .0.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    )]
    Several(Vec<u32>),
    #[error("taking on the rights of {who}: {source}")]
    Switch { who: String, source: std::io::Error },
}

/// What is read of `/etc/passwd` and `/etc/group`: small files, read up to this bound.
const DB_LIMIT: u64 = 4 * 1024 * 1024;

/// A colon-separated system database's lines, split (`/etc/passwd`, `/etc/group`).
fn entries(path: &str) -> Vec<Vec<String>> {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(f) = fs::File::open(path) {
        let _ = f.take(DB_LIMIT).read_to_string(&mut text);
    }
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_owned).collect())
        .collect()
}

impl User {
    /// The user with this uid, from `/etc/passwd` and `/etc/group` (the files themselves: the
    /// static binary has no NSS modules to load, and a container's users are there); one they
    /// do not know (a container's uid on the host) gets no group but `nogroup`'s.
    pub fn of(uid: u32) -> User {
        let uid_text = uid.to_string();
        let known = entries("/etc/passwd")
            .into_iter()
            .find(|e| e.len() >= 4 && e[2] == uid_text);
        let Some((name, gid)) = known.and_then(|e| Some((e[0].clone(), e[3].parse().ok()?))) else {
            return User {
                uid,
                gid: 65534,
                groups: Vec::new(),
                name: None,
            };
        };
        let mut groups: Vec<u32> = entries("/etc/group")
            .into_iter()
            .filter(|e| e.len() >= 4 && e[3].split(',').any(|m| m == name))
            .filter_map(|e| e[2].parse().ok())
            .collect();
        groups.push(gid);
        groups.sort_unstable();
        groups.dedup();
        User {
            uid,
            gid,
            groups,
            name: Some(name),
        }
    }

    /// `uid 65534 (nobody)`, for messages.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("uid {} ({n})", self.uid),
            None => format!("uid {}", self.uid),
        }
    }
}

impl Rights {
    /// The rights for a configuration in these files: when this process is root, those of the
    /// user (not root) who owns them or their folders (who may replace them); else its own.
    pub fn of(files: &[PathBuf]) -> Rights {
        if !rustix::process::geteuid().is_root() {
            return Rights::Own;
        }
        let owners: BTreeSet<u32> = files
            .iter()
            .flat_map(|f| {
                let target = fs::canonicalize(f).unwrap_or_else(|_| f.clone());
                let dir = target.parent().map(Path::to_path_buf);
                [Some(target), dir]
            })
            .flatten()
            .filter_map(|p| fs::metadata(p).ok().map(|m| m.uid()))
            .filter(|&uid| uid != 0)
            .collect();
        match owners.len() {
            0 => Rights::Own,
            1 => Rights::Owner(User::of(owners.into_iter().next().unwrap_or_default())),
            _ => Rights::Several(owners.into_iter().collect()),
        }
    }

    /// Who the rights are, for messages: `its owner (uid 65534 (nobody))`.
    pub fn describe(&self) -> String {
        match self {
            Rights::Own => "mas-link (its own rights)".into(),
            Rights::Owner(u) => format!("its owner ({})", u.describe()),
            Rights::Several(uids) => format!(
                "its owners (uids {})",
                uids.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Runs `work` with these rights: on this thread for our own, else on a thread of its own
    /// that takes on the owner's groups, group and user first (and with them loses root's
    /// capabilities). A program `work` starts runs with the same rights.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> Result<T, RightsError> {
        let user = match self {
            Rights::Own => return Ok(work()),
            Rights::Owner(u) => u,
            Rights::Several(uids) => return Err(RightsError::Several(uids.clone())),
        };
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                become_user(user).map_err(|source| RightsError::Switch {
                    who: user.describe(),
                    source,
                })?;
                Ok(work())
            });
            worker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }
}

/// This thread (only) takes on the user's credentials, for good: real, effective and saved.
fn become_user(u: &User) -> std::io::Result<()> {
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    let groups: Vec<Gid> = u.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    let gid = Gid::from_raw(u.gid);
    let uid = Uid::from_raw(u.uid);
    set_thread_groups(&groups)?;
    set_thread_res_gid(gid, gid, gid)?;
    set_thread_res_uid(uid, uid, uid)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_from_the_files() {
        let nobody = User::of(65534);
        assert_eq!(nobody.name.as_deref(), Some("nobody"));
        assert!(nobody.groups.contains(&nobody.gid));
        let unknown = User::of(4_000_000_000);
        assert_eq!((unknown.gid, unknown.groups.len()), (65534, 0));
    }

    #[test]
    fn own_rights_run_here() {
        assert_eq!(Rights::Own.run(|| 1 + 1).unwrap(), 2);
        assert!(matches!(
            Rights::Several(vec![1, 2]).run(|| ()),
            Err(RightsError::Several(_))
        ));
    }

    #[test]
    #[ignore = "needs root (takes on another user's rights): as root, cargo test --lib rights -- --include-ignored"]
    fn a_thread_takes_on_the_owners_rights_and_its_programs_too() {
        let nobody = Rights::Owner(User::of(65534));
        let (uid, id) = nobody
            .run(|| {
                let out = std::process::Command::new("id").output().unwrap();
                (
                    rustix::process::geteuid().as_raw(),
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                )
            })
            .unwrap();
        assert_eq!(uid, 65534);
        assert!(id.starts_with("uid=65534"), "{id}");
        assert!(!id.contains("(root)"), "{id}");
        // This thread is root still.
        assert!(rustix::process::geteuid().is_root());
        assert!(fs::read("/proc/self/status").is_ok());
        let denied = nobody.run(|| fs::read("/root/.profile").or(fs::read("/etc/shadow")));
        assert!(denied.unwrap().is_err());
    }
}

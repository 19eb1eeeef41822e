//! The record `mas-link synapse` keeps beside homeserver.yaml (`homeserver.yaml.mas-link.json`):
//! what each setting was before the link, so that `mas-link unlink` can put it back. It holds
//! no secrets: the MAS block and the legacy MSC3861 block are never restored from it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Changes;
use super::MAS;
use crate::yaml::{Document, Edit};

/// 3: `written_sha256`. Records of formats 1 and 2 (FNV hashes) are read for their settings;
/// their hash is not compared, so `unlink` puts the settings back one by one instead of
/// restoring the backup whole.
pub const FORMAT_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub format_version: u32,
    /// [`sha256`] of the bytes `synapse` last wrote, to tell whether the file changed since.
    #[serde(default)]
    pub written_sha256: Option<String>,
    pub backup: Option<PathBuf>,
    pub changes: Vec<Before>,
    /// `mas-link unlink` turned the link off: not being linked is the operator's choice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlinked: bool,
}

/// One setting's state before the first link that changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Before {
    pub path: Vec<String>,
    /// The value's YAML text before, or none when the key was absent.
    pub text: Option<String>,
    /// How many leading keys of the path existed before (the rest were created).
    pub existing: usize,
}

impl Record {
    /// Whether `bytes` are what `synapse` last wrote.
    pub fn wrote(&self, bytes: &[u8]) -> bool {
        self.written_sha256.as_deref() == Some(sha256(bytes).as_str())
    }

    /// The record of a link that writes `written`, keeping the earliest state of each
    /// setting (and the backup) from an `earlier` record.
    pub fn of_link(
        before: &Document,
        changes: &Changes,
        written: &[u8],
        earlier: Option<&Record>,
    ) -> Record {
        Record {
            format_version: FORMAT_VERSION,
            written_sha256: Some(sha256(written)),
            backup: earlier.and_then(|r| r.backup.clone()),
            changes: before_changes(before, changes, earlier),
            unlinked: false,
        }
    }

    /// The record `unlink` leaves: no settings to put back, only that the link was undone on
    /// purpose (so that `check` reports the state, not a failure).
    pub fn of_unlink() -> Record {
        Record {
            format_version: FORMAT_VERSION,
            written_sha256: None,
            backup: None,
            changes: Vec::new(),
            unlinked: true,
        }
    }

    /// The record as written beside the config.
    pub fn encode(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("a record serializes");
        json.push(b'\n');
        json
    }

    /// A record read back; None when it is not one this version understands.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        serde_json::from_slice::<Record>(bytes)
            .ok()
            .filter(|r| (1..=FORMAT_VERSION).contains(&r.format_version))
    }
}

/// SHA-256 of the bytes, in hex: tells the file mas-link wrote from one edited since.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the record of `config` lives.
pub fn path_for(config: &Path) -> PathBuf {
    let mut name = config.file_name().unwrap_or_default().to_os_string();
    name.push(".mas-link.json");
    config.with_file_name(name)
}

/// Keys whose earlier state is never restored: the MAS block (unlink disables it instead) and
/// the legacy MSC3861 block (Synapse 1.157+ refuses it).
fn restorable(path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    !matches!(
        p.as_slice(),
        [MAS, ..] | ["experimental_features", "msc3861", ..]
    )
}

/// The state before `changes`, for the settings they change, merged into an earlier record:
/// the earliest state of each setting is the one kept.
fn before_changes(doc: &Document, changes: &Changes, earlier: Option<&Record>) -> Vec<Before> {
    let mut out: Vec<Before> = earlier.map(|r| r.changes.clone()).unwrap_or_default();
    for change in &changes.changes {
        let path = change.edit.path();
        // A rename is undone by its own rule (`unlink` renames back), not from the record: the
        // renamed value may hold secrets, and records hold none.
        let plain = matches!(change.edit, Edit::Set { .. } | Edit::Remove { .. });
        if !plain || !restorable(path) || out.iter().any(|b| b.path == path) {
            continue;
        }
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        let existing = (0..=keys.len())
            .rev()
            .find(|&n| n == 0 || doc.entry(&keys[..n]).is_some())
            .unwrap_or(0);
        let text = doc.entry(&keys).map(|(_, v)| {
            let (s, e) = (v.start().offset, v.end());
            doc.text()[s..e].to_owned()
        });
        out.push(Before {
            path: path.to_vec(),
            text,
            existing,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_the_standard_one() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn records_round_trip_and_tell_their_file() {
        let r = Record {
            format_version: FORMAT_VERSION,
            written_sha256: Some(sha256(b"x: 1\n")),
            backup: None,
            changes: Vec::new(),
            unlinked: false,
        };
        let read = Record::decode(&r.encode()).unwrap();
        assert_eq!(read, r);
        assert!(read.wrote(b"x: 1\n") && !read.wrote(b"x: 2\n"));
        // A format 1 or 2 record (an FNV hash): its settings are read, its hash never matches.
        let v1 = br#"{"format_version":1,"written_fnv1a64":"00","backup":null,"changes":[]}"#;
        let v2 = br#"{"format_version":2,"written_hash":"00","backup":null,"changes":[]}"#;
        for old in [&v1[..], &v2[..]] {
            assert!(!Record::decode(old).unwrap().wrote(b"x: 1\n"));
        }
        assert_eq!(
            Record::decode(br#"{"format_version":9,"changes":[]}"#),
            None
        );
    }
}

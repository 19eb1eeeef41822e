//! The record `mas-link synapse` keeps beside homeserver.yaml (`homeserver.yaml.mas-link.json`):
//! what each setting was before the link, so that `mas-link unlink` can put it back. It holds
//! no secrets: the MAS block and the legacy MSC3861 block are never restored from it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::yaml::Document;

/// 2: `written_hash` (word-wise); 1 had `written_fnv1a64` (byte-wise), still read.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub format_version: u32,
    /// [`written_hash`] of the bytes `synapse` last wrote, to tell whether the file changed
    /// since (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_hash: Option<String>,
    /// FNV-1a 64 of those bytes (format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_fnv1a64: Option<String>,
    pub backup: Option<PathBuf>,
    pub changes: Vec<Before>,
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
        match (&self.written_hash, &self.written_fnv1a64) {
            (Some(h), _) => *h == written_hash(bytes),
            (None, Some(h)) => *h == fnv1a64(bytes),
            (None, None) => false,
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a over the bytes taken as little-endian 64-bit words (the last one zero-padded), then
/// their length. Each step is a bijection of the state, so a change to any one word always
/// changes the hash; and it is an eighth of byte-wise FNV's chain of multiplications, which
/// was a tenth of a link's run time on a 100 KB file.
pub fn written_hash(bytes: &[u8]) -> String {
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(FNV_PRIME);
    let mut words = bytes.chunks_exact(8);
    let mut h = FNV_OFFSET;
    for w in &mut words {
        h = step(h, u64::from_le_bytes(w.try_into().expect("eight bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(last));
    }
    format!("{:016x}", step(h, bytes.len() as u64))
}

/// Byte-wise FNV-1a 64, as format 1 records hold it.
pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h = FNV_OFFSET;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    format!("{h:016x}")
}

/// Where the record of `config` lives.
pub fn path_for(config: &Path) -> PathBuf {
    let mut name = config.file_name().unwrap_or_default().to_os_string();
    name.push(".mas-link.json");
    config.with_file_name(name)
}

pub fn load(config: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(path_for(config)).ok()?;
    serde_json::from_str::<Record>(&text)
        .ok()
        .filter(|r| (1..=FORMAT_VERSION).contains(&r.format_version))
}

/// Keys whose earlier state is never restored: the MAS block (unlink disables it instead) and
/// the legacy MSC3861 block (Synapse 1.157+ refuses it).
fn restorable(path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    !matches!(
        p.as_slice(),
        [crate::synapse::MAS, ..] | ["experimental_features", "msc3861", ..]
    )
}

/// The state before `plan`, for the settings it changes, merged into an earlier record: the
/// earliest state of each setting is the one kept.
pub fn before_plan(doc: &Document, plan: &Plan, earlier: Option<&Record>) -> Vec<Before> {
    let mut out: Vec<Before> = earlier.map(|r| r.changes.clone()).unwrap_or_default();
    for change in &plan.changes {
        let path = change.edit.path();
        if !restorable(path) || out.iter().any(|b| b.path == path) {
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

/// The record as written beside the config (by the same replace that writes the config).
pub fn encode(record: &Record) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(record).expect("a record serializes");
    json.push(b'\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a64(b""), "cbf29ce484222325");
        assert_eq!(fnv1a64(b"a"), "af63dc4c8601ec8c");
        assert_eq!(written_hash(b""), "af63bd4c8601b7df");
    }

    #[test]
    fn any_one_changed_byte_or_length_changes_the_written_hash() {
        let text: Vec<u8> = (0..37u8).collect();
        let h = written_hash(&text);
        for i in 0..text.len() {
            for bit in 0..8 {
                let mut t = text.clone();
                t[i] ^= 1 << bit;
                assert_ne!(written_hash(&t), h, "byte {i} bit {bit}");
            }
        }
        // Zero padding is not zero content.
        assert_ne!(
            written_hash(&text[..33]),
            written_hash(&[&text[..33], &[0]].concat())
        );
    }

    #[test]
    fn records_of_both_formats_are_read() {
        let v1 = Record {
            format_version: 1,
            written_hash: None,
            written_fnv1a64: Some(fnv1a64(b"x: 1\n")),
            backup: None,
            changes: Vec::new(),
        };
        let v2 = Record {
            format_version: 2,
            written_hash: Some(written_hash(b"x: 1\n")),
            written_fnv1a64: None,
            ..v1.clone()
        };
        for r in [v1, v2] {
            let dir = tempfile::tempdir().unwrap();
            let config = dir.path().join("homeserver.yaml");
            std::fs::write(path_for(&config), encode(&r)).unwrap();
            let read = load(&config).unwrap();
            assert_eq!(read, r);
            assert!(read.wrote(b"x: 1\n") && !read.wrote(b"x: 2\n"));
        }
    }
}

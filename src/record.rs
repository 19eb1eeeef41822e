//! The record `mas-link synapse` keeps beside homeserver.yaml (`homeserver.yaml.mas-link.json`):
//! what each setting was before the link, so that `mas-link unlink` can put it back. It holds
//! no secrets: the MAS block and the legacy MSC3861 block are never restored from it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::yaml::Document;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub format_version: u32,
    /// FNV-1a 64 of the bytes `synapse` last wrote, to tell whether the file changed since.
    pub written_fnv1a64: String,
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

pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
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
        .filter(|r| r.format_version == FORMAT_VERSION)
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
    }
}

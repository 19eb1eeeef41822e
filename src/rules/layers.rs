//! A configuration read from several files, merged the way its program merges them:
//! - Synapse (`-c a -c dir/`, Debian's `homeserver.yaml` + `conf.d/`): in order, a file that is
//!   empty or not a mapping skipped, each later file replacing whole top-level keys
//!   (`dict.update`);
//! - MAS (`-c a -c b`, `MAS_CONFIG=a:b`): figment's `admerge`, mappings merged key by key, a
//!   later scalar winning, sequences concatenated.
//!
//! Rules judge the merged meaning; each key is located, and edited, in the file the program
//! takes it from.

use super::Changes;
use crate::findings::Place;
use crate::yaml::{Document, Map, Value};

/// One file of the configuration, named as the user gave it.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub doc: Document,
}

/// How later files combine with earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Synapse: a later file replaces whole top-level keys.
    TopLevel,
    /// MAS (figment's admerge): mappings merged at every depth, sequences concatenated.
    Deep,
}

/// The files in load order, and their merged meaning.
#[derive(Debug, Clone)]
pub struct Layers {
    layers: Vec<Layer>,
    merge: Merge,
    merged: Value,
}

/// figment's `admerge` of two values.
fn admerge(into: &mut Value, later: &Value) {
    match (into, later) {
        (Value::Map(a), Value::Map(b)) => a.merge_with(b, admerge),
        (Value::Seq(a), Value::Seq(b)) => a.extend(b.iter().cloned()),
        (slot, v) => *slot = v.clone(),
    }
}

impl Layers {
    /// Synapse's configuration from its files, in load order.
    pub fn new(layers: Vec<Layer>) -> Layers {
        Layers::merged(layers, Merge::TopLevel)
    }

    pub fn merged(layers: Vec<Layer>, merge: Merge) -> Layers {
        let mut merged: Option<Value> = None;
        for layer in &layers {
            let Value::Map(m) = layer.doc.value() else {
                continue;
            };
            let into = merged.get_or_insert_with(|| Value::Map(Map::default()));
            match (merge, &mut *into) {
                (Merge::TopLevel, Value::Map(into)) => {
                    into.merge_with(m, |slot, v| *slot = v.clone())
                }
                _ => admerge(into, layer.doc.value()),
            }
        }
        // One file that is not a mapping keeps its meaning, for the rules to name it.
        let merged = match (merged, layers.as_slice()) {
            (Some(m), _) => m,
            (None, [one]) => one.doc.value().clone(),
            _ => Value::Null,
        };
        Layers {
            layers,
            merge,
            merged,
        }
    }

    pub fn single(name: String, doc: Document) -> Layers {
        Layers::new(vec![Layer { name, doc }])
    }

    /// The configuration Synapse reads.
    pub fn value(&self) -> &Value {
        &self.merged
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn into_layers(self) -> Vec<Layer> {
        self.layers
    }

    /// The file the program takes a path from, and so where an edit of it goes: the last
    /// that sets it (for Synapse, the last that sets its top-level key). A path set nowhere
    /// goes with its parent: to the first file that sets the longest part of it (MAS), else
    /// to the first file that is a mapping (the main one).
    pub fn owner(&self, path: &[&str]) -> usize {
        let sets = |n: usize| {
            move |l: &Layer| {
                matches!(l.doc.value(), Value::Map(_)) && l.doc.value().at(&path[..n]).is_some()
            }
        };
        let whole = match self.merge {
            Merge::TopLevel => path.len().min(1),
            Merge::Deep => path.len(),
        };
        if whole > 0
            && let Some(i) = self.layers.iter().rposition(sets(whole))
        {
            return i;
        }
        let parent = (1..whole)
            .rev()
            .find_map(|n| self.layers.iter().position(sets(n)));
        parent
            .or_else(|| {
                self.layers
                    .iter()
                    .position(|l| matches!(l.doc.value(), Value::Map(_)))
            })
            .unwrap_or(0)
    }

    /// The document a path is read from.
    pub fn doc_of(&self, path: &[&str]) -> &Document {
        &self.layers[self.owner(path)].doc
    }

    /// Where a path is written (or its nearest written ancestor), in the file it comes from.
    pub fn locate(&self, path: &[&str]) -> Place<'_> {
        let layer = &self.layers[self.owner(path)];
        Place {
            path: &layer.name,
            pos: layer.doc.locate(path),
        }
    }

    /// The text of a path's value as written in the file it comes from.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        let doc = self.doc_of(path);
        doc.entry(path)
            .map(|(_, v)| &doc.text()[v.start().offset..v.end()])
    }

    /// Each change sent to the file its path is read from: one `Changes` per file, in load
    /// order (the notes stay with the caller).
    pub fn route(&self, changes: &Changes) -> Vec<Changes> {
        let mut out = vec![Changes::default(); self.layers.len()];
        for c in &changes.changes {
            let path: Vec<&str> = c.edit.path().iter().map(String::as_str).collect();
            out[self.owner(&path)].changes.push(c.clone());
        }
        out
    }

    /// The names of the files read, for "read: …" lines.
    pub fn names(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Edit, NewScalar, Options};

    fn layer(name: &str, text: &str) -> Layer {
        Layer {
            name: name.into(),
            doc: Document::parse(text.into(), Options::PYYAML).unwrap(),
        }
    }

    #[test]
    fn later_files_replace_whole_top_level_keys() {
        let l = Layers::new(vec![
            layer(
                "a",
                "server_name: x\npassword_config:\n  enabled: true\n  pepper: p\n",
            ),
            layer("b", ""),
            layer("c", "- not a mapping\n"),
            layer("d", "password_config:\n  enabled: false\n"),
        ]);
        let v = l.value();
        assert_eq!(v.at(&["password_config", "pepper"]), None);
        assert_eq!(
            v.at(&["password_config", "enabled"]),
            Some(&Value::Bool(false))
        );
        assert_eq!(v.get("server_name"), Some(&Value::Str("x".into())));
        let at = l.locate(&["password_config", "enabled"]);
        assert_eq!((at.path, at.pos.line), ("d", 2));
        assert_eq!(l.owner(&["enable_registration"]), 0);
        let mut changes = Changes::default();
        changes.push(
            Edit::set(&["password_config", "enabled"], NewScalar::bool(false)),
            "r",
        );
        changes.push(
            Edit::set(&["enable_registration"], NewScalar::bool(false)),
            "r",
        );
        let routed = l.route(&changes);
        assert_eq!(
            routed.iter().map(|c| c.changes.len()).collect::<Vec<_>>(),
            [1, 0, 0, 1]
        );
    }

    #[test]
    fn new_keys_go_to_the_first_mapping() {
        let l = Layers::new(vec![layer("empty", ""), layer("hs", "server_name: x\n")]);
        assert_eq!(l.owner(&["matrix_authentication_service"]), 1);
    }

    #[test]
    fn deep_merge_is_figments_admerge() {
        let mas = |name: &str, text: &str| Layer {
            name: name.into(),
            doc: Document::parse(text.into(), Options::SERDE_YAML).unwrap(),
        };
        let l = Layers::merged(
            vec![
                mas("a", "matrix:\n  homeserver: x\n  secret: s\nlist: [1]\n"),
                mas("b", "matrix:\n  secret: t\nlist: [2]\n"),
            ],
            Merge::Deep,
        );
        let v = l.value();
        assert_eq!(
            v.at(&["matrix", "homeserver"]),
            Some(&Value::Str("x".into()))
        );
        assert_eq!(v.at(&["matrix", "secret"]), Some(&Value::Str("t".into())));
        assert_eq!(
            v.get("list").map(|l| format!("{l:?}")),
            Some("Seq([Int(\"1\"), Int(\"2\")])".into())
        );
        assert_eq!(l.owner(&["matrix", "secret"]), 1);
        assert_eq!(l.owner(&["matrix", "homeserver"]), 0);
        assert_eq!(l.owner(&["matrix", "endpoint"]), 0);
    }
}

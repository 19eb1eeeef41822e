//! A plan: the edits to make to one file, each with its reason. The diff, the `--check`
//! verdict and the write all come from the same plan.

use similar::TextDiff;

use crate::yaml::{Document, Edit, Edited, YamlError};

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub edit: Edit,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Things the operator should know that change nothing.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn push(&mut self, edit: Edit, reason: impl Into<String>) {
        self.changes.push(Change {
            edit,
            reason: reason.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn edits(&self) -> Vec<Edit> {
        self.changes.iter().map(|c| c.edit.clone()).collect()
    }

    /// Applies the plan to the document it was made from (verified by the engine).
    pub fn apply(&self, doc: &Document) -> Result<Edited, YamlError> {
        doc.apply(&self.edits())
    }

    /// One line per change: the key, what happens to it, and why.
    pub fn reasons(&self, is_secret: &dyn Fn(&[&str]) -> bool) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| {
                let what = match &c.edit {
                    Edit::Set { path, value } => {
                        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
                        let shown = if is_secret(&keys) {
                            crate::yaml::MASK.to_string()
                        } else {
                            value.text.clone()
                        };
                        format!("{} = {}", path.join("."), shown)
                    }
                    Edit::Remove { path } => format!("{} removed", path.join(".")),
                };
                format!("{what}: {}", c.reason)
            })
            .collect()
    }
}

/// A unified diff of two texts (already masked), labelled with the file's name.
pub fn unified_diff(before: &str, after: &str, label: &str) -> String {
    let diff = TextDiff::from_lines(before, after);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("{label} (current)"), &format!("{label} (planned)"))
        .to_string()
}

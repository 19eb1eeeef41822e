//! A plan: the edits to make to one file, each with its reason. The diff, the `--check`
//! verdict and the write all come from the same plan.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

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

    /// Each change as the reports show it: the key, its value before and after (as YAML
    /// text, secrets masked), and why.
    pub fn describe(
        &self,
        before: &Document,
        is_secret: &dyn Fn(&[&str]) -> bool,
    ) -> Vec<ChangeReport> {
        let spans = before.secret_spans(is_secret);
        self.changes
            .iter()
            .map(|c| {
                let path = c.edit.path();
                let keys: Vec<&str> = path.iter().map(String::as_str).collect();
                let old = before.entry(&keys).map(|(_, v)| {
                    crate::yaml::mask_range(before.text(), v.start().offset, v.end(), &spans)
                });
                let new = match &c.edit {
                    Edit::Set { value, .. } if is_secret(&keys) => {
                        Some(crate::yaml::MASK.to_owned())
                    }
                    Edit::Set { value, .. } => Some(value.text.clone()),
                    Edit::Remove { .. } => None,
                };
                ChangeReport {
                    path: path.join("."),
                    before: old,
                    after: new,
                    reason: c.reason.clone(),
                }
            })
            .collect()
    }
}

/// One change as reported: in the human list and in the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    pub path: String,
    /// The value's YAML text before (none when the key was absent).
    pub before: Option<String>,
    /// The value's YAML text after (none when the key is removed).
    pub after: Option<String>,
    pub reason: String,
}

impl ChangeReport {
    /// One human line: the key, what happens to it, and why.
    pub fn line(&self) -> String {
        match &self.after {
            Some(after) => format!("{} = {after}: {}", self.path, self.reason),
            None if self.path.is_empty() => self.reason.clone(),
            None => format!("{} removed: {}", self.path, self.reason),
        }
    }
}

/// One side of a diff: the text and the byte ranges to mask in it (sorted).
pub struct Side<'a> {
    pub text: &'a str,
    pub masked: &'a [(usize, usize)],
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect()
}

fn hunk_range(start: usize, end: usize) -> String {
    match end - start {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        n => format!("{},{n}", start + 1),
    }
}

/// A unified diff labelled with the file's name. Only the lines shown are masked, so a large
/// file is never copied whole for display.
pub fn unified_diff(old: &Side, new: &Side, label: &str) -> String {
    let diff = TextDiff::from_lines(old.text, new.text);
    let starts = [line_starts(old.text), line_starts(new.text)];
    let line = |side: &Side, starts: &[usize], i: usize| {
        let end = starts.get(i + 1).copied().unwrap_or(side.text.len());
        crate::yaml::mask_range(side.text, starts[i], end, side.masked)
    };
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        if out.is_empty() {
            out.push_str(&format!("--- {label} (current)\n+++ {label} (planned)\n"));
        }
        let (first, last) = (&group[0], &group[group.len() - 1]);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            hunk_range(first.old_range().start, last.old_range().end),
            hunk_range(first.new_range().start, last.new_range().end)
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, text) = match change.tag() {
                    ChangeTag::Delete => {
                        ('-', line(old, &starts[0], change.old_index().unwrap_or(0)))
                    }
                    ChangeTag::Insert => {
                        ('+', line(new, &starts[1], change.new_index().unwrap_or(0)))
                    }
                    ChangeTag::Equal => {
                        (' ', line(old, &starts[0], change.old_index().unwrap_or(0)))
                    }
                };
                out.push(sign);
                out.push_str(&text);
                if !text.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_masks_only_what_it_shows() {
        let old = "a: 1\nsecret: abc\nb: 2\n";
        let new = "a: 1\nsecret: abc\nb: 3";
        let d = unified_diff(
            &Side {
                text: old,
                masked: &[(13, 16)],
            },
            &Side {
                text: new,
                masked: &[(13, 16)],
            },
            "f",
        );
        assert_eq!(
            d,
            "--- f (current)\n+++ f (planned)\n@@ -1,3 +1,3 @@\n a: 1\n secret: \"********\"\n-b: 2\n+b: 3\n\\ No newline at end of file\n"
        );
        assert_eq!(
            unified_diff(
                &Side {
                    text: old,
                    masked: &[]
                },
                &Side {
                    text: old,
                    masked: &[]
                },
                "f"
            ),
            ""
        );
    }
}

//! A plan: the edits to make to one file, each with its reason. The diff, the `--check`
//! verdict and the write all come from the same plan.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::yaml::{Document, Edit, Edited, Splice, YamlError};

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
        self.changes
            .iter()
            .map(|c| {
                let path = c.edit.path();
                let keys: Vec<&str> = path.iter().map(String::as_str).collect();
                let old = before.entry(&keys).map(|(_, v)| {
                    let (from, to) = (v.start().offset, v.end());
                    let spans = before.secret_spans(is_secret, from..to);
                    crate::yaml::mask_range(before.text(), from, to, &spans)
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

/// One side of a diff: the text, and what to mask in it: given a byte range of the text, the
/// sorted byte ranges to mask there.
pub struct Side<'a> {
    pub text: &'a str,
    pub masked: &'a dyn Fn(std::ops::Range<usize>) -> Vec<(usize, usize)>,
}

/// Lines of context around each change, as `diff -u` shows.
const CONTEXT: usize = 3;

/// Where each line of `text` starts, offset by `base`.
fn line_starts(text: &str, base: usize) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .map(|i| i + base)
        .collect()
}

fn hunk_range(start: usize, end: usize) -> String {
    match end - start {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        n => format!("{},{n}", start + 1),
    }
}

fn line_start(t: &[u8], at: usize) -> usize {
    t[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

fn next_line(t: &[u8], at: usize) -> usize {
    t[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(t.len(), |i| at + i + 1)
}

fn starts_line(t: &[u8], at: usize) -> bool {
    at == 0 || t[at - 1] == b'\n'
}

fn newlines(t: &[u8]) -> usize {
    crate::scan::count(t, b'\n')
}

/// A stretch of both texts, on line boundaries, outside of which they are the same bytes.
#[derive(Debug, Clone, Copy)]
struct Region {
    start: usize,
    old_end: usize,
    new_start: usize,
    new_end: usize,
}

/// `old[from..to]` widened to whole lines, and `margin` more lines on each side. Its end must
/// start a line in both texts (`new_to` is where `to` falls in `new`, the bytes after being the
/// same): past a newline in the common part, or where both already do.
fn lines_around(
    old: &[u8],
    new: &[u8],
    from: usize,
    to: usize,
    new_to: usize,
    margin: usize,
) -> (usize, usize) {
    let mut start = line_start(old, from);
    for _ in 0..margin {
        if start == 0 {
            break;
        }
        start = line_start(old, start - 1);
    }
    let mut end = if starts_line(old, to) && starts_line(new, new_to) {
        to
    } else {
        next_line(old, to)
    };
    for _ in 0..margin {
        end = next_line(old, end);
    }
    (start, end)
}

/// The part of two texts that can differ, with `margin` lines around it: a small edit to a
/// large file is then diffed over a few lines, not the whole file.
fn differing_region(old: &str, new: &str, margin: usize) -> Region {
    let (o, n) = (old.as_bytes(), new.as_bytes());
    let prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    // The common ending is looked for after the first differing line only.
    let room = o.len().min(n.len()) - line_start(o, prefix);
    let suffix = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let (start, end) = lines_around(o, n, prefix, o.len() - suffix, n.len() - suffix, margin);
    Region {
        start,
        old_end: end,
        new_start: start,
        new_end: end + n.len() - o.len(),
    }
}

/// The regions around the given splices, each widened to whole lines and `margin` more, and
/// merged where they meet: between two regions, both texts are the same bytes.
fn splice_regions(old: &str, new: &str, splices: &[Splice], margin: usize) -> Vec<Region> {
    let (o, n) = (old.as_bytes(), new.as_bytes());
    let mut regions: Vec<Region> = Vec::new();
    for s in splices {
        let (start, end) = lines_around(o, n, s.old.start, s.old.end, s.new.end, margin);
        // Outside the splices the bytes are the same: positions map by the splice's shift
        // (up to the splice, from a region that starts past the last one; after it, up to the
        // next, whose region then meets this one).
        let new_end = s.new.end + (end - s.old.end);
        match regions.last_mut() {
            Some(last) if start <= last.old_end => {
                if end >= last.old_end {
                    last.old_end = end;
                    last.new_end = new_end;
                } else {
                    // Still within the last region, which ends past this splice.
                    last.new_end = s.new.end + (last.old_end - s.old.end);
                }
            }
            _ => regions.push(Region {
                start,
                old_end: end,
                new_start: s.new.start - (s.old.start - start),
                new_end,
            }),
        }
    }
    regions
}

/// A unified diff labelled with the file's name. `splices`, when known, say where the texts
/// differ, so that only the lines around them are compared. Only the lines shown are masked,
/// so a large file is never copied whole for display.
pub fn unified_diff(old: &Side, new: &Side, label: &str, splices: Option<&[Splice]>) -> String {
    if old.text == new.text {
        return String::new();
    }
    // The diff may slide a change through equal lines up to a region's edge; then the hunk's
    // context there would be cut short, so the margin grows until every edge keeps its
    // context or the region is the whole file.
    let mut margin = 2 * CONTEXT;
    let mut splices = splices.filter(|s| !s.is_empty());
    let diffs = loop {
        let regions = match splices {
            Some(s) => splice_regions(old.text, new.text, s, margin),
            None => vec![differing_region(old.text, new.text, margin)],
        };
        let diffs: Vec<(Region, TextDiff<str>)> = regions
            .into_iter()
            .map(|r| {
                let diff = TextDiff::from_lines(
                    &old.text[r.start..r.old_end],
                    &new.text[r.new_start..r.new_end],
                );
                (r, diff)
            })
            .collect();
        let edge_ok = |op: Option<&similar::DiffOp>, at_file_edge: bool| {
            at_file_edge
                || matches!(op, Some(similar::DiffOp::Equal { len, .. }) if *len >= CONTEXT)
        };
        if diffs.iter().all(|(r, d)| {
            edge_ok(d.ops().first(), r.start == 0)
                && edge_ok(d.ops().last(), r.old_end == old.text.len())
        }) {
            break diffs;
        }
        // Grown regions may meet: from here on, one region from the first change to the last.
        splices = None;
        margin *= 4;
    };
    let mut out = String::new();
    let (mut line_at, mut first_line, mut shift) = (0, 0, 0isize);
    for (r, diff) in &diffs {
        first_line += newlines(&old.text.as_bytes()[line_at..r.start]);
        line_at = r.start;
        let new_first = first_line
            .checked_add_signed(shift)
            .expect("lines shift within the file");
        let (old_part, new_part) = (
            &old.text[r.start..r.old_end],
            &new.text[r.new_start..r.new_end],
        );
        let masks = [
            (old.masked)(r.start..r.old_end),
            (new.masked)(r.new_start..r.new_end),
        ];
        let starts = [
            line_starts(old_part, r.start),
            line_starts(new_part, r.new_start),
        ];
        let line = |side: usize, i: usize| {
            let (text, end) = if side == 0 {
                (old.text, r.old_end)
            } else {
                (new.text, r.new_end)
            };
            let to = starts[side].get(i + 1).copied().unwrap_or(end);
            crate::yaml::mask_range(text, starts[side][i], to, &masks[side])
        };
        for group in diff.grouped_ops(CONTEXT) {
            if out.is_empty() {
                out.push_str(&format!("--- {label} (current)\n+++ {label} (planned)\n"));
            }
            let (first, last) = (&group[0], &group[group.len() - 1]);
            out.push_str(&format!(
                "@@ -{} +{} @@\n",
                hunk_range(
                    first_line + first.old_range().start,
                    first_line + last.old_range().end
                ),
                hunk_range(
                    new_first + first.new_range().start,
                    new_first + last.new_range().end
                )
            ));
            for op in &group {
                for change in diff.iter_changes(op) {
                    let (sign, text) = match change.tag() {
                        ChangeTag::Delete => ('-', line(0, change.old_index().unwrap_or(0))),
                        ChangeTag::Insert => ('+', line(1, change.new_index().unwrap_or(0))),
                        ChangeTag::Equal => (' ', line(0, change.old_index().unwrap_or(0))),
                    };
                    out.push(sign);
                    out.push_str(&text);
                    if !text.ends_with('\n') {
                        out.push_str("\n\\ No newline at end of file\n");
                    }
                }
            }
        }
        shift += newlines(new_part.as_bytes()) as isize - newlines(old_part.as_bytes()) as isize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Applies a unified diff made by [`unified_diff`] to `old`, checking every context and
    /// removed line against it, and that each hunk has its full context unless it reaches an
    /// end of the file.
    fn apply_diff(old: &str, diff: &str) -> String {
        let lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut at = 0; // next old line to copy
        let mut rows = diff.lines().skip(2).peekable();
        while let Some(header) = rows.next() {
            let nums: Vec<usize> = header
                .trim_matches(|c| c == '@' || c == ' ')
                .split(|c: char| !c.is_ascii_digit())
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().unwrap())
                .collect();
            let from = if nums[0] == 0 { 0 } else { nums[0] - 1 };
            // `-0,0`-style headers name the line before; a bare number is one line.
            let from = if header.contains(&format!("-{},0 ", nums[0])) {
                nums[0]
            } else {
                from
            };
            assert!(from >= at, "{diff}");
            for l in &lines[at..from] {
                out.push_str(l);
            }
            at = from;
            let mut body: Vec<(char, String)> = Vec::new();
            while let Some(row) = rows.peek() {
                if row.starts_with("@@") {
                    break;
                }
                let row = rows.next().unwrap();
                if row.starts_with('\\') {
                    let last = body.last_mut().unwrap();
                    last.1.pop();
                    continue;
                }
                let (sign, text) = row.split_at(1);
                body.push((sign.chars().next().unwrap(), format!("{text}\n")));
            }
            let lead = body.iter().take_while(|(s, _)| *s == ' ').count();
            let trail = body.iter().rev().take_while(|(s, _)| *s == ' ').count();
            for (sign, text) in &body {
                match sign {
                    ' ' | '-' => {
                        assert_eq!(lines[at], text, "{diff}");
                        if *sign == ' ' {
                            out.push_str(text);
                        }
                        at += 1;
                    }
                    _ => out.push_str(text),
                }
            }
            assert!(
                lead == CONTEXT || from == 0,
                "short leading context:\n{diff}"
            );
            assert!(
                trail == CONTEXT || at == lines.len(),
                "short trailing context:\n{diff}"
            );
        }
        for l in &lines[at..] {
            out.push_str(l);
        }
        out
    }

    proptest! {
        /// Files of short lines from a small alphabet (so lines repeat, as in YAML), changed at
        /// a few byte ranges (inside lines, across them, at either end): the diff, with the
        /// splices as hints or without them, turns the old text into the new one, and every
        /// hunk has its context.
        #[test]
        fn region_diff_applies_with_full_context(
            lines in proptest::collection::vec("[ab]{0,2}", 0..40),
            final_newline in any::<bool>(),
            cuts in proptest::collection::vec((0usize..200, 0usize..6, "[ab\n]{0,5}"), 0..4),
        ) {
            let mut old = lines.join("\n");
            if final_newline && !old.is_empty() {
                old.push('\n');
            }
            // Non-overlapping byte ranges, in order, each replaced.
            let mut splices = Vec::new();
            let mut new = String::new();
            let mut at = 0;
            for (gap, len, text) in cuts {
                let start = (at + gap).min(old.len());
                let end = (start + len).min(old.len());
                if start < at || (start == end && text.is_empty()) {
                    continue;
                }
                new.push_str(&old[at..start]);
                let from = new.len();
                new.push_str(&text);
                splices.push(Splice { old: start..end, new: from..new.len() });
                at = end;
            }
            new.push_str(&old[at..]);
            let none = |_| Vec::new();
            let side = |text| Side { text, masked: &none };
            for hints in [None, Some(&splices[..])] {
                let diff = unified_diff(&side(&old), &side(&new), "f", hints);
                prop_assert_eq!(apply_diff(&old, &diff), new.as_str(), "{}", diff);
            }
        }
    }

    #[test]
    fn diff_masks_only_what_it_shows() {
        let old = "a: 1\nsecret: abc\nb: 2\n";
        let new = "a: 1\nsecret: abc\nb: 3";
        let d = unified_diff(
            &Side {
                text: old,
                masked: &|_| vec![(13, 16)],
            },
            &Side {
                text: new,
                masked: &|_| vec![(13, 16)],
            },
            "f",
            None,
        );
        assert_eq!(
            d,
            "--- f (current)\n+++ f (planned)\n@@ -1,3 +1,3 @@\n a: 1\n secret: \"********\"\n-b: 2\n+b: 3\n\\ No newline at end of file\n"
        );
        assert_eq!(
            unified_diff(
                &Side {
                    text: old,
                    masked: &|_| Vec::new()
                },
                &Side {
                    text: old,
                    masked: &|_| Vec::new()
                },
                "f",
                None
            ),
            ""
        );
    }
}

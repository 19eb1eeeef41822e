//! Showing: a proposal's diff (secrets masked) and its list of changes, findings, and the JSON
//! reports, into any writer. The terminal's colours are decided here once.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::apply::Applied;
use crate::check::Report;
use crate::findings::{self, FORMAT_VERSION, Finding, Severity};
use crate::plan::{ChangeReport, FileEdit, Proposal};
use crate::yaml::{self, Document};

/// Where output goes, coloured or not as the terminal and `--color` allow.
pub struct Out {
    pub out: anstream::AutoStream<std::io::Stdout>,
    pub err: anstream::AutoStream<std::io::Stderr>,
}

impl Out {
    pub fn new(choice: anstream::ColorChoice) -> Out {
        Out {
            out: anstream::AutoStream::new(std::io::stdout(), choice),
            err: anstream::AutoStream::new(std::io::stderr(), choice),
        }
    }

    /// Whether standard output shows colours.
    pub fn colored(&self) -> bool {
        self.out.current_choice() != anstream::ColorChoice::Never
    }

    /// A proposal's diff and changes on standard output.
    pub fn proposal(&mut self, p: &Proposal, show_secrets: bool) -> std::io::Result<()> {
        let colored = self.colored();
        write_proposal(&mut self.out, p, show_secrets, colored)
    }
}

/// Lines of context around each change, as `diff -u` shows.
const CONTEXT: usize = 3;

fn hunk_range(start: usize, end: usize) -> String {
    match end - start {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        n => format!("{},{n}", start + 1),
    }
}

/// The proposal's unified diff, file by file, each labelled with its name; secrets masked
/// unless `show_secrets`.
pub fn diff(p: &Proposal, show_secrets: bool) -> String {
    p.files
        .iter()
        .map(|f| file_diff(f, p.is_secret, show_secrets))
        .collect()
}

/// One file's unified diff. The texts are compared as they are; only the lines shown are
/// masked.
fn file_diff(f: &FileEdit, is_secret: fn(&[&str]) -> bool, show_secrets: bool) -> String {
    let (old, new) = (f.before.text(), f.after.text());
    if old == new {
        return String::new();
    }
    let spans = |doc: &Document| match show_secrets {
        true => Vec::new(),
        false => doc.secret_spans(&is_secret),
    };
    let sides = [(old, spans(&f.before)), (new, spans(&f.after))];
    // A line as shown, masked where a secret is: `line` is a slice of one side's text.
    let shown = |line: &str| {
        let at = line.as_ptr() as usize;
        let (text, spans) = sides
            .iter()
            .find(|(t, _)| (t.as_ptr() as usize..=t.as_ptr() as usize + t.len()).contains(&at))
            .expect("a line of one of the texts");
        let from = at - text.as_ptr() as usize;
        yaml::mask_range(text, from, from + line.len(), spans)
    };
    let label = f.file.name();
    let diff = TextDiff::from_lines(old, new);
    let mut out = format!("--- {label} (current)\n+++ {label} (planned)\n");
    for group in diff.grouped_ops(CONTEXT) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            hunk_range(first.old_range().start, last.old_range().end),
            hunk_range(first.new_range().start, last.new_range().end)
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let text = shown(change.value());
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

/// Writes a diff, coloured when `colored`, in one write (standard output is line-buffered,
/// and a stream that strips colours writes each piece apart: a system call a line).
pub fn write_diff(w: &mut impl Write, diff: &str, colored: bool) -> std::io::Result<()> {
    use std::fmt::Write as _;
    if !colored {
        return w.write_all(diff.as_bytes());
    }
    let mut shown = String::with_capacity(diff.len() * 2);
    for line in diff.lines() {
        let style = if line.starts_with("+++") || line.starts_with("---") {
            Style::new().bold()
        } else if line.starts_with('+') {
            AnsiColor::Green.on_default()
        } else if line.starts_with('-') {
            AnsiColor::Red.on_default()
        } else if line.starts_with("@@") {
            AnsiColor::Cyan.on_default()
        } else {
            Style::new()
        };
        let _ = writeln!(shown, "{style}{}{style:#}", line.trim_end_matches('\r'));
    }
    w.write_all(shown.as_bytes())
}

/// The engine's warnings and the plan's notes, one line each.
pub fn write_remarks(w: &mut impl Write, p: &Proposal) -> std::io::Result<()> {
    for f in &p.files {
        for warning in &f.warnings {
            writeln!(
                w,
                "warning: {}:{}:{}: {}",
                f.file.name(),
                warning.line,
                warning.col,
                warning.message
            )?;
        }
    }
    for note in &p.notes {
        writeln!(w, "note: {note}")?;
    }
    Ok(())
}

/// The diff and the list of changes with their reasons.
pub fn write_proposal(
    w: &mut impl Write,
    p: &Proposal,
    show_secrets: bool,
    colored: bool,
) -> std::io::Result<()> {
    write_diff(w, &diff(p, show_secrets), colored)?;
    let mut list = String::from("\n");
    let several = p.files.iter().filter(|f| f.changed()).count() > 1;
    for c in p.changes() {
        match several {
            true => list.push_str(&format!("  * {}: {}\n", c.file, c.line())),
            false => list.push_str(&format!("  * {}\n", c.line())),
        }
    }
    if let Some(s) = &p.secret_file {
        list.push_str(&format!(
            "  * {}: written with the shared secret, mode 0600\n",
            s.path.display()
        ));
    }
    w.write_all(list.as_bytes())
}

/// A finding, coloured by severity.
pub fn write_finding(w: &mut impl Write, f: &Finding) -> std::io::Result<()> {
    let style = match f.severity {
        Severity::Error => AnsiColor::Red.on_default().bold(),
        Severity::Warning => AnsiColor::Yellow.on_default(),
    };
    let text = findings::render(f);
    let (head, rest) = text.split_once(':').unwrap_or((&text, ""));
    writeln!(w, "{style}{head}{style:#}:{rest}")
}

/// What a write did, and what to do next.
pub fn write_done(w: &mut impl Write, p: &Proposal, applied: &Applied) -> std::io::Result<()> {
    let mut done = format!("\nWrote {}.\n", p.names());
    for b in applied.backups() {
        done.push_str(&format!("Backup: {}\n", b.display()));
    }
    done.push_str(&format!("Next: {}.\n", p.next_step));
    w.write_all(done.as_bytes())
}

/// `check`'s report for a person: the probes, each finding, and the verdict.
pub fn write_check(w: &mut impl Write, r: &Report) -> std::io::Result<()> {
    for p in r.probes.iter().flatten() {
        let (style, word) = if p.ok {
            (AnsiColor::Green.on_default(), "ok  ")
        } else {
            (AnsiColor::Red.on_default(), "FAIL")
        };
        let status = p.status.map_or("no answer".to_owned(), |s| s.to_string());
        writeln!(
            w,
            "online {style}{word}{style:#} {:<16} {} ({status})",
            p.name, p.url
        )?;
    }
    for f in &r.findings {
        write_finding(w, f)?;
    }
    for line in &r.users {
        writeln!(w, "users: {line}")?;
    }
    for line in &r.sso {
        writeln!(w, "sso: {line}")?;
    }
    for missing in &r.not_checked {
        writeln!(w, "not checked: {missing}")?;
    }
    if let Some(l) = &r.synapse_loader
        && !r.not_checked.contains(l)
    {
        writeln!(w, "{l}")?;
    }
    let checked: Vec<&str> = [&r.synapse_config, &r.mas_config]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    writeln!(
        w,
        "{}: {} error(s), {} warning(s) in {}",
        if r.ok { "OK" } else { "FAILED" },
        r.errors,
        r.warnings,
        checked.join(" and ")
    )
}

/// Where an error is: its file, and its line and column when known.
#[derive(Debug, Serialize)]
pub struct Place {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// The JSON answer of a command that stops with an error (exit 2), for whoever asked for JSON.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub format_version: u32,
    pub ok: bool,
    pub error: ErrorBody,
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub message: String,
    /// Where it is, when it is in a file.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
}

impl ErrorReport {
    pub fn new(message: String, place: Option<Place>) -> ErrorReport {
        ErrorReport {
            format_version: FORMAT_VERSION,
            ok: false,
            error: ErrorBody { message, place },
        }
    }
}

/// The JSON report of `synapse`, `mas` and `unlink` (see README), for Ansible's `changed_when`.
#[derive(Serialize)]
pub struct WriteReport<'a> {
    pub format_version: u32,
    pub file: String,
    pub changed: bool,
    pub written: bool,
    pub changes: Vec<ChangeReport>,
    /// The first backup made (the only one, unless several files were written).
    pub backup: Option<&'a std::path::Path>,
    /// Every backup made, one per file written.
    pub backups: Vec<&'a std::path::Path>,
    pub findings: &'a [Finding],
    /// The engine's warnings about the file (duplicate keys, …), as human lines.
    pub warnings: Vec<String>,
    /// What the operator should know that changes nothing.
    pub notes: &'a [String],
}

impl<'a> WriteReport<'a> {
    pub fn new(p: &'a Proposal, applied: Option<&'a Applied>) -> Self {
        let changed = p.changed();
        let backups: Vec<&std::path::Path> = applied.iter().flat_map(|a| a.backups()).collect();
        WriteReport {
            format_version: FORMAT_VERSION,
            file: p.names(),
            changed,
            written: applied.is_some(),
            changes: if changed { p.changes() } else { Vec::new() },
            backup: backups.first().copied(),
            backups,
            findings: &p.findings,
            warnings: p
                .files
                .iter()
                .flat_map(|f| {
                    f.warnings
                        .iter()
                        .map(|w| format!("{}:{}:{}: {}", f.file.name(), w.line, w.col, w.message))
                })
                .collect(),
            notes: &p.notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::Loaded;
    use crate::plan::RecordStep;
    use crate::yaml::Options;
    use proptest::prelude::*;

    fn proposal(old: &str, new: &str) -> Proposal {
        let parse = |t: &str| Document::parse(t.into(), Options::PYYAML).unwrap();
        Proposal {
            files: vec![FileEdit {
                file: Loaded {
                    path: "f".into(),
                    target: "f".into(),
                },
                before: parse(old),
                after: parse(new),
                changes: Vec::new(),
                warnings: Vec::new(),
                record: RecordStep::Keep,
            }],
            notes: Vec::new(),
            findings: Vec::new(),
            is_secret: crate::rules::synapse::is_secret_key,
            secret_file: None,
            next_step: String::new(),
            idle: String::new(),
        }
    }

    /// Applies a unified diff to `old`, checking every context and removed line against it.
    fn apply_diff(old: &str, diff: &str) -> String {
        let lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut at = 0;
        let mut rows = diff.lines().skip(2).peekable();
        while let Some(header) = rows.next() {
            let nums: Vec<usize> = header
                .trim_matches(|c| c == '@' || c == ' ')
                .split(|c: char| !c.is_ascii_digit())
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().unwrap())
                .collect();
            let from = if header.contains(&format!("-{},0 ", nums[0])) {
                nums[0]
            } else {
                nums[0].saturating_sub(1)
            };
            for l in &lines[at..from] {
                out.push_str(l);
            }
            at = from;
            // Whether the last row pushed a line end of its own (an added line).
            let mut added_end = false;
            while let Some(row) = rows.peek() {
                if row.starts_with("@@") {
                    break;
                }
                let row = rows.next().unwrap();
                if row.starts_with('\\') {
                    if added_end {
                        out.pop();
                    }
                    continue;
                }
                added_end = row.starts_with('+');
                let (sign, text) = row.split_at(1);
                match sign {
                    " " | "-" => {
                        assert_eq!(lines[at].trim_end_matches('\n'), text, "{diff}");
                        if sign == " " {
                            out.push_str(lines[at]);
                        }
                        at += 1;
                    }
                    _ => {
                        out.push_str(text);
                        out.push('\n');
                    }
                }
            }
        }
        for l in &lines[at..] {
            out.push_str(l);
        }
        out
    }

    proptest! {
        /// Files of short lines (so lines repeat, as in YAML), changed in a few places: the
        /// diff turns the old text into the new one.
        #[test]
        fn diffs_apply(
            lines in proptest::collection::vec("[ab]{1,2}: [cd]", 0..30),
            final_newline in any::<bool>(),
            cuts in proptest::collection::vec((0usize..40, "[ab]{1,2}: [ef]"), 0..4),
        ) {
            let mut new_lines = lines.clone();
            for (at, line) in cuts {
                let at = at.min(new_lines.len());
                new_lines.insert(at, line);
            }
            let join = |l: &[String]| {
                let mut t = l.join("\n");
                if final_newline && !t.is_empty() { t.push('\n'); }
                t
            };
            let (old, new) = (join(&lines), join(&new_lines));
            let d = diff(&proposal(&old, &new), true);
            prop_assert_eq!(apply_diff(&old, &d), new.as_str(), "{}", d);
        }
    }

    #[test]
    fn diff_masks_what_is_secret_and_shows_the_rest() {
        let old = "a: 1\nsecret: abc\ntoken_endpoint: https://idp/token\nb: 2\n";
        let new = "a: 1\nsecret: abc\ntoken_endpoint: https://idp/token\nb: 3";
        assert_eq!(
            diff(&proposal(old, new), false),
            "--- f (current)\n+++ f (planned)\n@@ -1,4 +1,4 @@\n a: 1\n secret: \"********\"\n token_endpoint: https://idp/token\n-b: 2\n+b: 3\n\\ No newline at end of file\n"
        );
        assert_eq!(diff(&proposal(old, old), false), "");
    }
}

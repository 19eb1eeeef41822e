//! Showing: a proposal's diff (secrets masked) and its list of changes, findings, and the JSON
//! reports, into any writer. The terminal's colours are decided here once.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::apply::Applied;
use crate::check::Report;
use crate::files;
use crate::findings::{self, FORMAT_VERSION, Finding, Severity};
use crate::plan::{ChangeReport, FileEdit, Proposal};
use crate::yaml::{self, Document};

/// Where output goes, coloured or not as the terminal and `--color` allow, every secret
/// mas-link has read masked (see [`Masked`]).
pub struct Out {
    pub out: Masked<anstream::AutoStream<std::io::Stdout>>,
    pub err: Masked<anstream::AutoStream<std::io::Stderr>>,
}

impl Out {
    pub fn new(choice: anstream::ColorChoice) -> Out {
        Out {
            out: Masked::new(anstream::AutoStream::new(std::io::stdout(), choice)),
            err: Masked::new(anstream::AutoStream::new(std::io::stderr(), choice)),
        }
    }

    /// Whether standard output shows colours.
    pub fn colored(&self) -> bool {
        self.out.inner.current_choice() != anstream::ColorChoice::Never
    }

    /// Standard output shows secrets as they are: for the commands whose job is to print one
    /// (`secret`, `sso`, into a pipe) and `--show-secrets`. Standard error stays masked.
    pub fn reveal(&mut self) {
        self.out.reveal = true;
    }

    /// A proposal's diff and changes on standard output.
    pub fn proposal(&mut self, p: &Proposal, show_secrets: bool) -> std::io::Result<()> {
        let colored = self.colored();
        write_proposal(&mut self.out, p, show_secrets, colored)
    }
}

/// A writer that masks, line by line, every run of [`files::HIDDEN_MIN_CHARS`] or more
/// characters of any secret mas-link has read ([`files::hidden`]): whatever prints it (a
/// finding, an error, Synapse's loader quoting a value back, JSON), and whatever part of it.
pub struct Masked<W: Write> {
    pub inner: W,
    line: Vec<u8>,
    reveal: bool,
    mask: Mask,
}

impl<W: Write> Masked<W> {
    pub fn new(inner: W) -> Masked<W> {
        Masked {
            inner,
            line: Vec::new(),
            reveal: false,
            mask: Mask::default(),
        }
    }

    /// Writes out the buffered text, masked, up to and with its last line break (all of it
    /// when `all`).
    fn pass(&mut self, all: bool) -> std::io::Result<()> {
        let end = match all {
            true => self.line.len(),
            false => match self.line.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => return Ok(()),
            },
        };
        let chunk: Vec<u8> = self.line.drain(..end).collect();
        match (self.reveal, String::from_utf8(chunk)) {
            (false, Ok(text)) => {
                self.mask.refresh();
                self.inner.write_all(self.mask.apply(&text).as_bytes())
            }
            (_, Ok(text)) => self.inner.write_all(text.as_bytes()),
            (_, Err(e)) => self.inner.write_all(e.as_bytes()),
        }
    }
}

impl<W: Write> Write for Masked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        self.pass(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.pass(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Masked<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Every part of [`files::HIDDEN_MIN_CHARS`] characters of the secrets known, to find in text,
/// and the secrets whole. A part that reads like words (lowercase letters and `-`, `_`, `.`)
/// is left out: `-secret-` of a weak secret would otherwise mask `--secret-stdin` in every
/// printed command; such a secret is still masked whole, and a random one keeps nearly all
/// its parts.
#[derive(Default)]
pub struct Mask {
    parts: std::collections::HashSet<String>,
    whole: Vec<String>,
    known: usize,
}

/// Whether a part of a secret reads like ordinary words.
fn wordlike(part: &str) -> bool {
    part.chars()
        .all(|c| c.is_ascii_lowercase() || matches!(c, '-' | '_' | '.'))
}

/// A string's character boundaries, the end included.
fn bounds(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).chain([s.len()]).collect()
}

impl Mask {
    pub fn of(secrets: &[String]) -> Mask {
        let mut m = Mask::default();
        m.add(secrets);
        m
    }

    fn add(&mut self, secrets: &[String]) {
        const N: usize = files::HIDDEN_MIN_CHARS;
        for s in secrets {
            let at = bounds(s);
            for i in 0..(at.len() - 1).saturating_sub(N - 1) {
                let part = &s[at[i]..at[i + N]];
                if !wordlike(part) {
                    self.parts.insert(part.to_owned());
                }
            }
            self.whole.push(s.clone());
        }
        self.known += secrets.len();
    }

    /// Takes in the secrets read since the last time.
    fn refresh(&mut self) {
        let hidden = files::hidden();
        if hidden.len() > self.known {
            let new = hidden[self.known..].to_vec();
            self.add(&new);
        }
    }

    /// `text` with every run of characters that covers a part of a secret replaced by
    /// `********`.
    pub fn apply(&self, text: &str) -> String {
        const N: usize = files::HIDDEN_MIN_CHARS;
        let at = bounds(text);
        let chars = at.len() - 1;
        if self.whole.is_empty() || chars < N {
            return text.to_owned();
        }
        let mut covered = vec![false; chars];
        for i in 0..=chars - N {
            if self.parts.contains(&text[at[i]..at[i + N]]) {
                covered[i..i + N].iter_mut().for_each(|c| *c = true);
            }
        }
        for s in &self.whole {
            for (start, _) in text.match_indices(s.as_str()) {
                let first = at.partition_point(|&b| b < start);
                let last = at.partition_point(|&b| b < start + s.len());
                covered[first..last].iter_mut().for_each(|c| *c = true);
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < chars {
            if covered[i] {
                while i < chars && covered[i] {
                    i += 1;
                }
                out.push_str("********");
            } else {
                out.push_str(&text[at[i]..at[i + 1]]);
                i += 1;
            }
        }
        out
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
    for (path, _) in applied.written.iter().filter(|(_, w)| w.in_place) {
        done.push_str(&format!(
            "Written in place: {} (a file bind-mounted alone, or with other links, keeps its \
             inode; not atomic: the backup is the way back)\n",
            path.display()
        ));
    }
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
    if let Some(l) = &r.synapse_release {
        writeln!(w, "for {l}")?;
    }
    if let Some(l) = &r.synapse_loader
        && !r.not_checked.contains(&l.as_str().into())
    {
        writeln!(w, "{l}")?;
    }
    if let Some(l) = &r.mas_check
        && !r.not_checked.contains(&l.as_str().into())
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

    #[test]
    fn secrets_are_masked_wherever_a_part_of_them_stands() {
        let secret = "Xk3RtvQ9LmAAIL999iiiiAAAABBBBCCCC".to_owned();
        let m = Mask::of(std::slice::from_ref(&secret));
        // Whole, a tail (pydantic's `…AIL999iiiiAAAABBBBCCCC`), a part inside other text.
        for text in [
            format!("secret: {secret}"),
            "input_value={'endpoi...AIL999iiiiAAAABBBBCCCC'}".to_owned(),
            "x=tvQ9LmAAIL9y".to_owned(),
        ] {
            let masked = m.apply(&text);
            assert!(masked.contains("********"), "{masked}");
            for w in 0..secret.len() - 8 {
                assert!(!masked.contains(&secret[w..w + 8]), "{masked}");
            }
        }
        // Seven characters of it are not enough; ordinary text stays as it is.
        assert_eq!(m.apply("Xk3RtvQ and more"), "Xk3RtvQ and more");
        // A weak secret: masked whole, its word-like parts left in ordinary text.
        let weak = Mask::of(&["kc-client-secret-0123".to_owned()]);
        assert_eq!(weak.apply("s: kc-client-secret-0123."), "s: ********.");
        assert_eq!(
            weak.apply("mas-link synapse --secret-stdin"),
            "mas-link synapse --secret-stdin"
        );
    }
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
            next_step: Default::default(),
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

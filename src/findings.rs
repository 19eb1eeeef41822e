//! Findings: what Synapse or MAS will do with a configuration, each with where it is and how
//! to fix it. `mas-link check` reports them; the writers refuse to write a file with an error
//! among them.

use serde::Serialize;

use crate::yaml::Pos;

/// The version of the JSON report's schema; raised on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// What the program reading the file will do about the finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The program refuses to start with this configuration.
    Refuses,
    /// The program starts, but the pairing or a feature fails at run time.
    Breaks,
    /// Synapse does not delegate to MAS at all.
    NotLinked,
    /// Works, but probably not as meant.
    Advice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Synapse,
    Mas,
}

/// Where a finding is: the file, named as the user gave it, and the place in it.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub path: &'a str,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub effect: Effect,
    /// Whose file: Synapse's or MAS's.
    pub file: Source,
    /// The file the finding is in (one of several, when a program reads several).
    pub path: String,
    /// The dotted key the finding is about.
    pub key: String,
    pub line: usize,
    pub column: usize,
    /// What is wrong and what the program will do with it.
    pub message: String,
    /// What to do, naming the mas-link command that does it where there is one.
    pub fix: String,
}

impl Finding {
    pub fn new(
        file: Source,
        effect: Effect,
        key: &[&str],
        at: Place,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: if effect == Effect::Advice {
                Severity::Warning
            } else {
                Severity::Error
            },
            effect,
            file,
            path: at.path.to_owned(),
            key: key.join("."),
            line: at.pos.line.max(1),
            column: at.pos.col.max(1),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(mut self) -> Finding {
        self.severity = Severity::Warning;
        self
    }
}

/// A finding as one human line (two with its fix), located in its file.
pub fn render(f: &Finding) -> String {
    let sev = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{sev}: {}:{}:{}: `{}`: {}\n  fix: {}",
        f.path, f.line, f.column, f.key, f.message, f.fix
    )
}

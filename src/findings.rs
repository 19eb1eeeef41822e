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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub effect: Effect,
    pub file: Source,
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
        pos: Pos,
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
            key: key.join("."),
            line: pos.line.max(1),
            column: pos.col.max(1),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(mut self) -> Finding {
        self.severity = Severity::Warning;
        self
    }
}

/// A finding as one human line (two with its fix), located in the file at `path`.
pub fn render(f: &Finding, path: &str) -> String {
    let sev = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{sev}: {path}:{}:{}: `{}`: {}\n  fix: {}",
        f.line, f.column, f.key, f.message, f.fix
    )
}

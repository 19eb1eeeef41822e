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
    pub fix: Guide,
}

impl Finding {
    pub fn new(
        file: Source,
        effect: Effect,
        key: &[&str],
        at: Place,
        message: impl Into<String>,
        fix: impl Into<Guide>,
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
    // A finding on a side that is not a file here (Synapse's, in MAS's app) names that side.
    let place = match f.line {
        0 => f.path.clone(),
        _ => format!("{}:{}:{}", f.path, f.line, f.column),
    };
    format!(
        "{sev}: {place}: `{}`: {}\n  fix: {}",
        f.key, f.message, f.fix
    )
}

/// A mas-link subcommand that a guide runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    Secret,
    Synapse,
    Mas,
    Sso,
    Check,
    Unlink,
}

impl Sub {
    fn name(self) -> &'static str {
        match self {
            Sub::Secret => "secret",
            Sub::Synapse => "synapse",
            Sub::Mas => "mas",
            Sub::Sso => "sso",
            Sub::Check => "check",
            Sub::Unlink => "unlink",
        }
    }

    /// Whose files it reads, so where it runs.
    pub fn side(self) -> Source {
        match self {
            Sub::Secret | Sub::Mas => Source::Mas,
            _ => Source::Synapse,
        }
    }
}

/// One mas-link run: the subcommand, its arguments, and, once placed, the words that name the
/// files and the container it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    sub: Sub,
    /// Where it runs, when said (`check` runs on either side, or where both files are).
    side: Option<Source>,
    args: Vec<String>,
    files: Vec<String>,
    app: Option<(String, String)>,
}

/// A command: one run, or runs piped one into the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command(Vec<Step>);

/// `mas-link SUB ARGS…`.
pub fn command(sub: Sub, args: &[&str]) -> Command {
    Command(vec![Step {
        sub,
        side: None,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        files: Vec::new(),
        app: None,
    }])
}

impl Command {
    /// The command run in `side`'s container (`check` runs in either).
    pub fn on(mut self, side: Source) -> Command {
        self.0.iter_mut().for_each(|s| s.side = Some(side));
        self
    }

    /// The command as it runs where `at` says.
    pub fn placed(mut self, at: &Where) -> Command {
        self.place(at);
        self
    }

    /// Each run names the files of its side and, on Cloudron, runs in its side's app.
    pub fn place(&mut self, at: &Where) {
        for step in &mut self.0 {
            step.files = match (step.sub, step.side) {
                (Sub::Check, None) => [&at.synapse_files[..], &at.mas_files[..]].concat(),
                (_, Some(Source::Mas)) => at.mas_files.clone(),
                (sub, None) if sub.side() == Source::Mas => at.mas_files.clone(),
                _ => at.synapse_files.clone(),
            };
            let side = step.side.unwrap_or(step.sub.side());
            step.app = at.cloudron.as_ref().map(|c| (c.app(side), c.bin.clone()));
        }
    }

    /// This command's output piped into `next`.
    pub fn pipe(mut self, next: Command) -> Command {
        self.0.extend(next.0);
        self
    }
}

/// Where printed commands run: the files this run named (a command for a side names the
/// same files), and on Cloudron the two apps, each command a `cloudron exec` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Where {
    /// ` --synapse-config PATH` words, none when Synapse's file is at its default place.
    pub synapse_files: Vec<String>,
    /// ` --mas-config PATH` words, likewise.
    pub mas_files: Vec<String>,
    pub cloudron: Option<Cloudron>,
}

/// Cloudron's two apps, by their domains, and where the binary is in each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloudron {
    /// The app this runs in, and whose it is.
    pub here: String,
    pub here_side: Source,
    /// The other app, when its URL is known.
    pub other: Option<String>,
    pub bin: String,
}

impl Cloudron {
    /// The app that runs a side's commands; the other one by a placeholder when unknown.
    pub fn app(&self, side: Source) -> String {
        match (side == self.here_side, &self.other, side) {
            (true, _, _) => self.here.clone(),
            (false, Some(other), _) => other.clone(),
            (false, None, Source::Mas) => "MAS_APP".into(),
            (false, None, Source::Synapse) => "MATRIX_APP".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Run(Command),
}

/// What to do, as data: text and the commands in it, rendered (and shell-quoted) when shown.
/// Nothing reads printed text back: a command learns its files and container by [`Guide::place`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guide(Vec<Part>);

impl Guide {
    pub fn text(text: impl Into<String>) -> Guide {
        Guide(vec![Part::Text(text.into())])
    }

    /// The guide, then `text`.
    pub fn then(mut self, text: impl Into<String>) -> Guide {
        self.0.push(Part::Text(text.into()));
        self
    }

    /// The guide, then `command` (shown between backticks).
    pub fn run(mut self, command: Command) -> Guide {
        self.0.push(Part::Run(command));
        self
    }

    /// Each command names the files of its side and, on Cloudron, runs in its side's app.
    pub fn place(&mut self, at: &Where) {
        for part in &mut self.0 {
            if let Part::Run(c) = part {
                c.place(at);
            }
        }
    }

    /// The commands alone, each as it runs.
    pub fn commands(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|p| match p {
                Part::Run(c) => Some(c.to_string()),
                Part::Text(_) => None,
            })
            .collect()
    }
}

impl From<&str> for Guide {
    fn from(text: &str) -> Guide {
        Guide::text(text)
    }
}

impl From<String> for Guide {
    fn from(text: String) -> Guide {
        Guide::text(text)
    }
}

/// A word as a POSIX shell reads it back: bare when plain, else single-quoted.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    match plain {
        true => word.to_owned(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.app {
            Some((app, bin)) => write!(f, "cloudron exec --app {app} -- {bin}")?,
            None => f.write_str("mas-link")?,
        }
        write!(f, " {}", self.sub.name())?;
        for word in self.files.iter().chain(&self.args) {
            write!(f, " {}", shell_word(word))?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{step}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Guide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.0 {
            match part {
                Part::Text(t) => f.write_str(t)?,
                Part::Run(c) => write!(f, "`{c}`")?,
            }
        }
        Ok(())
    }
}

impl Serialize for Guide {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_secret() -> Guide {
        Guide::text("copy: ")
            .run(command(Sub::Secret, &[]).pipe(command(Sub::Synapse, &["--secret-stdin"])))
            .then(", then restart")
    }

    #[test]
    fn a_guide_names_the_files_of_each_side() {
        let mut g = copy_secret();
        assert_eq!(
            g.to_string(),
            "copy: `mas-link secret | mas-link synapse --secret-stdin`, then restart"
        );
        g.place(&Where {
            synapse_files: vec!["--synapse-config".into(), "hs.yaml".into()],
            mas_files: vec!["--mas-config".into(), "my mas.yaml".into()],
            cloudron: None,
        });
        assert_eq!(
            g.to_string(),
            "copy: `mas-link secret --mas-config 'my mas.yaml' | mas-link synapse \
             --synapse-config hs.yaml --secret-stdin`, then restart"
        );
        // JSON carries the same text.
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            serde_json::Value::String(g.to_string())
        );
    }

    #[test]
    fn on_cloudron_each_run_is_a_cloudron_exec_line_for_its_app() {
        let mut at = Where {
            cloudron: Some(Cloudron {
                here: "matrix.example.com".into(),
                here_side: Source::Synapse,
                other: Some("auth.example.com".into()),
                bin: "/app/data/mas-link".into(),
            }),
            ..Where::default()
        };
        let mut g = copy_secret();
        g.place(&at);
        assert_eq!(
            g.commands(),
            [
                "cloudron exec --app auth.example.com -- /app/data/mas-link secret | cloudron exec \
              --app matrix.example.com -- /app/data/mas-link synapse --secret-stdin"
            ]
        );
        // The other app unknown: a placeholder that says which.
        at.cloudron.as_mut().unwrap().other = None;
        let check = command(Sub::Check, &[]).on(Source::Mas).placed(&at);
        assert_eq!(
            check.to_string(),
            "cloudron exec --app MAS_APP -- /app/data/mas-link check"
        );
    }
}

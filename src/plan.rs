//! The proposal: one file's change, made once and then shown, checked (`--check`) and written
//! as it is: the file before and after, each change with its reason, the findings on the
//! result, and what goes with the write (a secret file, the record).

use std::path::PathBuf;

use serde::Serialize;

use crate::files::Loaded;
use crate::findings::{Effect, Finding, Severity};
use crate::rules::mas::{self, MatrixOptions};
use crate::rules::record::Record;
use crate::rules::synapse::{self, LinkOptions, SecretSetting};
use crate::rules::{Changes, FileState};
use crate::yaml::{self, Document, Edit, Warning, YamlError};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "Synapse would refuse to start with MAS while these settings stay; change them by hand, then run again. Nothing was written.\n{}",
        .0.join("\n")
    )]
    Refused(Vec<String>),
    #[error(
        "the planned file would still be refused; fix these by hand, then run again. Nothing was written.\n{}",
        .0.join("\n")
    )]
    StillRefused(Vec<String>),
    #[error("{path}:{error}")]
    Yaml { path: String, error: YamlError },
    #[error("{path} {why}. Nothing was written.")]
    WrongFile { path: String, why: String },
    #[error(
        "MAS's matrix.homeserver is `{mas}` but {path} has server_name `{synapse}`: MAS would \
         mint user IDs on the wrong server. Nothing was written. Fix MAS first: \
         `mas-link mas --homeserver {synapse} --yes` where MAS's config is"
    )]
    ServerNames {
        path: String,
        mas: String,
        synapse: String,
    },
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

/// A secret file written with the change (Synapse's `secret_path`).
#[derive(Debug, Clone)]
pub struct SecretFile {
    pub path: PathBuf,
    pub secret: String,
}

/// What happens to the record beside the file when the change is written.
#[derive(Debug, Clone)]
pub enum RecordStep {
    Keep,
    /// Write this record (its backup filled in with the one the write makes, if any).
    Write(Record),
    Remove,
}

/// One file's change, complete: what is shown is what is written.
#[derive(Debug)]
pub struct Proposal {
    pub file: Loaded,
    pub before: Document,
    pub after: Document,
    pub changes: Vec<ChangeReport>,
    pub notes: Vec<String>,
    pub warnings: Vec<Warning>,
    /// `check`'s findings on the file as it will be.
    pub findings: Vec<Finding>,
    pub is_secret: fn(&[&str]) -> bool,
    pub secret_file: Option<SecretFile>,
    pub record: RecordStep,
    /// What to do once it is written.
    pub next_step: String,
    /// What to say when there is nothing to change.
    pub idle: String,
}

impl Proposal {
    /// Whether writing it changes anything.
    pub fn changed(&self) -> bool {
        self.before.text() != self.after.text() || self.secret_file.is_some()
    }

    /// A proposal to apply `changes` to `doc`, with findings to fill in.
    fn new(
        file: Loaded,
        doc: Document,
        changes: &Changes,
        is_secret: fn(&[&str]) -> bool,
    ) -> Result<Proposal, PlanError> {
        let edited = doc
            .apply(&changes.edits())
            .map_err(|error| PlanError::Yaml {
                path: file.name(),
                error,
            })?;
        let p = Proposal {
            changes: describe(&doc, changes, is_secret),
            file,
            before: doc,
            after: edited.document,
            notes: changes.notes.clone(),
            warnings: edited.warnings,
            findings: Vec::new(),
            is_secret,
            secret_file: None,
            record: RecordStep::Keep,
            next_step: String::new(),
            idle: String::new(),
        };
        Ok(p.idle_default())
    }

    fn idle_default(mut self) -> Proposal {
        self.idle = format!(
            "Nothing to do: {} already has every setting.",
            self.file.name()
        );
        self
    }

    /// Sets the findings, refusing when an error is among them (except those `allowed`).
    fn judged(
        mut self,
        findings: Vec<Finding>,
        allowed: impl Fn(&Finding) -> bool,
    ) -> Result<Proposal, PlanError> {
        let left: Vec<String> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error && !allowed(f))
            .map(|f| crate::findings::render(f, &self.file.name()))
            .collect();
        if !left.is_empty() {
            return Err(PlanError::StillRefused(left));
        }
        self.findings = findings;
        Ok(self)
    }
}

/// Each change as the reports show it: the key, its value before and after (as YAML text,
/// secrets masked), and why.
fn describe(
    before: &Document,
    changes: &Changes,
    is_secret: fn(&[&str]) -> bool,
) -> Vec<ChangeReport> {
    let spans = before.secret_spans(&is_secret);
    changes
        .changes
        .iter()
        .map(|c| {
            let path = c.edit.path();
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            let old = before
                .entry(&keys)
                .map(|(_, v)| yaml::mask_range(before.text(), v.start().offset, v.end(), &spans));
            let new = match &c.edit {
                Edit::Set { .. } if is_secret(&keys) => Some(yaml::MASK.to_owned()),
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

/// A word for a shell: as it is when it needs no quoting, else in single quotes.
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

/// ` --FLAG PATH` for a file named on the command line, or nothing when it is the default.
pub fn path_flag(flag: &str, path: &std::path::Path, default: &str) -> String {
    match path == std::path::Path::new(default) {
        true => String::new(),
        false => format!(" {flag} {}", shell_word(&path.display().to_string())),
    }
}

/// A finding's fix with the files this run named: the commands it prints then act on the same
/// files when run as printed (`mas-link synapse` → `mas-link synapse --synapse-config X`).
pub fn fix_for_files(fix: &str, synapse: Option<&Loaded>, mas: Option<&Loaded>) -> String {
    let flag = |file: Option<&Loaded>, name: &str, default: &str| {
        file.map(|f| path_flag(name, &f.path, default))
            .unwrap_or_default()
    };
    let s = flag(synapse, "--synapse-config", synapse::DEFAULT_CONFIG);
    let m = flag(mas, "--mas-config", mas::DEFAULT_CONFIG);
    let mut out = String::with_capacity(fix.len());
    let mut rest = fix;
    while let Some(at) = rest.find("mas-link ") {
        out.push_str(&rest[..at + 9]);
        rest = &rest[at + 9..];
        let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
        let added = match word.as_str() {
            "synapse" | "unlink" => &s,
            "mas" | "secret" => &m,
            _ => "",
        };
        out.push_str(&word);
        out.push_str(added);
        rest = &rest[word.len()..];
    }
    out.push_str(rest);
    out
}

/// Refuses a file that is not the program's kind.
fn of_kind(file: &Loaded, why: Option<String>) -> Result<(), PlanError> {
    match why {
        Some(why) => Err(PlanError::WrongFile {
            path: file.name(),
            why,
        }),
        None => Ok(()),
    }
}

/// What `mas-link synapse` was asked for.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    pub endpoint: String,
    pub secret: String,
    /// Write `secret_path` naming this file instead of an inline secret.
    pub secret_path: Option<PathBuf>,
    /// What that file holds now, read by the caller.
    pub secret_path_now: Option<FileState>,
    /// MAS's `matrix.homeserver`, when MAS's side is known: it must be this `server_name`.
    pub mas_homeserver: Option<String>,
}

/// `mas-link synapse`: Synapse delegates to MAS. Refuses settings that hold data, and a
/// result in which `check` finds an error.
pub fn link(
    file: Loaded,
    doc: Document,
    req: &LinkRequest,
    earlier: Option<&Record>,
) -> Result<Proposal, PlanError> {
    of_kind(&file, synapse::not_a_homeserver_yaml(&doc))?;
    let server_name = doc.value().get("server_name").and_then(yaml::Value::as_str);
    if let (Some(mas), Some(synapse)) = (&req.mas_homeserver, server_name)
        && mas != synapse
    {
        return Err(PlanError::ServerNames {
            path: file.name(),
            mas: mas.clone(),
            synapse: synapse.to_owned(),
        });
    }
    let setting = match &req.secret_path {
        Some(p) => SecretSetting::Path(p.to_string_lossy().into_owned()),
        None => SecretSetting::Inline(req.secret.clone()),
    };
    let opts = LinkOptions {
        endpoint: req.endpoint.clone(),
        secret: setting,
    };
    let changes = synapse::plan_link(&doc, &opts).map_err(|refused| {
        let name = file.name();
        PlanError::Refused(
            refused
                .iter()
                .map(|r| {
                    format!(
                        "  {name}:{}:{}: `{}`: {}",
                        r.pos.line, r.pos.col, r.key, r.message
                    )
                })
                .collect(),
        )
    })?;
    let mut p = Proposal::new(file, doc, &changes, synapse::is_secret_key)?;
    let holds_secret =
        |s: &FileState| matches!(s, FileState::Contents(c) if c.trim() == req.secret);
    p.secret_file = req
        .secret_path
        .as_ref()
        .filter(|_| !req.secret_path_now.as_ref().is_some_and(holds_secret))
        .map(|path| SecretFile {
            path: path.clone(),
            secret: req.secret.clone(),
        });
    // The file Synapse will read holds the secret once written.
    let after_file = req
        .secret_path
        .as_ref()
        .map(|_| FileState::Contents(req.secret.clone()));
    let (findings, _) = synapse::findings(&p.after, after_file.as_ref());
    let record = Record::of_link(&p.before, &changes, p.after.text().as_bytes(), earlier);
    p.record = RecordStep::Write(record);
    let config = path_flag("--synapse-config", &p.file.path, synapse::DEFAULT_CONFIG);
    p.next_step = format!(
        "restart Synapse so that it reads the change; undo with `mas-link unlink{config} --yes`"
    );
    p.judged(findings, |_| false)
}

/// `mas-link unlink`: MAS disabled (kept), the record's settings put back. `backup` is the
/// record's backup, read, when the file is still exactly what `synapse` wrote: then it is
/// restored whole, unless Synapse would refuse it. `secret_file` is what the file's
/// `secret_path` holds (unlink keeps it), read by the caller.
pub fn unlink(
    file: Loaded,
    doc: Document,
    record: Option<&Record>,
    backup: Option<(PathBuf, Document)>,
    secret_file: Option<&FileState>,
) -> Result<Proposal, PlanError> {
    of_kind(&file, synapse::not_a_homeserver_yaml(&doc))?;
    let clean = |old: &Document| {
        !synapse::findings(old, secret_file)
            .0
            .iter()
            .any(|f| matches!(f.effect, Effect::Refuses | Effect::Breaks))
    };
    let restored = backup.as_ref().is_some_and(|(_, old)| clean(old));
    let mut p = match backup.filter(|(_, old)| clean(old)) {
        Some((path, old)) => Proposal {
            changes: vec![ChangeReport {
                path: String::new(),
                before: None,
                after: None,
                reason: format!(
                    "the file is as `mas-link synapse` wrote it: its backup {} is restored",
                    path.display()
                ),
            }],
            file,
            before: doc,
            after: old,
            notes: Vec::new(),
            warnings: Vec::new(),
            findings: Vec::new(),
            is_secret: synapse::is_secret_key,
            secret_file: None,
            record: RecordStep::Keep,
            next_step: String::new(),
            idle: String::new(),
        },
        None if record.is_none() && !synapse::is_linked(&doc) => {
            let mut p = Proposal::new(file, doc, &Changes::default(), synapse::is_secret_key)?;
            p.idle = format!(
                "Nothing to do: {} is not linked to MAS (matrix_authentication_service is not \
                 enabled, and mas-link keeps no record of a link here).",
                p.file.name()
            );
            return Ok(p);
        }
        None => {
            let changes = synapse::plan_unlink(&doc, record);
            Proposal::new(file, doc, &changes, synapse::is_secret_key)?
        }
    };
    p.record = RecordStep::Remove;
    let config = path_flag("--synapse-config", &p.file.path, synapse::DEFAULT_CONFIG);
    p.next_step = match restored {
        // The file as it was before the link has no MAS block to take the secret from.
        true => "restart Synapse; to link again, give the secret as the first time \
                 (`mas-link synapse --help` lists the ways)"
            .into(),
        false => format!(
            "restart Synapse; relink with `mas-link synapse{config} --yes` (the block is kept)"
        ),
    };
    let (findings, _) = synapse::findings(&p.after, secret_file);
    // Not linked is the point.
    p.judged(findings, |f| f.effect == Effect::NotLinked)
}

/// `mas-link mas`: MAS's `matrix` section points at Synapse. `new_secret` is used only when
/// the file has no secret; `secret_file` is what its `secret_file` holds, read by the caller.
pub fn mas(
    file: Loaded,
    doc: Document,
    opts: &MatrixOptions,
    new_secret: &str,
    secret_file: Option<&FileState>,
) -> Result<Proposal, PlanError> {
    of_kind(&file, mas::not_a_mas_config(&doc))?;
    let changes = mas::plan_matrix(&doc, opts, new_secret);
    let mut p = Proposal::new(file, doc, &changes, mas::is_secret_key)?;
    let (_, findings) = mas::findings(p.after.clone(), secret_file);
    let config = path_flag("--mas-config", &p.file.path, mas::DEFAULT_CONFIG);
    p.next_step = format!(
        "restart MAS; then give Synapse the same secret and MAS's URL: where Synapse's file is on \
         this host, `mas-link secret{config} --bundle | mas-link synapse --secret-stdin --yes` \
         (add --synapse-config PATH for another file); across two containers, pipe \
         `mas-link secret --bundle` from MAS's into `mas-link synapse --secret-stdin --yes` in \
         Synapse's"
    );
    p.judged(findings, |_| false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_name_the_files_used() {
        let file = |p: &str| Loaded {
            path: p.into(),
            target: p.into(),
        };
        let (hs, cfg) = (file("hs.yaml"), file("my mas.yaml"));
        assert_eq!(
            fix_for_files(
                "copy: `mas-link secret | mas-link synapse --secret-stdin --yes`",
                Some(&hs),
                Some(&cfg)
            ),
            "copy: `mas-link secret --mas-config 'my mas.yaml' | mas-link synapse \
             --synapse-config hs.yaml --secret-stdin --yes`"
        );
        let default = file(synapse::DEFAULT_CONFIG);
        assert_eq!(
            fix_for_files("run `mas-link synapse`", Some(&default), None),
            "run `mas-link synapse`"
        );
    }
}

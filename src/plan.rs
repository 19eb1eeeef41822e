//! The proposal: one file's change, made once and then shown, checked (`--check`) and written
//! as it is: the file before and after, each change with its reason, the findings on the
//! result, and what goes with the write (a secret file, the record).

use crate::rights::Rights;
use std::path::PathBuf;

use serde::Serialize;

use crate::files::{Config, Loaded};
use crate::findings::{Effect, Finding, Guide, Severity, Source, Sub, Where, command};
use crate::rules::layers::{Layer, Layers};
use crate::rules::mas::{self, MatrixOptions};
use crate::rules::record::Record;
use crate::rules::sso;
use crate::rules::synapse::{self, LinkOptions, SecretSetting};
use crate::rules::users;
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
    #[error(
        "Synapse's single sign-on cannot move to MAS as the files stand. Nothing was written.\n{}",
        .0.join("\n")
    )]
    Sso(Vec<String>),
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

/// What a change does to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Set,
    Remove,
    /// The key renamed (its value kept): `after` is the new name.
    Rename,
    /// An item appended to the sequence: `after` is the item, secrets masked.
    Add,
}

/// One change as reported: in the human list and in the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    /// The file the change is written to.
    pub file: String,
    pub action: Action,
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
        let after = self.after.as_deref().unwrap_or("");
        match self.action {
            _ if self.path.is_empty() => self.reason.clone(),
            Action::Set => format!("{} = {after}: {}", self.path, self.reason),
            Action::Remove => format!("{} removed: {}", self.path, self.reason),
            Action::Rename => format!("{} renamed to {after}: {}", self.path, self.reason),
            Action::Add => format!("{} += a new item: {}", self.path, self.reason),
        }
    }
}

/// A secret file written with the change (Synapse's `secret_path`), with the rights of
/// whoever named it (the operator's, or the configuration owner's).
#[derive(Debug, Clone)]
pub struct SecretFile {
    pub path: PathBuf,
    pub secret: String,
    pub rights: Rights,
}

/// What happens to the record beside the file when the change is written.
#[derive(Debug, Clone)]
pub enum RecordStep {
    Keep,
    /// Write this record (its backup filled in with the one the write makes, if any).
    Write(Record),
}

/// One file's part of a proposal.
#[derive(Debug)]
pub struct FileEdit {
    pub file: Loaded,
    pub before: Document,
    pub after: Document,
    pub changes: Vec<ChangeReport>,
    pub warnings: Vec<Warning>,
    pub record: RecordStep,
}

impl FileEdit {
    pub fn changed(&self) -> bool {
        self.before.text() != self.after.text()
    }
}

/// A change to a configuration (one file or several), complete: what is shown is what is
/// written.
#[derive(Debug)]
pub struct Proposal {
    /// Every file of the configuration, in load order (most often one).
    pub files: Vec<FileEdit>,
    pub notes: Vec<String>,
    /// `check`'s findings on the configuration as it will be.
    pub findings: Vec<Finding>,
    pub is_secret: fn(&[&str]) -> bool,
    pub secret_file: Option<SecretFile>,
    /// What to do once it is written.
    pub next_step: Guide,
    /// What to say when there is nothing to change.
    pub idle: String,
}

impl Proposal {
    /// Whether writing it changes anything.
    pub fn changed(&self) -> bool {
        self.files.iter().any(FileEdit::changed) || self.secret_file.is_some()
    }

    /// Every change, file by file.
    pub fn changes(&self) -> Vec<ChangeReport> {
        self.files.iter().flat_map(|f| f.changes.clone()).collect()
    }

    /// The names of the files that change (all of them when none does).
    pub fn names(&self) -> String {
        let changed: Vec<String> = self
            .files
            .iter()
            .filter(|f| f.changed())
            .map(|f| f.file.name())
            .collect();
        match changed.is_empty() {
            true => self
                .files
                .iter()
                .map(|f| f.file.name())
                .collect::<Vec<_>>()
                .join(", "),
            false => changed.join(", "),
        }
    }

    /// The configuration as it will be, merged by `merge`.
    pub fn after(&self, merge: fn(Vec<Layer>) -> Layers) -> Layers {
        merge(
            self.files
                .iter()
                .map(|f| Layer {
                    name: f.file.name(),
                    doc: f.after.clone(),
                })
                .collect(),
        )
    }

    /// A proposal to apply `changes`, each in the file it is read from, with findings to fill
    /// in.
    fn new(
        config: Config,
        changes: &Changes,
        is_secret: fn(&[&str]) -> bool,
    ) -> Result<Proposal, PlanError> {
        let routed = config.layers.route(changes);
        let mut files = Vec::new();
        for ((file, layer), changes) in config
            .files
            .into_iter()
            .zip(config.layers.into_layers())
            .zip(routed)
        {
            let edited = layer
                .doc
                .apply(&changes.edits())
                .map_err(|error| PlanError::Yaml {
                    path: file.name(),
                    error,
                })?;
            files.push(FileEdit {
                changes: describe(&file.name(), &layer.doc, &changes, is_secret),
                file,
                before: layer.doc,
                after: edited.document,
                warnings: edited.warnings,
                record: RecordStep::Keep,
            });
        }
        let p = Proposal {
            files,
            notes: changes.notes.clone(),
            findings: Vec::new(),
            is_secret,
            secret_file: None,
            next_step: Guide::default(),
            idle: String::new(),
        };
        Ok(p.idle_default())
    }

    fn idle_default(mut self) -> Proposal {
        let all = self.files.iter().map(|f| f.file.name()).collect::<Vec<_>>();
        self.idle = match all.as_slice() {
            [one] => format!("Nothing to do: {one} already has every setting."),
            _ => format!(
                "Nothing to do: {} already have every setting.",
                all.join(", ")
            ),
        };
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
            .map(crate::findings::render)
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
    file: &str,
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
            let (action, new) = match &c.edit {
                Edit::Set { .. } if is_secret(&keys) => (Action::Set, Some(yaml::MASK.to_owned())),
                Edit::Set { value, .. } => (Action::Set, Some(value.text.clone())),
                Edit::Remove { .. } => (Action::Remove, None),
                Edit::Rename { to, .. } => (Action::Rename, Some(to.clone())),
                Edit::Push { item, .. } => {
                    let fields: Vec<String> = item
                        .iter()
                        .map(|(p, v)| {
                            let mut full = keys.clone();
                            full.push("0");
                            full.extend(p.iter().map(String::as_str));
                            let shown = match is_secret(&full) {
                                true => yaml::MASK,
                                false => &v.text,
                            };
                            format!("{}: {shown}", p.join("."))
                        })
                        .collect();
                    (Action::Add, Some(format!("{{{}}}", fields.join(", "))))
                }
            };
            ChangeReport {
                file: file.to_owned(),
                action,
                path: path.join("."),
                before: old,
                after: new,
                reason: c.reason.clone(),
            }
        })
        .collect()
}

pub use crate::findings::shell_word;

/// ` --FLAG PATH` for each file named on the command line, or nothing when it is the default.
pub fn path_flag(flag: &str, paths: &[PathBuf], default: &str) -> String {
    file_words(flag, paths, default)
        .iter()
        .map(|w| format!(" {}", shell_word(w)))
        .collect()
}

/// `--FLAG PATH` for each file named on the command line, or none when it is the default, as
/// a guide's command takes them ([`Where`](crate::findings::Where)).
pub fn file_words(flag: &str, paths: &[PathBuf], default: &str) -> Vec<String> {
    match paths {
        [one] if one == std::path::Path::new(default) => Vec::new(),
        _ => paths
            .iter()
            .flat_map(|p| [flag.to_owned(), p.display().to_string()])
            .collect(),
    }
}

/// The files a configuration was named by (`side`'s), for the commands its guides print.
pub fn files_at(config: &Config, side: Source) -> Where {
    match side {
        Source::Mas => Where {
            mas_files: file_words("--mas-config", &config.given, mas::DEFAULT_CONFIG),
            ..Where::default()
        },
        Source::Synapse => Where {
            synapse_files: file_words("--synapse-config", &config.given, synapse::DEFAULT_CONFIG),
            ..Where::default()
        },
    }
}

/// Refuses a configuration that is not the program's kind.
fn of_kind(config: &Config, why: Option<String>) -> Result<(), PlanError> {
    match why {
        Some(why) => Err(PlanError::WrongFile {
            path: config.names(),
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
    /// With whose rights that file is written.
    pub secret_path_rights: Rights,
    /// The Synapse release the file is for, when known (and where that was learnt).
    pub synapse_release: Option<crate::rules::release::Known>,
    /// MAS's `matrix.homeserver`, when MAS's side is known: it must be this `server_name`.
    pub mas_homeserver: Option<String>,
    /// MAS's upstream providers (their issuer and `synapse_idp_id`), when MAS's side is known.
    pub mas_providers: Option<Vec<crate::rules::sso::MasProvider>>,
    /// Where the commands in refusals and next steps run (Cloudron's apps), when the caller
    /// knows; the configuration's files are named in any case.
    pub at: Option<Where>,
}

/// `mas-link synapse`: Synapse delegates to MAS. Refuses settings that hold data, and a
/// result in which `check` finds an error. Each setting is written in the file Synapse takes
/// it from; `earlier` are the records beside the files, in order.
pub fn link(
    config: Config,
    req: &LinkRequest,
    earlier: &[Option<Record>],
) -> Result<Proposal, PlanError> {
    of_kind(
        &config,
        synapse::not_a_homeserver_yaml(config.layers.value()),
    )?;
    let server_name = config
        .layers
        .value()
        .get("server_name")
        .and_then(yaml::Value::as_str);
    if let (Some(mas), Some(synapse)) = (&req.mas_homeserver, server_name)
        && mas != synapse
    {
        return Err(PlanError::ServerNames {
            path: config.layers.locate(&["server_name"]).path.to_owned(),
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
        mas_providers: req.mas_providers.clone(),
        release: req.synapse_release.as_ref().map(|k| k.release),
    };
    let at = req
        .at
        .clone()
        .unwrap_or_else(|| files_at(&config, Source::Synapse));
    let changes = synapse::plan_link(&config.layers, &opts).map_err(|refused| {
        PlanError::Refused(
            refused
                .iter()
                .map(|r| {
                    let mut message = r.message.clone();
                    message.place(&at);
                    format!(
                        "  {}:{}:{}: `{}`: {message}",
                        r.file, r.pos.line, r.pos.col, r.key
                    )
                })
                .collect(),
        )
    })?;
    let routed = config.layers.route(&changes);
    let mut p = Proposal::new(config, &changes, synapse::is_secret_key)?;
    p.notes.insert(
        0,
        format!(
            "for {}",
            crate::rules::release::describe(req.synapse_release.as_ref())
        ),
    );
    let holds_secret =
        |s: &FileState| matches!(s, FileState::Contents(c) if c.trim() == req.secret);
    p.secret_file = req
        .secret_path
        .as_ref()
        .filter(|_| !req.secret_path_now.as_ref().is_some_and(holds_secret))
        .map(|path| SecretFile {
            path: path.clone(),
            secret: req.secret.clone(),
            rights: req.secret_path_rights.clone(),
        });
    // The file Synapse will read holds the secret once written.
    let after_file = req
        .secret_path
        .as_ref()
        .map(|_| FileState::Contents(req.secret.clone()));
    let (findings, _) = synapse::findings(&p.after(Layers::new), after_file.as_ref());
    for ((f, changes), earlier) in p.files.iter_mut().zip(&routed).zip(earlier) {
        if f.changed() {
            let r = Record::of_link(
                &f.before,
                changes,
                f.after.text().as_bytes(),
                earlier.as_ref(),
            );
            f.record = RecordStep::Write(r);
        }
    }
    p.next_step = Guide::text("restart Synapse so that it reads the change; undo with ")
        .run(command(Sub::Unlink, &["--yes"]));
    p.next_step.place(&at);
    p.judged(findings, |_| false)
}

/// A file's backup as its record names it, read, for `unlink` to restore whole.
#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub doc: Document,
}

/// `mas-link unlink`: MAS disabled (kept), the records' settings put back. `records` and
/// `backups` go with the configuration's files, in order: a backup is there when its file is
/// still exactly what `synapse` wrote. When every file with a record has one, they are
/// restored whole, unless Synapse would refuse the result. `secret_file` is what the
/// configuration's `secret_path` holds (unlink keeps it), read by the caller.
pub fn unlink(
    config: Config,
    records: &[Option<Record>],
    backups: Vec<Option<Backup>>,
    secret_file: Option<&FileState>,
) -> Result<Proposal, PlanError> {
    of_kind(
        &config,
        synapse::not_a_homeserver_yaml(config.layers.value()),
    )?;
    let at = files_at(&config, Source::Synapse);
    // A backup is restored whole only when Synapse would take it and someone can log in.
    let clean = |cfg: &Layers| {
        synapse::has_login_method(cfg.value())
            && !synapse::findings(cfg, secret_file)
                .0
                .iter()
                .any(|f| matches!(f.effect, Effect::Refuses | Effect::Breaks))
    };
    let whole = records
        .iter()
        .zip(&backups)
        .all(|(r, b)| r.is_none() || b.is_some())
        && backups.iter().any(Option::is_some);
    let restored = whole
        .then(|| restore(&config, backups))
        .filter(|r| clean(&r.after(Layers::new)));
    let restored_any = restored.is_some();
    let mut p = match restored {
        Some(p) => p,
        None if records.iter().all(Option::is_none)
            && !synapse::is_linked(config.layers.value()) =>
        {
            let mut p = Proposal::new(config, &Changes::default(), synapse::is_secret_key)?;
            p.idle = format!(
                "Nothing to do: {} is not linked to MAS (matrix_authentication_service is not \
                 enabled, and mas-link keeps no record of a link here).",
                p.names()
            );
            return Ok(p);
        }
        None => {
            let found: Vec<&Record> = records.iter().flatten().collect();
            let changes = synapse::plan_unlink(&config.layers, &found);
            Proposal::new(config, &changes, synapse::is_secret_key)?
        }
    };
    for f in &mut p.files {
        f.record = RecordStep::Write(Record::of_unlink());
    }
    p.next_step = match restored_any {
        // The file as it was before the link has no MAS block to take the secret from.
        true => Guide::text("restart Synapse; to link again, give the secret as the first time (")
            .run(command(Sub::Synapse, &["--help"]))
            .then(" lists the ways)"),
        // With SSO back in Synapse, relinking needs MAS's side to show MAS covers it.
        false if !sso::synapse_providers(p.after(Layers::new).value()).is_empty() => {
            Guide::text("restart Synapse; relink with MAS's side: ")
                .run(
                    command(Sub::Secret, &["--bundle"])
                        .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"])),
                )
                .then(" (across two containers, the bundle from MAS's)")
        }
        false => Guide::text("restart Synapse; relink with ")
            .run(command(Sub::Synapse, &["--yes"]))
            .then(" (the block is kept)"),
    }
    .then(
        ". MAS: Synapse no longer asks it. Stop MAS if it is not to be linked again, or keep \
         it for a relink; until then MAS's side of check --online reports that Synapse does \
         not delegate to MAS: that is this unlink, not a fault",
    );
    p.next_step.place(&at);
    let (findings, _) = synapse::findings(&p.after(Layers::new), secret_file);
    // Not linked is the point.
    p.judged(findings, |f| f.effect == Effect::NotLinked)
}

/// The proposal that puts each backup back whole (files without one stay as they are).
fn restore(config: &Config, backups: Vec<Option<Backup>>) -> Proposal {
    let files = config
        .files
        .iter()
        .zip(config.layers.layers())
        .zip(backups)
        .map(|((file, layer), backup)| {
            let (after, changes) = match backup {
                Some(b) => (
                    b.doc,
                    vec![ChangeReport {
                        file: file.name(),
                        action: Action::Set,
                        path: String::new(),
                        before: None,
                        after: None,
                        reason: format!(
                            "the file is as `mas-link synapse` wrote it: its backup {} is restored",
                            b.path.display()
                        ),
                    }],
                ),
                None => (layer.doc.clone(), Vec::new()),
            };
            FileEdit {
                file: file.clone(),
                before: layer.doc.clone(),
                after,
                changes,
                warnings: Vec::new(),
                record: RecordStep::Keep,
            }
        })
        .collect();
    Proposal {
        files,
        notes: Vec::new(),
        findings: Vec::new(),
        is_secret: synapse::is_secret_key,
        secret_file: None,
        next_step: Guide::default(),
        idle: String::new(),
    }
}

/// `mas-link mas`: MAS's `matrix` section points at Synapse, written in the file MAS reads
/// each key from. `new_secret` is used only when the configuration has no secret;
/// `secret_file` is what its `secret_file` holds, read by the caller.
pub fn mas(
    config: Config,
    opts: &MatrixOptions,
    new_secret: &str,
    secret_file: Option<&FileState>,
    synapse: Option<&sso::SsoBundle>,
    renumber_passwords: bool,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Proposal, PlanError> {
    of_kind(&config, mas::not_a_mas_config(config.layers.value()))?;
    let at = files_at(&config, Source::Mas);
    let root = config.layers.value();
    let mut changes = mas::plan_matrix(root, opts, new_secret);
    // With Synapse's side: its SSO providers and its users' passwords come to MAS.
    if let Some(synapse) = synapse {
        let refused = sso::handover_refusals(&synapse.providers, &sso::mas_providers(root));
        if !refused.is_empty() {
            return Err(PlanError::Sso(refused));
        }
        let public_base = root
            .at(&["http", "public_base"])
            .and_then(yaml::Value::as_str);
        let handover = sso::plan_mas(root, &synapse.providers, public_base, new_id);
        // No password to carry over (Synapse's database says so): no scheme, and no note.
        let passwords = match synapse.password_users {
            Some(0) => Changes::default(),
            _ => users::plan_passwords(root, synapse.pepper.as_deref(), renumber_passwords),
        };
        for more in [handover, passwords] {
            changes.changes.extend(more.changes);
            changes.notes.extend(more.notes);
        }
    }
    let mut p = Proposal::new(config, &changes, mas::is_secret_key)?;
    let (_, findings) = mas::findings(p.after(mas::layers), secret_file);
    p.next_step = match renumber_passwords {
        // The production path: Synapse's users go to MAS before the link.
        true => Guide::text(
            "restart MAS; then, before the link, bring Synapse's users over (README: \"Existing \
             users\"): stop Synapse, run MAS's migration tool (mas-cli syn2mas check, then migrate) where \
             MAS runs; then link: ",
        )
        .run(command(Sub::Secret, &["--bundle"]).pipe(command(
            Sub::Synapse,
            &["--secret-stdin", "--users-migrated", "--yes"],
        ))),
        false => Guide::text("restart MAS; then give Synapse the same secret and MAS's URL: ").run(
            command(Sub::Secret, &["--bundle"])
                .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"])),
        ),
    }
    .then(
        " (add --synapse-config PATH for Synapse's file; across two containers, each end in its \
         own: MAS's, then Synapse's)",
    );
    p.next_step.place(&at);
    p.judged(findings, |_| false)
}

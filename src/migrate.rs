//! `migrate` as a library operation: Synapse's users into MAS with MAS's own tool, where MAS
//! runs. Synapse's side (what `syn2mas` reads of homeserver.yaml, its database credentials
//! among it) comes from its files or through a pipe (`mas-link sso --migration`), never argv;
//! it lives in a private folder (0700, its file 0600, the configuration owner's) only while
//! `mas-cli syn2mas check` and, when asked, `migrate` run, and is removed on every way out (a
//! killed run's leftovers by the next run). Then both databases are read: MAS must hold every
//! active local user of Synapse and every SSO link.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::database::{self, DbError};
use crate::files::{self, ReadError};
use crate::mas_cli;
use crate::process;
use crate::rights::{Rights, RightsError};
use crate::rules::migration::{self, Missing};
use crate::rules::users::{self, Database};
use crate::yaml::{Document, Options, Value};

/// Where Synapse's side comes from.
#[derive(Debug, Clone)]
pub enum SynapseSide {
    /// Synapse's files, readable here (a host with both).
    Files(Vec<PathBuf>),
    /// Through a pipe from Synapse's container: `sso --migration`'s `syn2mas` part.
    Piped(serde_json::Value),
}

/// What `migrate` was asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub mas: Vec<PathBuf>,
    pub synapse: SynapseSide,
    pub mas_cli: mas_cli::Setting,
    /// Migrate after the check (`--yes`); without, the check only.
    pub migrate: bool,
    /// Go on past `syn2mas check`'s warnings.
    pub accept_warnings: bool,
    /// How long the migration may run before it is stopped.
    pub timeout: Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub migrated: bool,
    /// After a migration: Synapse's active local users and SSO links, and what MAS lacks.
    pub synapse_users: usize,
    pub synapse_links: usize,
    pub missing: Missing,
    /// Synapse's public URL, from its side (where the link runs).
    pub synapse_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Rights(#[from] RightsError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(
        "MAS's `mas-cli` was not found (--mas-cli PATH, MAS_LINK_MAS_CLI, mas-cli on PATH, \
         /usr/local/bin/mas-cli, /app/code/mas-cli): run this where MAS is installed"
    )]
    NoMasCli,
    #[error(
        "Synapse's database is {0}: MAS's migration reads only PostgreSQL. Move Synapse to \
         PostgreSQL first (Synapse's `synapse_port_db`), then run this again"
    )]
    NotPostgres(String),
    #[error("Synapse's side: {0}")]
    Side(String),
    #[error("the private folder for Synapse's side: {0}")]
    Scratch(std::io::Error),
    #[error("running {program} syn2mas {step}: {why}")]
    Run {
        program: PathBuf,
        step: &'static str,
        why: String,
    },
    #[error(
        "`syn2mas {step}` stopped ({status}): fix what it reports above, then run this again; \
         nothing was migrated{}",
        if *.step == "migrate" { " unless it said otherwise" } else { "" }
    )]
    Refused { step: &'static str, status: String },
    #[error(
        "`syn2mas check` warns (above): read each warning; to go on anyway, add \
         --accept-warnings. Nothing was migrated"
    )]
    Warnings,
}

/// How long `syn2mas check` may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(600);

/// Checks, and with `req.migrate` migrates, then verifies; `say` shows what happens.
pub fn run(req: &Request, say: &mut dyn Write) -> Result<Outcome, MigrateError> {
    let mas = files::load_mas(&req.mas)?;
    let rights = mas.rights();
    let side = match &req.synapse {
        SynapseSide::Files(given) => {
            let config = files::load_synapse(given, &files::synapse_paths(given)?)?;
            migration::syn2mas_side(config.layers.value())
        }
        SynapseSide::Piped(v) => v.clone(),
    };
    let text =
        serde_json::to_string_pretty(&side).map_err(|e| MigrateError::Side(e.to_string()))?;
    let root = Document::parse(text.clone(), Options::PYYAML)
        .map_err(|e| MigrateError::Side(e.to_string()))?
        .value()
        .clone();
    let db = users::database(&root);
    if !matches!(db, Database::Postgres(_)) {
        return Err(MigrateError::NotPostgres(match &db {
            Database::Sqlite { path } => format!("SQLite ({path})"),
            _ => "not PostgreSQL".into(),
        }));
    }
    let program = mas_cli::program(&req.mas_cli).ok_or(MigrateError::NoMasCli)?;
    let mas_files: Vec<PathBuf> = mas.files.iter().map(|f| f.target.clone()).collect();
    let mut outcome = Outcome {
        synapse_url: root
            .get("public_baseurl")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..Default::default()
    };
    {
        let scratch = Scratch::new(&rights, &text)?;
        let tool = Tool {
            program: &program,
            mas: &mas_files,
            synapse: &scratch.file(),
            rights: &rights,
        };
        let _ = writeln!(
            say,
            "MAS's migration tool ({}): syn2mas check",
            program.display()
        );
        match tool.step("check", CHECK_TIMEOUT)? {
            Step::Clean => {}
            Step::Warned if req.accept_warnings => {}
            Step::Warned => return Err(MigrateError::Warnings),
        }
        if !req.migrate {
            return Ok(outcome);
        }
        let _ = writeln!(
            say,
            "MAS's migration tool: syn2mas migrate (Synapse must be stopped)"
        );
        tool.step("migrate", req.timeout)?;
        outcome.migrated = true;
    }
    verify(&db, &mas, &rights, &mut outcome)?;
    Ok(outcome)
}

/// Whether MAS now holds every active local user of Synapse and every SSO link.
fn verify(
    db: &Database,
    mas: &files::Config,
    rights: &Rights,
    outcome: &mut Outcome,
) -> Result<(), MigrateError> {
    let synapse = database::synapse_people(db, rights)?;
    let held = database::mas_people(&migration::mas_database(mas.layers.value()), rights)?;
    let providers: BTreeMap<String, String> =
        match mas.layers.value().at(&["upstream_oauth2", "providers"]) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(|p| {
                    let idp = p.get("synapse_idp_id")?.as_str()?;
                    let uuid = migration::ulid_to_uuid(p.get("id")?.as_str()?)?;
                    Some((idp.to_owned(), uuid))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
    outcome.synapse_users = synapse.users.len();
    outcome.synapse_links = synapse.links.len();
    outcome.missing = migration::missing(&synapse, &held, &providers);
    Ok(())
}

/// How a `syn2mas` step ended, when it did not stop.
enum Step {
    Clean,
    /// Exit 11: warnings to weigh before migrating.
    Warned,
}

/// MAS's `mas-cli` as the migration runs it.
struct Tool<'a> {
    program: &'a Path,
    mas: &'a [PathBuf],
    synapse: &'a Path,
    rights: &'a Rights,
}

impl Tool<'_> {
    /// `mas-cli syn2mas STEP --config …  --synapse-config …`, its output shown as it comes.
    fn step(&self, step: &'static str, timeout: Duration) -> Result<Step, MigrateError> {
        let mut command = Command::new(self.program);
        command.args(["syn2mas", step]);
        for m in self.mas {
            command.arg("--config").arg(m);
        }
        command
            .arg("--synapse-config")
            .arg(self.synapse)
            .current_dir(self.synapse.parent().unwrap_or(Path::new("/")))
            .env_clear()
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1");
        let status =
            process::run_shown(command, timeout, self.rights).map_err(|e| MigrateError::Run {
                program: self.program.to_owned(),
                step,
                why: e.to_string(),
            })?;
        match status.code() {
            Some(0) => Ok(Step::Clean),
            // `syn2mas check`'s exit for warnings only (MAS's EXIT_CODE_CHECK_WARNINGS).
            Some(11) if step == "check" => Ok(Step::Warned),
            _ => Err(MigrateError::Refused {
                step,
                status: status.to_string(),
            }),
        }
    }
}

/// The private folder that holds Synapse's side while `syn2mas` runs.
struct Scratch {
    dir: PathBuf,
}

/// Its name, `mas-link-syn2mas-PID-XXXXXX` in the system's temporary folder.
const SCRATCH_PREFIX: &str = "mas-link-syn2mas-";

impl Scratch {
    /// Made by the configuration's owner (whose rights `syn2mas` runs with): the folder 0700,
    /// `homeserver.yaml` in it 0600. Leftovers of killed runs go first; an interrupt (Ctrl-C)
    /// removes it too.
    fn new(rights: &Rights, text: &str) -> Result<Scratch, MigrateError> {
        use std::os::unix::fs::OpenOptionsExt;
        let base = std::env::temp_dir();
        remove_leftovers(&base);
        let dir = rights.run(|| -> std::io::Result<PathBuf> {
            let dir = tempfile::Builder::new()
                .prefix(&format!("{SCRATCH_PREFIX}{}-", std::process::id()))
                .tempdir_in(&base)?
                .keep();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(dir.join("homeserver.yaml"))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            Ok(dir)
        })?;
        let dir = dir.map_err(MigrateError::Scratch)?;
        let on_interrupt = dir.clone();
        let _ = ctrlc::set_handler(move || {
            let _ = std::fs::remove_dir_all(&on_interrupt);
            std::process::exit(130);
        });
        Ok(Scratch { dir })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("homeserver.yaml")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes the private folders of runs that no longer run (killed before they could).
fn remove_leftovers(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(SCRATCH_PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists();
        let is_dir = e.path().symlink_metadata().is_ok_and(|m| m.is_dir());
        if !alive && is_dir {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_runs_folder_is_removed_and_a_live_ones_kept() {
        let base = tempfile::tempdir().unwrap();
        let dead = base.path().join(format!("{SCRATCH_PREFIX}999999999-abc"));
        let live = base
            .path()
            .join(format!("{SCRATCH_PREFIX}{}-abc", std::process::id()));
        for d in [&dead, &live] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("homeserver.yaml"), "x").unwrap();
        }
        let other = base.path().join("unrelated");
        std::fs::create_dir(&other).unwrap();
        remove_leftovers(base.path());
        assert!(!dead.exists() && live.exists() && other.exists());
    }
}

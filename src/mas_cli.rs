//! MAS's own verdict, where MAS is installed: `mas-cli config check` on a configuration's
//! files, as MAS itself merges and reads them. mas-link asks it as it asks Synapse's loader:
//! its refusal stands over mas-link's own MAS rules, and a planned file it refuses is not
//! written.
//!
//! `mas-cli` is, in order: `--mas-cli` / `MAS_LINK_MAS_CLI` (`none` turns it off), `mas-cli`
//! on PATH, then the known places: MAS's own image, the Cloudron app.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::plan::Proposal;
use crate::process;
use crate::rights::Rights;
use crate::rules::layers::Layers;
use crate::rules::mas;

/// Where `mas-cli` is installed by the layouts mas-link knows: MAS's image, Cloudron's app.
pub const KNOWN_PLACES: &[&str] = &["/usr/local/bin/mas-cli", "/app/code/mas-cli"];

/// `config check` answers in well under a second; this long, and it is stopped.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What is read of its output: its messages are a few lines.
const OUTPUT_LIMIT: u64 = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum MasCliError {
    #[error(
        "MAS's own `mas-cli config check` ({version}) refuses the planned configuration; nothing was written:\n{message}"
    )]
    Refused { version: String, message: String },
    #[error("running {program} (MAS's `mas-cli`): {why}")]
    Run { program: PathBuf, why: String },
    #[error("writing the planned configuration for `mas-cli config check`: {0}")]
    Temp(std::io::Error),
}

pub use crate::process::Setting;

/// MAS's answer on a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub program: PathBuf,
    pub version: String,
    /// MAS's message when it refuses, and the keys it names (`for key "default.a.b"`).
    pub refusal: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub path: Vec<String>,
}

/// What came of asking for `mas-cli`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Off,
    NotFound(Vec<PathBuf>),
    /// Found, but the configuration's owner (whose rights it runs with) cannot run it.
    Unrunnable {
        program: PathBuf,
        who: String,
        why: String,
    },
    By(Verdict),
}

impl Judged {
    /// One line for the output: whether MAS's own check was used, and how it answered.
    pub fn describe(&self) -> String {
        match self {
            Judged::Off => "MAS's own config check: not used (`none`); the verdict is \
                            mas-link's own rules"
                .into(),
            Judged::NotFound(tried) => format!(
                "MAS's own config check: not found (no mas-cli on PATH{}); the verdict is \
                 mas-link's own rules. Set MAS_LINK_MAS_CLI to MAS's mas-cli (check and mas also take \
                 --mas-cli PATH) to use it",
                tried
                    .iter()
                    .map(|p| format!(", {}", p.display()))
                    .collect::<String>()
            ),
            Judged::Unrunnable { program, who, why } => format!(
                "MAS's own config check: {} cannot be run with the rights of the \
                 configuration's owner, {who} ({why}); mas-link never runs it as root for \
                 another user's files, so the verdict is mas-link's own rules",
                program.display()
            ),
            Judged::By(v) => format!(
                "MAS's own config check ({}, {}): {}",
                v.version,
                v.program.display(),
                match &v.refusal {
                    None => "accepts the configuration",
                    Some(_) => "refuses the configuration",
                }
            ),
        }
    }
}

/// The `mas-cli` this run uses: the one given, else the first found where `check` looks.
pub fn program(setting: &Setting) -> Option<PathBuf> {
    candidates(setting).into_iter().next()
}

/// The programs to try: the one given, else `mas-cli` on PATH and the known places.
fn candidates(setting: &Setting) -> Vec<PathBuf> {
    match setting {
        Setting::Off => Vec::new(),
        // Absolute: a check of planned files runs in another folder.
        Setting::Given(p) => vec![std::path::absolute(p).unwrap_or(p.clone())],
        Setting::Search => {
            let on_path = std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|d| d.join("mas-cli"));
            on_path
                .chain(KNOWN_PLACES.iter().map(PathBuf::from))
                .filter(|p| p.is_file())
                .take(1)
                .collect()
        }
    }
}

/// `mas-cli config check` on the configuration's files, as they are on disk, with the rights
/// of their owner ([`Rights::of`]), in the first one's folder.
pub fn judge(setting: &Setting, files: &[PathBuf]) -> Result<Judged, MasCliError> {
    let dir = files
        .first()
        .and_then(|f| std::fs::canonicalize(f).ok())
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("/"));
    judge_in(setting, files, &dir, &Rights::of(files))
}

/// [`judge`], run in `dir` with `rights`.
fn judge_in(
    setting: &Setting,
    files: &[PathBuf],
    dir: &Path,
    rights: &Rights,
) -> Result<Judged, MasCliError> {
    let Some(program) = candidates(setting).into_iter().next() else {
        return Ok(match setting {
            Setting::Off => Judged::Off,
            _ => Judged::NotFound(KNOWN_PLACES.iter().map(PathBuf::from).collect()),
        });
    };
    let at = Run {
        program: &program,
        dir,
        rights,
    };
    let unrunnable = |why: String| Judged::Unrunnable {
        program: program.clone(),
        who: rights.describe(),
        why,
    };
    let version = match at.version()? {
        Ok(v) => v,
        Err(why) => return Ok(unrunnable(why)),
    };
    let refusal = match at.check(files)? {
        Ok(r) => r,
        Err(why) => return Ok(unrunnable(why)),
    };
    Ok(Judged::By(Verdict {
        program,
        version,
        refusal,
    }))
}

/// MAS's own check on a proposal's planned files, before they are written: each written to a
/// private temporary folder under its own name (MAS names the file in its message), checked,
/// and removed. A refusal is an error, with MAS's message (secrets masked).
pub fn vet(setting: &Setting, p: &Proposal) -> Result<Option<Judged>, MasCliError> {
    if !p.changed() {
        return Ok(None);
    }
    if candidates(setting).is_empty() {
        // Off, or not found: nothing to run.
        return judge(setting, &[]).map(Some);
    }
    // Root's own folder, private while it is written; given to the owner (deepest first, no
    // link followed) once written, for a check with the owner's rights.
    let dir = tempfile::tempdir().map_err(MasCliError::Temp)?;
    let rights = Rights::of(
        &p.files
            .iter()
            .map(|f| f.file.target.clone())
            .collect::<Vec<_>>(),
    );
    let after = p.after(mas::layers);
    let mut paths = Vec::new();
    for (i, layer) in after.layers().iter().enumerate() {
        // Two files of one name (in two folders) each get their own subfolder.
        let name = p.files[i]
            .file
            .target
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "config.yaml".into());
        let folder = PathBuf::from(i.to_string());
        std::fs::create_dir(dir.path().join(&folder)).map_err(MasCliError::Temp)?;
        let path = folder.join(name);
        std::fs::write(dir.path().join(&path), layer.doc.text()).map_err(MasCliError::Temp)?;
        give(&rights, &dir.path().join(&path))?;
        give(&rights, &dir.path().join(&folder))?;
        paths.push(path);
    }
    give(&rights, dir.path())?;
    // Run in the folder, on `0/config.yaml`…: MAS's message names them so, as given.
    let judged = judge_in(setting, &paths, dir.path(), &rights)?;
    if let Judged::By(v) = &judged
        && let Some(r) = &v.refusal
    {
        let mut message = masked(&r.message, &after);
        for (i, f) in p.files.iter().enumerate() {
            let temp = paths[i].display().to_string();
            message = message.replace(&temp, &f.file.target.display().to_string());
        }
        return Err(MasCliError::Refused {
            version: v.version.clone(),
            message,
        });
    }
    Ok(Some(judged))
}

/// A file or folder root made for the check, handed to the owner whose rights it runs with.
fn give(rights: &Rights, path: &Path) -> Result<(), MasCliError> {
    match rights {
        Rights::Owner(u) => {
            std::os::unix::fs::lchown(path, Some(u.uid), Some(u.gid)).map_err(MasCliError::Temp)
        }
        Rights::Own | Rights::Several(_) => Ok(()),
    }
}

/// `mas-cli` as this check runs it: where, and as whom.
struct Run<'a> {
    program: &'a Path,
    dir: &'a Path,
    rights: &'a Rights,
}

/// What a run gave, or (inner `Err`) why the owner could not run it.
type Outcome<T> = Result<Result<T, String>, MasCliError>;

impl Run<'_> {
    /// `mas-cli --version`'s answer (`mas-cli v1.22.0`).
    fn version(&self) -> Outcome<String> {
        let (ok, out, err) = match self.run(&["--version"])? {
            Ok(ran) => ran,
            Err(why) => return Ok(Err(why)),
        };
        let line = out.lines().next().unwrap_or("").trim().to_owned();
        match ok && !line.is_empty() {
            true => Ok(Ok(line)),
            false => Err(MasCliError::Run {
                program: self.program.to_owned(),
                why: format!("`--version` gave no version: {}", tail(&err)),
            }),
        }
    }

    /// `config check -c FILE…`: `None` when MAS accepts, else its refusal.
    fn check(&self, files: &[PathBuf]) -> Outcome<Option<Refusal>> {
        let mut args = vec!["config".to_owned(), "check".to_owned()];
        for f in files {
            args.push("-c".into());
            args.push(f.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, err) = match self.run(&args)? {
            Ok(ran) => ran,
            Err(why) => return Ok(Err(why)),
        };
        if ok {
            return Ok(Ok(None));
        }
        let message = refusal_message(&err).ok_or_else(|| MasCliError::Run {
            program: self.program.to_owned(),
            why: format!("`config check` failed without a message: {}", tail(&err)),
        })?;
        Ok(Ok(Some(Refusal {
            path: key_of(&message),
            message,
        })))
    }

    /// Runs `program args…` with no environment of ours (MAS reads none for a check; nothing
    /// of this run's leaks to it), under [`TIMEOUT`], each output read up to
    /// [`OUTPUT_LIMIT`]. The inner `Err`: the owner whose rights it runs with cannot run it.
    fn run(&self, args: &[&str]) -> Outcome<(bool, String, String)> {
        let mut command = Command::new(self.program);
        command
            .current_dir(self.dir)
            .args(args)
            .env_clear()
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0")
            .env("NO_COLOR", "1");
        match process::run(command, None, TIMEOUT, OUTPUT_LIMIT, self.rights) {
            Ok(ran) => Ok(Ok((ran.success, ran.out, ran.err))),
            Err(process::NotRun::Start(why)) if *self.rights != Rights::Own => Ok(Err(why)),
            Err(e) => Err(MasCliError::Run {
                program: self.program.to_owned(),
                why: e.to_string(),
            }),
        }
    }
}

/// MAS's message: the `Error:` line and the causes after it, without the backtrace.
pub fn refusal_message(stderr: &str) -> Option<String> {
    let start = stderr.find("Error: ")?;
    let lines: Vec<&str> = stderr[start + 7..]
        .lines()
        .take_while(|l| !l.starts_with("Stack backtrace") && !l.starts_with("Location:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Some(lines.join(" "))
}

/// The keys a message names: `for key "default.secrets.encryption"` → `secrets.encryption`.
pub fn key_of(message: &str) -> Vec<String> {
    let Some(at) = message.find("for key \"default.") else {
        return Vec::new();
    };
    let rest = &message[at + 17..];
    let end = rest.find('"').unwrap_or(rest.len());
    rest[..end].split('.').map(str::to_owned).collect()
}

/// The last lines of a program's error output, for an error that has no message of its own.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// MAS's message with the configuration's secret values masked (its type errors may quote
/// the value they refuse).
pub fn masked(message: &str, cfg: &Layers) -> String {
    let mut out = message.to_owned();
    for l in cfg.layers() {
        let text = l.doc.text();
        for (from, to) in l.doc.secret_spans(&mas::is_secret_key) {
            let value = text[from..to].trim_matches(|c| c == '"' || c == '\'');
            if value.len() >= 4 {
                out = out.replace(value, crate::yaml::MASK);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mas_messages() {
        let err = "2026-12-03T00:17:11Z  INFO mas_cli::commands::config:70 Reading\n\
                   Error: invalid length for key \"default.clients.0.client_id\" in c.yaml YAML file\n\
                   \nStack backtrace:\n   0: <unknown>\n";
        let m = refusal_message(err).unwrap();
        assert_eq!(
            m,
            "invalid length for key \"default.clients.0.client_id\" in c.yaml YAML file"
        );
        assert_eq!(key_of(&m), ["clients", "0", "client_id"]);
        assert_eq!(
            refusal_message("Error: missing field `secrets`\n").unwrap(),
            "missing field `secrets`"
        );
        assert!(key_of("missing field `secrets`").is_empty());
        assert!(refusal_message("INFO only\n").is_none());
    }
}

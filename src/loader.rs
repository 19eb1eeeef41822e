//! Synapse's own config loader, where Synapse is installed: the authority on whether Synapse
//! starts with a configuration. mas-link hands it the texts (planned ones too, before they are
//! written) through a small script run by Synapse's Python (`loader.py`, built in).
//!
//! Synapse's Python is, in order: `--synapse-python` / `MAS_LINK_SYNAPSE_PYTHON` (`none` turns
//! the loader off), a `python3` on PATH that imports `synapse`, then the known places:
//! Cloudron's app, Debian's package, the official Docker image.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::plan::Proposal;
use crate::process;
use crate::rights::Rights;
use crate::rules::layers::Layers;
use crate::rules::release::{Known, Release};
use crate::rules::synapse;

const SCRIPT: &str = include_str!("loader.py");

/// Where Synapse's Python is installed by the layouts mas-link knows.
pub const KNOWN_PLACES: &[&str] = &[
    "/app/code/env/bin/python",
    "/opt/venvs/matrix-synapse/bin/python",
    "/usr/local/bin/python",
];

/// Synapse's loader is given this long (it takes about 2.5 s) before it is stopped.
const TIMEOUT: Duration = Duration::from_secs(120);

/// What is read of its output: one line of verdict, and Python's messages.
const OUTPUT_LIMIT: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    #[error(
        "Synapse's own config loader (Synapse {version}) refuses the planned configuration; \
         nothing was written:\n{message}"
    )]
    Refused { version: String, message: String },
    #[error("running Synapse's loader with {python}: {why}")]
    Run { python: PathBuf, why: String },
    #[error("{python} does not import Synapse (`import synapse` fails): {hint}")]
    NoSynapse { python: PathBuf, hint: &'static str },
    #[error("--synapse-version {0}: not a Synapse release (give one such as 1.144.0)")]
    Version(String),
    /// mas-link's own bridge failed: no verdict of Synapse's, and not a refusal.
    #[error(
        "mas-link's bridge to Synapse {version}'s config loader ({python}) failed: {message}. \
         This is a fault of mas-link's, not a refusal of Synapse's; nothing was written. Report \
         it with Synapse's version; meanwhile --synapse-python none (MAS_LINK_SYNAPSE_PYTHON=none) \
         judges with mas-link's own rules"
    )]
    Bridge {
        python: PathBuf,
        version: String,
        message: String,
    },
}

const HINT: &str = "give the Python of Synapse's install with --synapse-python PATH \
    (MAS_LINK_SYNAPSE_PYTHON), or `none` to use mas-link's own rules";

/// Synapse's answer on a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub python: PathBuf,
    pub version: String,
    /// Synapse's message when it refuses, and the keys it names.
    pub refusal: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub path: Vec<String>,
}

pub use crate::process::Setting;

#[derive(Debug, Deserialize)]
struct Answer {
    synapse: Option<String>,
    #[serde(default)]
    ok: bool,
    error: Option<String>,
    path: Option<Vec<String>>,
    bridge: Option<String>,
}

/// The Pythons to try for a search: `python3` on PATH, then the known places; only those
/// with a `synapse` package in their site folders, so that a host without Synapse starts no
/// Python at all.
fn candidates() -> Vec<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("python3"))
        .find(|p| p.is_file());
    on_path
        .into_iter()
        .chain(KNOWN_PLACES.iter().map(PathBuf::from))
        .filter(|p| p.is_file() && has_synapse_package(p))
        .collect()
}

/// Whether a `synapse` package sits where this Python looks for packages: its prefix's
/// `lib/python3*/{site,dist}-packages` (venvs, /usr/local, Docker) or Debian's
/// `lib/python3/dist-packages`. Not the user's site: the loader runs isolated (`-I`), which
/// does not look there.
fn has_synapse_package(python: &Path) -> bool {
    let Some(prefix) = python.parent().and_then(Path::parent) else {
        return false;
    };
    std::fs::read_dir(prefix.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .any(|e| {
            ["site-packages", "dist-packages"]
                .iter()
                .any(|d| e.path().join(d).join("synapse").is_dir())
        })
}

/// Runs Synapse's loader on the configuration's texts, with the first Python of `setting`
/// that imports Synapse, with the rights of the files' owner ([`Rights::of`]). `NotFound`: no
/// Python with Synapse was found (it lists where it looked); `Unrunnable`: the owner cannot
/// run the one found.
pub fn judge(setting: &Setting, cfg: &Layers, files: &[PathBuf]) -> Result<Judged, LoaderError> {
    judge_with(setting, files, || request(cfg, files))
}

/// [`judge`], with the request made only once a Python is there to answer it.
fn judge_with(
    setting: &Setting,
    files: &[PathBuf],
    request: impl FnOnce() -> String,
) -> Result<Judged, LoaderError> {
    let pythons = match setting {
        Setting::Off => return Ok(Judged::Off),
        Setting::Given(python) => vec![python.clone()],
        Setting::Search => candidates(),
    };
    if pythons.is_empty() {
        return Ok(Judged::NotFound(pythons));
    }
    let rights = Rights::of(files);
    let at = Run {
        request: request(),
        dir: folder_of(files),
        rights: &rights,
    };
    let mut unrunnable = None;
    for python in &pythons {
        match at.run(python) {
            Ok(Answered::By(v)) => return Ok(Judged::By(v)),
            Ok(Answered::Unrunnable(why)) => {
                unrunnable.get_or_insert(Judged::Unrunnable {
                    program: python.clone(),
                    who: rights.describe(),
                    why,
                });
            }
            Ok(Answered::NoSynapse) if matches!(setting, Setting::Given(_)) => {
                return Err(LoaderError::NoSynapse {
                    python: python.clone(),
                    hint: HINT,
                });
            }
            // A Python that cannot run, or has no Synapse after all, is passed over in a search;
            // a fault of the bridge's own is said wherever it happens.
            Err(e) if matches!(setting, Setting::Given(_)) => return Err(e),
            Err(e @ LoaderError::Bridge { .. }) => return Err(e),
            Ok(Answered::NoSynapse) | Err(_) => {}
        }
    }
    Ok(unrunnable.unwrap_or(Judged::NotFound(pythons)))
}

/// Synapse's release for these files: `given` (`--synapse-version`, MAS_LINK_SYNAPSE_VERSION)
/// when the operator says it; else the loader's Python's `synapse.__version__` (run isolated,
/// with the owner's rights, as the loader is); else the package metadata of an install found
/// without running it (a venv's, Debian's, Cloudron's `dist-info`). `None`: unknown.
pub fn release(
    setting: &Setting,
    files: &[PathBuf],
    given: Option<&str>,
) -> Result<Option<Known>, LoaderError> {
    if let Some(text) = given {
        let release = Release::parse(text).ok_or_else(|| LoaderError::Version(text.to_owned()))?;
        return Ok(Some(Known {
            release,
            text: text.trim().to_owned(),
            from: "--synapse-version / MAS_LINK_SYNAPSE_VERSION".into(),
        }));
    }
    let pythons = match setting {
        Setting::Off => Vec::new(),
        Setting::Given(p) => vec![p.clone()],
        Setting::Search => candidates(),
    };
    let rights = Rights::of(files);
    let dir = folder_of(files);
    for python in &pythons {
        let mut command = Command::new(python);
        command
            .args(["-I", "-c", "import synapse; print(synapse.__version__)"])
            .current_dir(&dir)
            .env_clear()
            .envs(environment());
        if let Ok(ran) = process::run(command, None, TIMEOUT, OUTPUT_LIMIT, &rights)
            && ran.success
            && let Some(text) = ran.out.lines().next()
            && let Some(release) = Release::parse(text)
        {
            return Ok(Some(Known {
                release,
                text: text.trim().to_owned(),
                from: format!("Synapse's Python, {}", python.display()),
            }));
        }
    }
    let places = pythons
        .iter()
        .cloned()
        .chain(KNOWN_PLACES.iter().map(PathBuf::from));
    Ok(places.filter_map(|p| package_release(&p)).next())
}

/// The release in the `matrix_synapse-X.dist-info` folder beside this Python's packages.
fn package_release(python: &Path) -> Option<Known> {
    let prefix = python.parent()?.parent()?;
    let libs = std::fs::read_dir(prefix.join("lib")).ok()?;
    libs.flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .flat_map(|e| {
            ["site-packages", "dist-packages"]
                .into_iter()
                .filter_map(move |d| std::fs::read_dir(e.path().join(d)).ok())
                .flatten()
                .flatten()
        })
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let text = name
                .strip_prefix("matrix_synapse-")?
                .strip_suffix(".dist-info")?
                .to_owned();
            Some(Known {
                release: Release::parse(&text)?,
                text,
                from: format!("the package metadata, {}", e.path().display()),
            })
        })
}

/// The loader's working directory: the folder of the files it judges (Synapse's default for
/// its keys, and theirs or root's), never one a third user controls; `/` when there is none.
fn folder_of(files: &[PathBuf]) -> PathBuf {
    files
        .last()
        .and_then(|f| std::fs::canonicalize(f).ok())
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Synapse's own loader on a proposal's planned configuration, before it is written: a
/// refusal is an error, with Synapse's message (secrets masked).
pub fn vet(setting: &Setting, p: &Proposal) -> Result<Option<Judged>, LoaderError> {
    if !p.changed() {
        return Ok(None);
    }
    let paths: Vec<PathBuf> = p.files.iter().map(|f| f.file.target.clone()).collect();
    let mut after = None;
    let judged = judge_with(setting, &paths, || {
        let cfg = after.insert(p.after(Layers::new));
        request(cfg, &paths)
    })?;
    if let (Judged::By(v), Some(after)) = (&judged, &after)
        && let Some(r) = &v.refusal
    {
        return Err(LoaderError::Refused {
            version: v.version.clone(),
            message: masked(&r.message, after),
        });
    }
    Ok(Some(judged))
}

/// What came of asking for Synapse's loader.
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
    /// One line for the output: whether the loader was used, and how it answered.
    pub fn describe(&self) -> String {
        match self {
            Judged::Off => "Synapse's own config loader: not used (--synapse-python none); \
                            the verdict is mas-link's own rules"
                .into(),
            Judged::NotFound(tried) => format!(
                "Synapse's own config loader: not found (no Python that imports synapse{}); \
                 the verdict is mas-link's own rules. Set MAS_LINK_SYNAPSE_PYTHON to \
                 Synapse's Python to use it",
                match tried.is_empty() {
                    true => String::new(),
                    false => format!(
                        " among {}",
                        tried
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            ),
            Judged::Unrunnable { program, who, why } => format!(
                "Synapse's own config loader: {} cannot be run with the rights of the \
                 configuration's owner, {who} ({why}); mas-link never runs it as root for \
                 another user's files, so the verdict is mas-link's own rules",
                program.display()
            ),
            Judged::By(v) => format!(
                "Synapse's own config loader (Synapse {}, {}): {}",
                v.version,
                v.python.display(),
                match &v.refusal {
                    None => "accepts the configuration",
                    Some(_) => "refuses the configuration",
                }
            ),
        }
    }
}

/// The JSON request: each file's path and text, and the folders Synapse resolves against.
fn request(cfg: &Layers, files: &[PathBuf]) -> String {
    let list: Vec<serde_json::Value> = cfg
        .layers()
        .iter()
        .zip(files)
        .map(|(l, path)| serde_json::json!({"path": path, "text": l.doc.text()}))
        .collect();
    // Synapse's default folder for keys is the last config file's.
    let keys_dir = files
        .last()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let data_dir = std::env::current_dir().unwrap_or_default();
    serde_json::json!({"files": list, "keys_dir": keys_dir, "data_dir": data_dir}).to_string()
}

/// One request to the loader, and where and as whom it runs.
struct Run<'a> {
    request: String,
    dir: PathBuf,
    rights: &'a Rights,
}

/// How a Python answered.
enum Answered {
    By(Verdict),
    /// It imports no Synapse.
    NoSynapse,
    /// It cannot be run (or cannot import Synapse) with the owner's rights.
    Unrunnable(String),
}

/// What the loader's Python is given of this run's environment: a plain PATH and Synapse's
/// own settings, nothing else (`-I` ignores `PYTHON*` too).
fn environment() -> impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)> {
    let fixed = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
    ]
    .map(|(k, v)| (k.into(), v.into()));
    let synapse = std::env::vars_os().filter(|(k, _)| k.to_string_lossy().starts_with("SYNAPSE_"));
    fixed.into_iter().chain(synapse)
}

impl Run<'_> {
    /// Runs the script with `python`, isolated (`-I`: neither the working directory nor the
    /// script's folder on `sys.path`, no `PYTHON*` variables, no user site), in the files'
    /// folder, with the owner's rights.
    fn run(&self, python: &Path) -> Result<Answered, LoaderError> {
        let fail = |why: String| LoaderError::Run {
            python: python.to_owned(),
            why,
        };
        // The texts may hold secrets: they go through the pipe, never argv.
        let mut command = Command::new(python);
        command
            .args(["-I", "-c", SCRIPT])
            .current_dir(&self.dir)
            .env_clear()
            .envs(environment());
        let owners = *self.rights != Rights::Own;
        let ran = match process::run(
            command,
            Some(self.request.clone()),
            TIMEOUT,
            OUTPUT_LIMIT,
            self.rights,
        ) {
            Ok(ran) => ran,
            Err(process::NotRun::Start(why)) if owners => return Ok(Answered::Unrunnable(why)),
            Err(e) => return Err(fail(e.to_string())),
        };
        let (status, out, err) = (ran.status, ran.out, ran.err);
        let line = out.lines().last().unwrap_or("");
        let answer: Answer = serde_json::from_str(line).map_err(|_| {
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            fail(format!(
                "{status}, no verdict: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ))
        })?;
        if let (Some(version), Some(message)) = (&answer.synapse, answer.bridge) {
            return Err(LoaderError::Bridge {
                python: python.to_owned(),
                version: version.clone(),
                message,
            });
        }
        let Some(version) = answer.synapse else {
            return Ok(match owners {
                true => Answered::Unrunnable("`import synapse` fails with these rights".into()),
                false => Answered::NoSynapse,
            });
        };
        Ok(Answered::By(Verdict {
            python: python.to_owned(),
            version,
            refusal: (!answer.ok).then(|| Refusal {
                message: answer.error.unwrap_or_default(),
                path: answer.path.unwrap_or_default(),
            }),
        }))
    }
}

/// Synapse's message with the configuration's secret values masked: its type errors quote
/// the value they refuse (`input_value=…`).
pub fn masked(message: &str, cfg: &Layers) -> String {
    let mut out = message.to_owned();
    for l in cfg.layers() {
        let text = l.doc.text();
        for (from, to) in l.doc.secret_spans(&synapse::is_secret_key) {
            let value = text[from..to].trim_matches(|c| c == '"' || c == '\'');
            if value.len() >= 4 {
                out = out.replace(value, crate::yaml::MASK);
            }
        }
    }
    out
}

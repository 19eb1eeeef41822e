//! Reading what the rules need: a config file under the size limit, the secret files configs
//! name, mas-link's record. Every command reads through here, so every one has the same limit
//! and the same way of naming a file in an error.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::rights::{Rights, RightsError};
use crate::rules::FileState;
use crate::rules::layers::{Layer, Layers};
use crate::rules::mas::{self, Bundle, MasConfig, MasError};
use crate::rules::record::{self, Record};
use crate::rules::synapse;
use crate::yaml::{self, Document, Options, Value};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is {bytes} bytes, over the {limit}-byte limit; nothing was read")]
    TooLarge {
        path: PathBuf,
        bytes: u64,
        limit: usize,
    },
    #[error("{path}:{error}")]
    Yaml {
        path: PathBuf,
        error: yaml::YamlError,
    },
    #[error(transparent)]
    Mas(#[from] MasError),
    #[error("{path}: no *.yaml file in this folder")]
    EmptyFolder { path: PathBuf },
    #[error("{path} is empty: it should hold the secret shared with MAS")]
    EmptySecret { path: PathBuf },
    #[error(
        "{path} is not a regular file (a device, a FIFO, a socket or a folder): mas-link reads \
         configurations and secrets only from regular files; nothing was read"
    )]
    NotRegular { path: PathBuf },
    /// Not the program's kind of file: empty, not a mapping, or the other program's.
    #[error("{path} {why}")]
    WrongFile { path: String, why: String },
    #[error(transparent)]
    NotOwners(Box<NotOwners>),
    #[error(transparent)]
    Rights(#[from] RightsError),
}

/// Root, on another user's configuration that names a file that user may not use.
#[derive(Debug, thiserror::Error)]
#[error(
    "{config} names {path} in {key}, which {who} cannot {verb} ({why}): mas-link uses a file a \
     configuration names with the rights of the configuration's owner; nothing was written, \
     printed or sent. Name a file its owner may {verb}, or give the secret on the command line \
     (--secret-file PATH)"
)]
pub struct NotOwners {
    pub config: String,
    pub path: PathBuf,
    pub key: &'static str,
    pub who: String,
    pub verb: &'static str,
    pub why: String,
}

/// Every secret value read so far (configs, secret files, what came through a pipe): output
/// masks them wherever they appear. Kept for the process: mas-link runs one command.
static HIDDEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Secrets shorter than this are masked only where their key is known (diffs, reports): a
/// shorter value would match ordinary text.
pub const HIDDEN_MIN_CHARS: usize = 8;

/// The secrets a pipe or the operator brought (a bundle line, an `sso` line, MAS_SECRET):
/// masked in output like those read from files.
pub fn hide_bundle(bundle: &Bundle) {
    hide(&bundle.secret);
}

/// The secrets of Synapse's side piped in: the providers' client secrets and the pepper.
pub fn hide_sso(side: &crate::rules::sso::SsoBundle) {
    for p in &side.providers {
        p.client_secret.iter().for_each(|s| hide(s));
    }
    side.pepper.iter().for_each(|s| hide(s));
    if let Some(v) = &side.syn2mas {
        hide_json(v);
    }
}

/// Every string in a piped JSON value: any may be a secret (a database password).
fn hide_json(v: &serde_json::Value) {
    match v {
        serde_json::Value::String(s) => hide(s),
        serde_json::Value::Array(a) => a.iter().for_each(hide_json),
        serde_json::Value::Object(o) => o.values().for_each(hide_json),
        _ => {}
    }
}

/// Adds a value to the secrets that output masks.
pub fn hide(value: &str) {
    let value = value.trim();
    if value.chars().count() >= HIDDEN_MIN_CHARS
        && let Ok(mut hidden) = HIDDEN.lock()
        && !hidden.iter().any(|h| h == value)
    {
        hidden.push(value.to_owned());
    }
}

/// The secrets output masks.
pub fn hidden() -> Vec<String> {
    HIDDEN.lock().map(|h| h.clone()).unwrap_or_default()
}

/// A file as read: the path given and the file it resolves to (through symlinks).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub target: PathBuf,
}

impl Loaded {
    /// Where it is, as the user named it.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the file behind `path`, refusing one over the size limit before reading it.
pub fn read(path: &Path) -> Result<(Loaded, Vec<u8>), ReadError> {
    let target = fs::canonicalize(path).map_err(io(path))?;
    let bytes = read_bounded(path, &target, yaml::MAX_BYTES)?;
    let loaded = Loaded {
        path: path.to_owned(),
        target,
    };
    Ok((loaded, bytes))
}

/// A regular file's bytes, at most `limit` of them: a device (`/dev/zero`), a FIFO (which would
/// wait for a writer) or a file that grows past the limit while it is read is refused.
fn read_bounded(path: &Path, target: &Path, limit: usize) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    if !fs::metadata(target).map_err(io(path))?.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
        });
    }
    // Opened without waiting (a FIFO swapped in would wait for a writer), judged as opened.
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(target)
        .map_err(io(path))?;
    let meta = file.metadata().map_err(io(path))?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
        });
    }
    let too_large = |bytes| ReadError::TooLarge {
        path: path.to_owned(),
        bytes,
        limit,
    };
    if meta.len() > limit as u64 {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io(path))?;
    if bytes.len() > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A secret file's text: a regular file, at most this many bytes (a secret is short).
const SECRET_LIMIT: usize = 64 * 1024;

/// Reads and parses a YAML file as its program reads it.
pub fn load(path: &Path, options: Options) -> Result<(Loaded, Document), ReadError> {
    let (loaded, bytes) = read(path)?;
    let doc = Document::from_vec(bytes, options).map_err(|error| ReadError::Yaml {
        path: path.to_owned(),
        error,
    })?;
    Ok((loaded, doc))
}

/// A configuration's files as read, in load order, with their merged meaning.
#[derive(Debug, Clone)]
pub struct Config {
    /// The paths as the user gave them (before folders were expanded), for printed commands.
    pub given: Vec<PathBuf>,
    pub files: Vec<Loaded>,
    pub layers: Layers,
}

impl Config {
    /// The files' names, for "read: …" lines and messages.
    pub fn names(&self) -> String {
        self.layers.names().join(", ")
    }

    /// The rights with which what the configuration names is opened and run: its owner's,
    /// when root reads another user's files.
    pub fn rights(&self) -> Rights {
        let targets: Vec<PathBuf> = self.files.iter().map(|f| f.target.clone()).collect();
        Rights::of(&targets)
    }
}

/// The files a folder given to Synapse stands for: its `*.yaml` regular files, sorted
/// (Synapse's `find_config_files`).
fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(".yaml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The files Synapse reads for these `-c` paths, in order: a folder stands for its `*.yaml`
/// files; one `homeserver.yaml` with a `conf.d/` beside it is Debian's layout, which the
/// package's service loads as `-c homeserver.yaml -c conf.d/`.
pub fn synapse_paths(given: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut search = given.to_vec();
    if let [one] = given
        && one.file_name().is_some_and(|n| n == "homeserver.yaml")
        && one.is_file()
    {
        let conf_d = one.with_file_name("conf.d");
        if conf_d.is_dir() {
            search.push(conf_d);
        }
    }
    let mut files = Vec::new();
    for path in search {
        match path.is_dir() {
            true => files.extend(yaml_files_in(&path)?),
            false => files.push(path),
        }
    }
    Ok(files)
}

/// Reads and parses files as one configuration, merged by `merge` (layers' rules).
pub fn load_config(
    given: &[PathBuf],
    paths: &[PathBuf],
    options: Options,
    merge: fn(Vec<Layer>) -> Layers,
) -> Result<Config, ReadError> {
    let mut files = Vec::new();
    let mut layers = Vec::new();
    for path in paths {
        let (loaded, doc) = load(path, options)?;
        layers.push(Layer {
            name: loaded.name(),
            doc,
        });
        files.push(loaded);
    }
    Ok(Config {
        given: given.to_vec(),
        files,
        layers: merge(layers),
    })
}

/// Synapse's configuration: the files [`synapse_paths`] found for the paths `given`.
pub fn load_synapse(given: &[PathBuf], paths: &[PathBuf]) -> Result<Config, ReadError> {
    if paths.is_empty() {
        return Err(ReadError::EmptyFolder {
            path: given.first().cloned().unwrap_or_default(),
        });
    }
    let config = load_config(given, paths, Options::PYYAML, Layers::new)?;
    hide_secrets(&config, synapse::is_secret_key);
    of_kind(config, synapse::not_a_homeserver_yaml)
}

/// MAS's configuration from its files, merged as MAS merges them.
pub fn load_mas(paths: &[PathBuf]) -> Result<Config, ReadError> {
    let config = load_config(paths, paths, Options::SERDE_YAML, mas::layers)?;
    hide_secrets(&config, mas::is_secret_key);
    of_kind(config, mas::not_a_mas_config)
}

/// Every secret value of every file of a configuration, for output to mask.
fn hide_secrets(config: &Config, is_secret: fn(&[&str]) -> bool) {
    for layer in config.layers.layers() {
        for s in crate::rules::secret_values(layer.doc.value(), &is_secret) {
            hide(&s);
        }
    }
}

/// The configuration, when it is of the kind `why_not` accepts: every command names the wrong
/// kind of file before it says anything else of it.
fn of_kind(config: Config, why_not: fn(&Value) -> Option<String>) -> Result<Config, ReadError> {
    match why_not(config.layers.value()) {
        Some(why) => Err(ReadError::WrongFile {
            path: config.names(),
            why,
        }),
        None => Ok(config),
    }
}

/// What a config's secret file holds, or why it cannot be read (a directory, a missing file).
pub fn state(path: &Path) -> FileState {
    state_or_denied(path).unwrap_or_else(|e| FileState::Unreadable(e.to_string()))
}

/// [`state`], but a file these rights may not read (or reach) is an error.
fn state_or_denied(path: &Path) -> Result<FileState, std::io::Error> {
    let denied = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::PermissionDenied => Err(e),
        _ => Ok(FileState::Unreadable(e.to_string())),
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return denied(e),
    };
    if !meta.is_file() {
        return Ok(FileState::Unreadable("not a regular file".into()));
    }
    Ok(match read_bounded(path, path, SECRET_LIMIT) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => {
                hide(&s);
                FileState::Contents(s)
            }
            Err(_) => FileState::Unreadable("not UTF-8 text".into()),
        },
        Err(ReadError::Io { source, .. }) => return denied(source),
        Err(e) => FileState::Unreadable(e.to_string()),
    })
}

/// A secret from a file, trimmed; an empty one is refused.
pub fn read_secret(path: &Path) -> Result<String, ReadError> {
    let bytes = read_bounded(path, path, SECRET_LIMIT)?;
    let s = String::from_utf8(bytes)
        .map_err(|e| io(path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    let s = s.trim().to_owned();
    hide(&s);
    if s.is_empty() {
        return Err(ReadError::EmptySecret {
            path: path.to_owned(),
        });
    }
    Ok(s)
}

/// A file a configuration names: which configuration, at which key, read with whose rights.
#[derive(Clone, Copy)]
pub struct Named<'a> {
    pub config: &'a Config,
    pub key: &'static str,
}

impl Named<'_> {
    /// Refused: the configuration's owner may not `verb` the file.
    pub fn refused(&self, path: &Path, verb: &'static str, why: String) -> ReadError {
        ReadError::NotOwners(Box::new(NotOwners {
            config: self.config.names(),
            path: path.to_owned(),
            key: self.key,
            who: self.config.rights().describe(),
            verb,
            why,
        }))
    }
}

/// What a secret file named in a config holds (relative paths from the working directory,
/// as the programs resolve them), read with the rights of the configuration's owner: one that
/// owner may not read is refused by name, never read with root's rights.
pub fn named_state(path: Option<&Path>, named: Named) -> Result<Option<FileState>, ReadError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let rights = named.config.rights();
    match rights.run(|| state_or_denied(path))? {
        Ok(state) => Ok(Some(state)),
        Err(e) if rights != Rights::Own => Err(named.refused(path, "read", e.to_string())),
        Err(e) => Ok(Some(FileState::Unreadable(e.to_string()))),
    }
}

/// Refuses a file the configuration's owner could not write (nor replace: its folder is
/// written too), when root writes for another user; a file that is not there yet needs its
/// folder only.
pub fn may_write(path: &Path, named: Named) -> Result<(), ReadError> {
    use rustix::fs::{Access, access};
    let rights = named.config.rights();
    if rights == Rights::Own {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    let result = rights.run(|| {
        match access(path, Access::WRITE_OK) {
            Err(e) if e != rustix::io::Errno::NOENT => return Err(e),
            _ => {}
        }
        access(dir, Access::WRITE_OK | Access::EXEC_OK)
    })?;
    result.map_err(|e| named.refused(path, "write", std::io::Error::from(e).to_string()))
}

/// Synapse's `secret_path` key, for messages.
pub const SECRET_PATH: &str = "matrix_authentication_service.secret_path";

/// What Synapse's `secret_path` holds, when the configuration names one.
pub fn synapse_secret_file(config: &Config) -> Result<Option<FileState>, ReadError> {
    let path = crate::rules::synapse::secret_path(config.layers.value()).map(Path::new);
    named_state(
        path,
        Named {
            config,
            key: SECRET_PATH,
        },
    )
}

/// What MAS's `matrix.secret_file` holds, when the configuration names one (a config MAS
/// cannot read names none: its findings say why).
pub fn mas_secret_file(config: &Config) -> Result<Option<FileState>, ReadError> {
    let Ok(mas) = MasConfig::read(&config.layers) else {
        return Ok(None);
    };
    named_state(
        mas::secret_file(&mas).map(PathBuf::as_path),
        Named {
            config,
            key: "matrix.secret_file",
        },
    )
}

/// What MAS's configuration says of the pairing, read as MAS reads it: its secret, public
/// URL and homeserver.
pub fn mas_bundle(paths: &[PathBuf]) -> Result<Bundle, ReadError> {
    let config = load_mas(paths)?;
    let file = mas_secret_file(&config)?;
    let cfg = config.layers;
    let mas = MasConfig::read(&cfg)?;
    let secret = mas::shared_secret(&mas, &cfg, file.as_ref())?;
    Ok(Bundle {
        endpoint: mas.http.and_then(|h| h.public_base),
        homeserver: mas.matrix.and_then(|m| m.homeserver),
        secret,
        providers: Some(crate::rules::sso::mas_providers(cfg.value())),
    })
}

/// The config files given, or the default (Cloudron's place) when none is given and it
/// exists.
pub fn given_or_default(given: &[PathBuf], default: &str) -> Option<Vec<PathBuf>> {
    match given {
        [] => Some(vec![PathBuf::from(default)]).filter(|_| Path::new(default).exists()),
        some => Some(some.to_vec()),
    }
}

/// MAS's files: those given, else `MAS_CONFIG` (paths separated by `:`, as MAS reads it),
/// else `default`.
pub fn mas_paths(given: &[PathBuf], env: Option<&str>, default: &str) -> Vec<PathBuf> {
    match (given, env) {
        ([], Some(list)) => list
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        ([], None) => vec![PathBuf::from(default)],
        (some, _) => some.to_vec(),
    }
}

/// The record kept beside a config, when there is one this version reads.
pub fn record(config: &Loaded) -> Option<Record> {
    let path = record::path_for(&config.target);
    // Never through a symlink, never without a bound: anyone who may edit the folder may
    // plant one.
    if fs::symlink_metadata(&path).ok()?.file_type().is_symlink() {
        return None;
    }
    Record::decode(&read_bounded(&path, &path, SECRET_LIMIT * 16).ok()?)
}

/// The backup a record names, when it is one mas-link made of `file`: in the same folder,
/// named `NAME.STAMP.bak` (or `NAME.STAMP-N.bak`), a regular file of its own (no symlink, no
/// other hard link). A record is advice anyone who may edit the folder can edit: what it
/// names is not taken on trust.
pub fn own_backup(file: &Loaded, backup: &Path) -> Option<PathBuf> {
    let name = file.target.file_name()?.to_str()?;
    (backup.parent()? == file.target.parent()?).then_some(())?;
    let stamp = backup
        .file_name()?
        .to_str()?
        .strip_prefix(&format!("{name}."))?
        .strip_suffix(".bak")?;
    let (time, n) = stamp.split_once('-').unwrap_or((stamp, "1"));
    let stamp_ok = time.len() == 16
        && time.ends_with('Z')
        && time.as_bytes()[8] == b'T'
        && time
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit());
    let meta = fs::symlink_metadata(backup).ok()?;
    (stamp_ok && meta.is_file() && meta.nlink() == 1).then(|| backup.to_owned())
}

/// The record of a link in force beside a file (not the one `unlink` leaves).
pub fn link_record(config: &Loaded) -> Option<Record> {
    record(config).filter(|r| !r.unlinked)
}

/// A new ULID for a MAS provider's `id`, from the clock and the OS's randomness.
pub fn new_ulid() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut random = [0u8; 10];
    // Without randomness the clock still orders them; a clash is refused by MAS at start.
    let _ = getrandom::getrandom(&mut random);
    crate::rules::sso::ulid(millis, &random)
}

/// A new secret for MAS from the OS's randomness, as `mas-cli config generate` makes one.
pub fn new_secret() -> std::io::Result<String> {
    let mut random = [0u8; 128];
    getrandom::getrandom(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
    let secret = mas::secret_from(&random)
        .ok_or_else(|| std::io::Error::other("the OS's randomness ran short"))?;
    hide(&secret);
    Ok(secret)
}

//! Reading what the rules need: a config file under the size limit, the secret files configs
//! name, mas-link's record. Every command reads through here, so every one has the same limit
//! and the same way of naming a file in an error.

use std::fs;
use std::path::{Path, PathBuf};

use crate::rules::FileState;
use crate::rules::mas::{self, Bundle, MasConfig, MasError};
use crate::rules::record::{self, Record};
use crate::yaml::{self, Document, Options};

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
    #[error("{path}:{}{error}", if error.located() { "" } else { " " })]
    Mas { path: PathBuf, error: MasError },
    #[error("{path} is empty: it should hold the secret shared with MAS")]
    EmptySecret { path: PathBuf },
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
    let size = fs::metadata(&target).map_err(io(path))?.len();
    if size > yaml::MAX_BYTES as u64 {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            bytes: size,
            limit: yaml::MAX_BYTES,
        });
    }
    let bytes = fs::read(&target).map_err(io(path))?;
    let loaded = Loaded {
        path: path.to_owned(),
        target,
    };
    Ok((loaded, bytes))
}

/// Reads and parses a YAML file as its program reads it.
pub fn load(path: &Path, options: Options) -> Result<(Loaded, Document), ReadError> {
    let (loaded, bytes) = read(path)?;
    let doc = Document::from_vec(bytes, options).map_err(|error| ReadError::Yaml {
        path: path.to_owned(),
        error,
    })?;
    Ok((loaded, doc))
}

/// What a config's secret file holds, or why it cannot be read (a directory, a missing file).
pub fn state(path: &Path) -> FileState {
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => FileState::Unreadable("not a regular file".into()),
        Ok(_) => match fs::read_to_string(path) {
            Ok(s) => FileState::Contents(s),
            Err(e) => FileState::Unreadable(e.to_string()),
        },
        Err(e) => FileState::Unreadable(e.to_string()),
    }
}

/// A secret from a file, trimmed; an empty one is refused.
pub fn read_secret(path: &Path) -> Result<String, ReadError> {
    let s = fs::read_to_string(path).map_err(io(path))?;
    let s = s.trim().to_owned();
    if s.is_empty() {
        return Err(ReadError::EmptySecret {
            path: path.to_owned(),
        });
    }
    Ok(s)
}

/// What a secret file named in a config holds (relative paths from the working directory,
/// as the programs resolve them).
pub fn named_state(path: Option<&Path>) -> Option<FileState> {
    path.map(state)
}

/// What the `secret_path` of a parsed homeserver.yaml holds, when it names one.
pub fn synapse_secret_file(doc: &Document) -> Option<FileState> {
    named_state(crate::rules::synapse::secret_path(doc).map(Path::new))
}

/// What the `matrix.secret_file` of a parsed MAS config holds, when it names one (a config
/// MAS cannot read names none: its findings say why).
pub fn mas_secret_file(doc: &Document) -> Option<FileState> {
    let config = MasConfig::read(doc).ok()?;
    named_state(mas::secret_file(&config).map(PathBuf::as_path))
}

/// What MAS's config says of the pairing, read as MAS reads it: its secret, public URL and
/// homeserver.
pub fn mas_bundle(path: &Path) -> Result<Bundle, ReadError> {
    let (_, doc) = load(path, Options::SERDE_YAML)?;
    let mas_error = |error| ReadError::Mas {
        path: path.to_owned(),
        error,
    };
    let config = MasConfig::read(&doc).map_err(mas_error)?;
    let file = named_state(mas::secret_file(&config).map(PathBuf::as_path));
    let secret = mas::shared_secret(&config, &doc, file.as_ref()).map_err(mas_error)?;
    Ok(Bundle {
        endpoint: config.http.and_then(|h| h.public_base),
        homeserver: config.matrix.and_then(|m| m.homeserver),
        secret,
    })
}

/// The config file given, or the default (Cloudron's place) when nothing is given and it
/// exists.
pub fn given_or_default(given: &Option<PathBuf>, default: &str) -> Option<PathBuf> {
    given
        .clone()
        .or_else(|| Some(PathBuf::from(default)).filter(|p| p.exists()))
}

/// The record kept beside a config, when there is one this version reads.
pub fn record(config: &Loaded) -> Option<Record> {
    Record::decode(&fs::read(record::path_for(&config.target)).ok()?)
}

/// A new secret for MAS from the OS's randomness, as `mas-cli config generate` makes one.
pub fn new_secret() -> std::io::Result<String> {
    let mut random = [0u8; 128];
    getrandom::getrandom(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
    mas::secret_from(&random).ok_or_else(|| std::io::Error::other("the OS's randomness ran short"))
}

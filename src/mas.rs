//! MAS's `config.yaml`, read the way MAS reads it: YAML 1.2 through serde (yaml_serde is
//! serde_yaml's maintained successor), unknown keys ignored, duplicate keys refused.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_CONFIG: &str = "/app/data/config.yaml";

#[derive(Debug, Default, Deserialize)]
pub struct MasConfig {
    #[serde(default)]
    pub matrix: Option<Matrix>,
    #[serde(default)]
    pub http: Option<Http>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Matrix {
    pub kind: Option<String>,
    pub homeserver: Option<String>,
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Http {
    pub public_base: Option<String>,
    pub issuer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MasError {
    #[error("{line}:{col}: {message}")]
    Parse {
        line: usize,
        col: usize,
        message: String,
    },
    #[error("no `matrix` section: MAS needs `matrix.secret` (run `mas-link mas` to write one)")]
    NoMatrix,
    #[error(
        "{line}:{col}: `matrix` has both `secret` and `secret_file`; MAS refuses that (\"Cannot specify both\"): keep one"
    )]
    BothSecrets { line: usize, col: usize },
    #[error(
        "{line}:{col}: `matrix` has neither `secret` nor `secret_file` (MAS: \"Missing `secret` or `secret_file`\"); run `mas-link mas` to generate one"
    )]
    NoSecret { line: usize, col: usize },
    #[error("{line}:{col}: `matrix.secret` is empty")]
    EmptySecret { line: usize, col: usize },
    #[error("reading matrix.secret_file {path}: {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl MasConfig {
    pub fn parse(text: &str) -> Result<MasConfig, MasError> {
        // An empty file is an empty config, as for MAS.
        if text.trim().is_empty() {
            return Ok(MasConfig::default());
        }
        yaml_serde::from_str(text).map_err(|e| {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            MasError::Parse {
                line,
                col,
                message: e.to_string(),
            }
        })
    }
}

/// Reads `matrix.secret`, or `matrix.secret_file`'s contents trimmed as MAS trims them.
/// `text` is the config's text (for error positions); relative paths resolve from `base`.
pub fn shared_secret(config: &MasConfig, text: &str, base: &Path) -> Result<String, MasError> {
    let at = |key: &[&str]| {
        let doc = crate::yaml::Document::parse(text.into(), crate::yaml::Options::SERDE_YAML).ok();
        let pos = doc.map(|d| d.locate(key)).unwrap_or_default();
        (pos.line.max(1), pos.col.max(1))
    };
    let matrix = config.matrix.as_ref().ok_or(MasError::NoMatrix)?;
    match (&matrix.secret, &matrix.secret_file) {
        (Some(_), Some(_)) => {
            let (line, col) = at(&["matrix", "secret_file"]);
            Err(MasError::BothSecrets { line, col })
        }
        (Some(s), None) if s.is_empty() => {
            let (line, col) = at(&["matrix", "secret"]);
            Err(MasError::EmptySecret { line, col })
        }
        (Some(s), None) => Ok(s.clone()),
        (None, Some(file)) => {
            let path = base.join(file);
            let contents =
                std::fs::read_to_string(&path).map_err(|source| MasError::SecretFile {
                    path: path.clone(),
                    source,
                })?;
            let s = contents.trim().to_owned();
            if s.is_empty() {
                let (line, col) = at(&["matrix", "secret_file"]);
                return Err(MasError::EmptySecret { line, col });
            }
            Ok(s)
        }
        (None, None) => {
            let (line, col) = at(&["matrix"]);
            Err(MasError::NoSecret { line, col })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> Result<String, MasError> {
        let c = MasConfig::parse(text)?;
        shared_secret(&c, text, Path::new("."))
    }

    #[test]
    fn reads_the_secret() {
        assert_eq!(secret("matrix:\n  secret: abc\n").unwrap(), "abc");
        assert_eq!(secret("matrix:\n  secret: 'yes'\n").unwrap(), "yes");
    }

    #[test]
    fn refuses_like_mas() {
        assert!(matches!(
            secret("matrix:\n  secret: a\n  secret_file: b\n"),
            Err(MasError::BothSecrets { line: 3, col: 3 })
        ));
        assert!(matches!(
            secret("matrix:\n  kind: synapse\n"),
            Err(MasError::NoSecret { line: 1, .. })
        ));
        assert!(matches!(secret("http: {}\n"), Err(MasError::NoMatrix)));
        assert!(matches!(
            secret("matrix:\n  secret: a\nmatrix:\n  secret: b\n"),
            Err(MasError::Parse { .. })
        ));
        assert!(matches!(
            secret("matrix:\n  secret: 12345\n"),
            Err(MasError::Parse { .. }) | Ok(_)
        ));
    }

    #[test]
    fn secret_file_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s"), "  abc\n").unwrap();
        let text = "matrix:\n  secret_file: s\n";
        let c = MasConfig::parse(text).unwrap();
        assert_eq!(shared_secret(&c, text, dir.path()).unwrap(), "abc");
    }
}

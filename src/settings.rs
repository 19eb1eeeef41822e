//! A run's settings, resolved once from the flags, the environment and the files, the same for
//! the commands and the wizard: which files, where the secret comes from and where it is
//! kept, MAS's endpoint, and where printed commands run (the files, Cloudron's two apps).
//! ripgrep resolves its arguments into settings once in the same way.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::files::{self, ReadError};
use crate::findings::{Cloudron, Source, Where, shell_word};
use crate::plan::file_words;
use crate::rules::FileState;
use crate::rules::mas::{self, Bundle};
use crate::rules::names::{check_url, host_of};
use crate::rules::synapse::{self, MAS};
use crate::rules::users::Syn2masAt;
use crate::yaml::Value;

/// Where the binary is in each Cloudron app (README: `cloudron push … /app/data/mas-link`).
pub const CLOUDRON_BIN: &str = "/app/data/mas-link";

/// An environment variable's value, when set and not empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error(
        "give the secret one way only: --mas-config, --secret-file, --secret-stdin or MAS_SECRET"
    )]
    TwoSecrets,
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Where MAS's shared secret comes from, as the operator gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretFrom {
    /// MAS's config on this host (with its URL and providers).
    MasConfig(Vec<PathBuf>),
    /// A file holding the secret.
    File(PathBuf),
    /// A pipe: the secret or a `mas-link secret --bundle` line.
    Stdin,
    /// `MAS_SECRET`.
    Env,
    /// Not given: the one Synapse's file already holds, if any.
    Kept,
}

impl SecretFrom {
    /// From the flags and `MAS_SECRET`: at most one way.
    pub fn resolve(
        mas_config: &[PathBuf],
        file: Option<&Path>,
        stdin: bool,
    ) -> Result<SecretFrom, SettingsError> {
        let from_env = env("MAS_SECRET");
        from_env.iter().for_each(|s| files::hide(s));
        let flag = !mas_config.is_empty() || file.is_some() || stdin;
        Ok(match (from_env, file) {
            (Some(_), _) if flag => return Err(SettingsError::TwoSecrets),
            (Some(_), _) => SecretFrom::Env,
            _ if !mas_config.is_empty() => SecretFrom::MasConfig(mas_config.to_vec()),
            (None, Some(file)) => SecretFrom::File(file.to_owned()),
            _ if stdin => SecretFrom::Stdin,
            _ => SecretFrom::Kept,
        })
    }

    /// The secret (with what MAS's side says) from a source that needs no terminal: `None`
    /// for [`SecretFrom::Kept`] and [`SecretFrom::Stdin`], which the caller reads its own way.
    pub fn read(&self) -> Result<Option<Bundle>, ReadError> {
        let bare = |secret: String| Bundle {
            secret,
            ..Default::default()
        };
        Ok(match self {
            SecretFrom::MasConfig(p) => Some(files::mas_bundle(p)?),
            SecretFrom::File(p) => Some(bare(files::read_secret(p)?)),
            SecretFrom::Env => env("MAS_SECRET").map(|s| bare(s.trim().to_owned())),
            SecretFrom::Stdin | SecretFrom::Kept => None,
        })
    }

    /// The words that give the secret the same way in a printed command.
    pub fn words(&self) -> Vec<String> {
        match self {
            SecretFrom::MasConfig(p) => file_words("--mas-config", p, ""),
            SecretFrom::File(p) => vec!["--secret-file".into(), p.display().to_string()],
            SecretFrom::Stdin => vec!["--secret-stdin".into()],
            SecretFrom::Env | SecretFrom::Kept => Vec::new(),
        }
    }
}

/// The secret Synapse's file already gives MAS, when no other source is named: a legacy
/// `msc3861.admin_token` (MAS holds it as its secret), the inline secret, or the file its
/// `secret_path` names (read with the rights of the file's owner). The second value says it
/// is the legacy token.
pub fn kept_secret(config: &files::Config) -> Result<Option<(String, bool)>, ReadError> {
    let root = config.layers.value();
    if let Some(token) = synapse::legacy_admin_token(root) {
        return Ok(Some((token, true)));
    }
    let inline = root.at(&[MAS, "secret"]).and_then(Value::as_str);
    if let Some(s) = inline.filter(|s| !s.is_empty()) {
        return Ok(Some((s.to_owned(), false)));
    }
    Ok(match files::synapse_secret_file(config)? {
        Some(FileState::Contents(s)) if !s.trim().is_empty() => Some((s.trim().to_owned(), false)),
        _ => None,
    })
}

/// Where Synapse reaches MAS: the flag, else `MAS_ENDPOINT`, else the endpoint already set
/// (an internal address such as `http://mas.internal:8080/` is kept), else MAS's public URL
/// from its side.
pub fn mas_endpoint(given: Option<&str>, root: &Value, bundle: Option<&Bundle>) -> Option<String> {
    let existing = root
        .at(&[MAS, "endpoint"])
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty() && check_url(e).is_ok());
    given
        .map(str::to_owned)
        .or_else(|| env("MAS_ENDPOINT"))
        .or_else(|| existing.map(str::to_owned))
        .or_else(|| bundle.and_then(|b| b.endpoint.clone()))
}

/// The Cloudron app this runs in (from `CLOUDRON_APP_ORIGIN`), by its domain.
pub fn cloudron_app() -> Option<String> {
    env("CLOUDRON_APP_ORIGIN").and_then(|o| host_of(&o).map(str::to_owned))
}

/// Where this run's printed commands run: the files it named and, on Cloudron, the app it
/// runs in (the side whose files are here), the other from its URL (see
/// [`other_app_url`](crate::rules::other_app_url)).
pub fn place(
    synapse: Option<&[PathBuf]>,
    mas: Option<&[PathBuf]>,
    other_url: Option<&str>,
) -> Where {
    let words = |paths: Option<&[PathBuf]>, flag: &str, default: &str| {
        paths
            .map(|p| file_words(flag, p, default))
            .unwrap_or_default()
    };
    let cloudron = cloudron_app().map(|here| Cloudron {
        here,
        here_side: match synapse.is_some() {
            true => Source::Synapse,
            false => Source::Mas,
        },
        other: other_url.and_then(host_of).map(str::to_owned),
        bin: CLOUDRON_BIN.into(),
    });
    Where {
        synapse_files: words(synapse, "--synapse-config", synapse::DEFAULT_CONFIG),
        mas_files: words(mas, "--mas-config", mas::DEFAULT_CONFIG),
        cloudron,
    }
}

/// What a run was given, resolved once: the files on each side, the secret's source and where
/// Synapse keeps it, the endpoints and the server name. Unset is `None`: the files and the
/// answers of the wizard fill in the rest, the same way for both.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub synapse: Option<Vec<PathBuf>>,
    pub mas: Option<Vec<PathBuf>>,
    pub secret: Option<SecretFrom>,
    /// Synapse's `secret_path` (absolute) instead of an inline secret.
    pub secret_path: Option<PathBuf>,
    /// Where Synapse reaches MAS.
    pub endpoint: Option<String>,
    /// Where MAS reaches Synapse.
    pub synapse_endpoint: Option<String>,
    /// Synapse's server_name, for MAS (`MATRIX_HOMESERVER_DOMAIN` when not given).
    pub homeserver: Option<String>,
}

impl Settings {
    /// Where the commands printed for this run go (see [`place`]).
    pub fn place(&self, other_url: Option<&str>) -> Where {
        place(self.synapse.as_deref(), self.mas.as_deref(), other_url)
    }

    /// The server name given, else `MATRIX_HOMESERVER_DOMAIN`.
    pub fn homeserver(&self) -> Option<String> {
        self.homeserver
            .clone()
            .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
    }
}

/// Where the migration's commands run, for the files given: `mas-link migrate` on this host
/// (both files here), or on Cloudron Synapse's side piped from its app into MAS's, read
/// before Synapse's app stops, so that no secret is typed or copied. `here` is the side whose
/// app this runs in; `other_url` names the other app.
pub fn syn2mas_at(
    synapse: &[PathBuf],
    mas: &[PathBuf],
    here_side: Source,
    other_url: Option<&str>,
) -> Syn2masAt {
    let mas_flags = file_words("--mas-config", mas, mas::DEFAULT_CONFIG);
    let Some(here) = cloudron_app() else {
        let mut words = vec!["mas-link".to_owned(), "migrate".to_owned()];
        words.extend(mas_flags);
        words.extend(file_words("--synapse-config", synapse, ""));
        let check = words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ");
        return Syn2masAt {
            migrate: format!("{check} --yes"),
            check,
            stop: Some("systemctl stop matrix-synapse, or docker compose stop synapse".into()),
            start: None,
        };
    };
    let other = |placeholder| {
        other_url
            .and_then(host_of)
            .unwrap_or(placeholder)
            .to_owned()
    };
    let (here, mas_app) = match here_side {
        Source::Synapse => (here, other("MAS_APP")),
        Source::Mas => (other("MATRIX_APP"), here),
    };
    // `cloudron exec` runs elsewhere than this shell: paths absolute.
    let absolute: Vec<PathBuf> = synapse
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or(p.clone()))
        .collect();
    let join = |words: Vec<String>| {
        words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut sso = vec![CLOUDRON_BIN.to_owned(), "sso".into(), "--migration".into()];
    sso.extend(file_words(
        "--synapse-config",
        &absolute,
        synapse::DEFAULT_CONFIG,
    ));
    let sso = format!("cloudron exec --app {here} -- {}", join(sso));
    let mut migrate = vec![
        CLOUDRON_BIN.to_owned(),
        "migrate".into(),
        "--sso-stdin".into(),
    ];
    migrate.extend(mas_flags);
    let migrate = format!("cloudron exec --app {mas_app} -- {}", join(migrate));
    Syn2masAt {
        check: format!("{sso} | {migrate}"),
        migrate: format!(
            "{sso} | {{ IFS= read -r side && cloudron stop --app {here} </dev/null && printf \
             '%s\\n' \"$side\" | {migrate} --yes; }}"
        ),
        stop: None,
        start: Some(format!("cloudron start --app {here}")),
    }
}

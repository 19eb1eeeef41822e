//! The rules of Synapse and MAS: what each program accepts, what the pairing needs, and the
//! edits that get there, each with its reason. Pure: no files, no terminal; whatever a rule
//! needs from elsewhere (a secret file's contents) is read by the caller and handed in.

pub mod layers;
pub mod mas;
pub mod names;
pub mod pairing;
pub mod record;
pub mod sso;
pub mod synapse;
pub mod users;

use crate::yaml::Edit;

/// Synapse's section for MAS: what `synapse` sets, `unlink` turns off, and the record never
/// restores (here, so that the record and Synapse's rules both read it from their parent).
pub const MAS: &str = "matrix_authentication_service";

/// One edit and why it is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub edit: Edit,
    pub reason: String,
}

/// The edits a rule set plans for one file, and what the operator should know besides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub changes: Vec<Change>,
    /// Things the operator should know that change nothing.
    pub notes: Vec<String>,
}

impl Changes {
    pub fn push(&mut self, edit: Edit, reason: impl Into<String>) {
        self.changes.push(Change {
            edit,
            reason: reason.into(),
        });
    }

    pub fn edits(&self) -> Vec<Edit> {
        self.changes.iter().map(|c| c.edit.clone()).collect()
    }
}

/// A file that a config names (a secret file), as the caller found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Its contents.
    Contents(String),
    /// Not a readable regular file, and why.
    Unreadable(String),
}

/// Keys whose values are secrets, in either program's file: masked in every diff and report.
/// Matched by name, not by a word inside it: `token_endpoint` or an email's
/// `password_reset` subject are not secrets.
pub fn is_secret_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    // `registration_requires_token` is a switch, not a token.
    !k.contains("require")
        && (matches!(k.as_str(), "secret" | "password" | "pepper" | "smtp_pass")
            || [
                "_secret",
                "_secret_key",
                "_password",
                "_token",
                "private_key",
            ]
            .iter()
            .any(|s| k.ends_with(s)))
}

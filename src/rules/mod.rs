//! The rules of Synapse and MAS: what each program accepts, what the pairing needs, and the
//! edits that get there, each with its reason. Pure: no files, no terminal; whatever a rule
//! needs from elsewhere (a secret file's contents) is read by the caller and handed in.

pub mod layers;
pub mod mas;
pub mod mas_start;
pub mod migration;
pub mod names;
pub mod pairing;
pub mod record;
pub mod release;
pub mod sso;
pub mod synapse;
pub mod users;

use crate::yaml::{Edit, Value};

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

/// Every secret value in a configuration, as text: the values at the keys `is_secret` names
/// (a mapping or list under such a key: all of it), and the password of any URL's user-info
/// (`postgresql://user:PASSWORD@host/db`, a Sentry `dsn`: of a URL, only that). What is printed masks them wherever
/// they appear, whatever the key (see `show::Masked`).
pub fn secret_values(root: &Value, is_secret: &dyn Fn(&[&str]) -> bool) -> Vec<String> {
    fn walk(
        v: &Value,
        path: &mut Vec<String>,
        secret: bool,
        is_secret: &dyn Fn(&[&str]) -> bool,
        out: &mut Vec<String>,
    ) {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        let secret = secret || (!keys.is_empty() && is_secret(&keys));
        match v {
            Value::Map(m) => {
                for (k, item) in &m.0 {
                    let key = match k {
                        Value::Str(s) | Value::Int(s) => s.clone(),
                        _ => continue,
                    };
                    path.push(key);
                    walk(item, path, secret, is_secret, out);
                    path.pop();
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(item, path, secret, is_secret, out);
                    path.pop();
                }
            }
            Value::Str(s) | Value::Int(s) | Value::Float(s) | Value::Timestamp(s) => {
                // Of a URL (a database `uri`, a `dsn`), only its password is secret: its
                // host and names are ordinary text, masked wherever they appeared otherwise.
                match url_password(s) {
                    Some(p) => out.push(p.to_owned()),
                    None if secret && !s.contains("://") => out.push(s.clone()),
                    None => {}
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), false, is_secret, &mut out);
    out
}

/// The password in a URL's user-info, when there is one.
fn url_password(s: &str) -> Option<&str> {
    let (_, rest) = s.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password).filter(|p| !p.is_empty())
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
                "secret_key",
                "secret_access_key",
                "_password",
                "_token",
                "private_key",
                "dsn",
            ]
            .iter()
            .any(|s| k.ends_with(s)))
}

/// The other Cloudron app's URL as one side's file knows it: Synapse's names MAS's endpoint;
/// MAS's names Synapse's (`matrix.endpoint`, unless it is loopback).
pub fn other_app_url(synapse: Option<&Value>, mas: Option<&Value>) -> Option<String> {
    let text = |root: Option<&Value>, path: &[&str]| {
        root?.at(path).and_then(Value::as_str).map(str::to_owned)
    };
    match synapse {
        Some(_) => text(synapse, &[MAS, "endpoint"]),
        None => text(mas, &["matrix", "endpoint"]).filter(|e| !names::is_loopback(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Document, Options};

    #[test]
    fn secret_values_are_found_by_key_and_in_urls() {
        let doc = Document::parse(
            "registration_shared_secret: \"abcdefgh123\"\nsentry:\n  dsn: \"https://pub:dsnsecret1@sentry.example.com/1\"\ndatabase:\n  uri: postgresql://mas:dbpassword9@localhost/mas\noidc_providers:\n  - client_secret_jwt_key:\n      key: \"-----BEGIN KEY-----\"\n    client_id: visible\ncaptcha:\n  secret_key: captchasecret\nwords: [a, b]\n"
                .into(),
            Options::PYYAML,
        )
        .unwrap();
        let is_secret = |p: &[&str]| {
            p.last().is_some_and(|k| is_secret_name(k))
                || (p.last() == Some(&"key") && p.contains(&"client_secret_jwt_key"))
        };
        let found = secret_values(doc.value(), &is_secret);
        for s in [
            "abcdefgh123",
            "dsnsecret1",
            "dbpassword9",
            "-----BEGIN KEY-----",
            "captchasecret",
        ] {
            assert!(found.iter().any(|f| f == s), "{s}: {found:?}");
        }
        // Of a URL only its password; nothing else.
        assert!(
            !found
                .iter()
                .any(|f| f.contains("localhost") || f == "visible"),
            "{found:?}"
        );
    }
}

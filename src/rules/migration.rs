//! The migration of Synapse's users into MAS (`mas-cli syn2mas`), as mas-link runs it: what of
//! Synapse's configuration MAS's side needs (and nothing more), where MAS's database is, and
//! whether MAS holds every user and SSO link Synapse had. Pure: the caller reads the
//! databases.

use std::collections::{BTreeMap, BTreeSet};

use super::users::PgArgs;
use crate::yaml::Value;

/// The top-level keys of homeserver.yaml that `syn2mas` reads (its `synapse_config::Config`):
/// what crosses to MAS's side, and no other setting (no signing key, no macaroon secret).
pub const SYN2MAS_KEYS: &[&str] = &[
    "server_name",
    "public_baseurl",
    "database",
    "password_config",
    "bcrypt_rounds",
    "allow_guest_access",
    "enable_registration",
    "enable_registration_captcha",
    "recaptcha_public_key",
    "recaptcha_private_key",
    "enable_3pid_changes",
    "enable_set_display_name",
    "user_consent",
    "registrations_require_3pid",
    "registration_requires_token",
    "registration_shared_secret",
    "login_via_existing_session",
    "cas_config",
    "saml2_config",
    "jwt_config",
    "oidc_config",
    "oidc_providers",
];

/// Synapse's side for `syn2mas`: those keys of the merged configuration, as JSON (which is
/// YAML: written as it is, it is the homeserver.yaml `syn2mas` reads).
pub fn syn2mas_side(root: &Value) -> serde_json::Value {
    let map = SYN2MAS_KEYS
        .iter()
        .filter_map(|k| Some((k.to_string(), to_json(root.get(k)?))))
        .collect();
    serde_json::Value::Object(map)
}

/// A YAML value as JSON: numbers as numbers where they read as such, else as written.
fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => i
            .parse::<i64>()
            .map_or_else(|_| J::String(i.clone()), J::from),
        Value::Float(f) => f
            .parse::<f64>()
            .map_or_else(|_| J::String(f.clone()), J::from),
        Value::Str(s) | Value::Timestamp(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(
            m.0.iter()
                .map(|(k, v)| (k.python_str(), to_json(v)))
                .collect(),
        ),
    }
}

/// Where MAS's database is, as its config's `database` section says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasDatabase {
    /// `database.uri`.
    Uri(String),
    /// Its fields (`host` or `socket`, `port`, `username`, `password`, `database`).
    Args(PgArgs),
}

/// MAS's database, from its configuration's root (MAS's defaults where a field is missing:
/// `postgresql://` with libpq's environment, as MAS reads it).
pub fn mas_database(root: &Value) -> MasDatabase {
    let db = root.get("database").unwrap_or(&Value::Null);
    let text = |k: &str| match db.get(k) {
        Some(Value::Str(s)) => Some(s.clone()),
        Some(Value::Int(i)) => Some(i.clone()),
        _ => None,
    };
    if let Some(uri) = text("uri") {
        return MasDatabase::Uri(uri);
    }
    MasDatabase::Args(PgArgs {
        user: text("username"),
        password: text("password"),
        dbname: text("database"),
        host: text("socket").or_else(|| text("host")),
        port: text("port").and_then(|p| p.parse().ok()),
        sslmode: text("ssl_mode"),
    })
}

/// Users and SSO links, by localpart: what one side's database holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct People {
    pub users: BTreeSet<String>,
    /// (localpart, provider, subject): Synapse's provider is its `auth_provider`, MAS's its
    /// upstream provider's id (a UUID).
    pub links: BTreeSet<(String, String, String)>,
}

/// What MAS lacks of Synapse's users and links, after a migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missing {
    pub users: Vec<String>,
    pub links: Vec<String>,
}

impl Missing {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.links.is_empty()
    }
}

/// What MAS lacks of `synapse`'s users and links. `providers` maps Synapse's `auth_provider`
/// to the UUID of the MAS provider that claims it (`synapse_idp_id`).
pub fn missing(synapse: &People, mas: &People, providers: &BTreeMap<String, String>) -> Missing {
    let users = synapse.users.difference(&mas.users).cloned().collect();
    let links = synapse
        .links
        .iter()
        .filter(|(user, provider, subject)| {
            providers.get(provider).is_none_or(|id| {
                !mas.links
                    .contains(&(user.clone(), id.to_lowercase(), subject.clone()))
            })
        })
        .map(|(user, provider, subject)| format!("{user} ({provider}: {subject})"))
        .collect();
    Missing { users, links }
}

/// A MAS provider id (a ULID) as the UUID MAS's database keys it by.
pub fn ulid_to_uuid(id: &str) -> Option<String> {
    if id.len() != 26 {
        return None;
    }
    let mut n: u128 = 0;
    for c in id.bytes() {
        let digit = super::sso::ULID_ALPHABET
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())?;
        n = n.checked_mul(32)? | digit as u128;
    }
    let hex = format!("{n:032x}");
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// The localpart of a Matrix user ID (`@alice:example.org` → `alice`).
pub fn localpart(user_id: &str) -> String {
    let id = user_id.strip_prefix('@').unwrap_or(user_id);
    id.split_once(':').map_or(id, |(l, _)| l).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Document, Options};

    fn value(s: &str) -> Value {
        Document::parse(s.into(), Options::PYYAML)
            .unwrap()
            .value()
            .clone()
    }

    #[test]
    fn only_what_syn2mas_reads_crosses() {
        let root = value(
            "server_name: x\nmacaroon_secret_key: m\ndatabase:\n  name: psycopg2\n  args:\n    \
             port: 5432\n    password: p\nenable_registration: no\n",
        );
        let side = syn2mas_side(&root);
        assert_eq!(
            side,
            serde_json::json!({"server_name": "x", "database": {"name": "psycopg2",
                "args": {"port": 5432, "password": "p"}}, "enable_registration": false})
        );
    }

    #[test]
    fn mas_database_from_its_config() {
        let uri = value("database:\n  uri: postgresql://u:p@db/mas\n");
        assert_eq!(
            mas_database(&uri),
            MasDatabase::Uri("postgresql://u:p@db/mas".into())
        );
        let args = value("database:\n  socket: /run/pg\n  port: 5433\n  username: mas\n");
        let MasDatabase::Args(a) = mas_database(&args) else {
            panic!()
        };
        assert_eq!(
            (a.host.as_deref(), a.port, a.user.as_deref()),
            (Some("/run/pg"), Some(5433), Some("mas"))
        );
    }

    #[test]
    fn what_mas_lacks() {
        let id = "01JE2E0000MASPR0V1DER00000";
        let uuid = ulid_to_uuid(id).unwrap();
        assert_eq!(uuid.len(), 36);
        assert_eq!(
            ulid_to_uuid("0000000000000000000000000Z").unwrap(),
            "00000000-0000-0000-0000-00000000001f"
        );
        let synapse = People {
            users: ["alice", "dave", "erin"].map(String::from).into(),
            links: [("dave".into(), "oidc-up".into(), "s1".into())].into(),
        };
        let mas = People {
            users: ["alice", "dave"].map(String::from).into(),
            links: [("dave".into(), uuid.clone(), "s1".into())].into(),
        };
        let providers = BTreeMap::from([("oidc-up".to_owned(), uuid)]);
        let m = missing(&synapse, &mas, &providers);
        assert_eq!(m.users, ["erin"]);
        assert!(m.links.is_empty());
        let m = missing(&synapse, &mas, &BTreeMap::new());
        assert_eq!(m.links, ["dave (oidc-up: s1)"]);
        assert_eq!(localpart("@dave:example.org"), "dave");
    }
}

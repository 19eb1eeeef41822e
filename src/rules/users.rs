//! Synapse's existing users, as MAS's migration tool (`mas-cli syn2mas`) will see them: who
//! can log in how, and what would be lost or locked out by linking before they are migrated
//! (REFERENCE §8). The counts come from the caller, who reads Synapse's database.

use serde::Serialize;

use super::Changes;
use super::mas::MasView;
use crate::findings::{Effect, Finding, Source};
use crate::findings::{Guide, Sub, command};
use crate::yaml::{Edit, NewScalar, Schema, Value};

/// Where Synapse's database is, as homeserver.yaml's `database:` section says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `name: sqlite3`, `args.database`.
    Sqlite { path: String },
    /// `name: psycopg2`: the `args` handed to psycopg2 (libpq fills what is missing).
    Postgres(PgArgs),
    /// A section mas-link cannot read, and why.
    Unknown(String),
}

/// psycopg2's connection arguments as homeserver.yaml gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PgArgs {
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    /// A host name, or a folder holding the server's Unix socket.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub sslmode: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.clone()),
        _ => None,
    }
}

/// The database homeserver.yaml configures (SQLite when the section is absent, as Synapse).
pub fn database(root: &Value) -> Database {
    let section = root.get("database").unwrap_or(&Value::Null);
    let args = section.get("args").unwrap_or(&Value::Null);
    match text(section, "name").as_deref() {
        None | Some("sqlite3") => match text(args, "database") {
            Some(path) => Database::Sqlite { path },
            None => Database::Unknown("database.args.database is not set".into()),
        },
        Some("psycopg2") => Database::Postgres(PgArgs {
            user: text(args, "user"),
            password: text(args, "password"),
            dbname: text(args, "dbname").or_else(|| text(args, "database")),
            host: text(args, "host"),
            port: text(args, "port").and_then(|p| p.parse().ok()),
            sslmode: text(args, "sslmode"),
        }),
        Some(other) => Database::Unknown(format!("database.name is `{other}`")),
    }
}

/// Why the link stops when Synapse's users could not be read (`why`), and the ways forward.
pub fn unread_refusal(why: &str) -> String {
    format!(
        "Synapse's users could not be counted: {why}. Linking now would lock out every user \
         MAS does not know yet, so nothing was written. Ways forward: run the same command \
         where Synapse's database is reachable (in Synapse's container, or on its host); or, once `mas-cli syn2mas migrate` has copied the users into MAS, add \
         --users-migrated; or, for a server that has never had users, add --new-server"
    )
}

/// Synapse's users, counted as syn2mas counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Census {
    /// Local users that can log in: not deactivated, not guests, not an appservice's.
    pub active: u64,
    /// Of those, with a password hash in Synapse.
    pub with_password: u64,
    /// Of those, with neither a password nor an SSO link (made while MAS was in charge, or
    /// by an admin without a password).
    pub without_login: u64,
    /// SSO links of active users, by Synapse's `auth_provider`.
    pub sso: Vec<(String, u64)>,
    pub guests: u64,
    pub deactivated: u64,
    pub appservice: u64,
    pub non_email_3pids: u64,
    /// Links left by the legacy MSC3861 integration (`auth_provider = 'oauth-delegated'`).
    pub oauth_delegated: u64,
}

impl Census {
    /// One line a fact, for `check`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} active local user(s): {} with a password, {} with neither a password nor an \
             SSO link",
            self.active, self.with_password, self.without_login
        )];
        for (provider, n) in &self.sso {
            out.push(format!("{n} user(s) sign in with SSO through `{provider}`"));
        }
        for (n, what) in [
            (self.guests, "guest(s) (MAS has no guests)"),
            (self.deactivated, "deactivated user(s)"),
            (self.appservice, "appservice user(s)"),
            (
                self.non_email_3pids,
                "non-email 3PID(s) (MAS keeps only emails)",
            ),
            (
                self.oauth_delegated,
                "leftover `oauth-delegated` link(s) from the MSC3861 integration",
            ),
        ] {
            if n > 0 {
                out.push(format!("{n} {what}"));
            }
        }
        out
    }
}

/// What the users mean for the pairing: SSO links no MAS provider claims (those users could
/// not sign in, and the migration would lose their links), and leftover MSC3861 links.
pub fn findings(c: &Census, mas: &MasView, synapse_root: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(providers) = &mas.providers {
        // A provider still in Synapse's configuration is the pairing rules' to report (one
        // finding per cause); here only links left by providers the configuration no longer has.
        let configured: Vec<String> = super::sso::moved_providers(synapse_root)
            .into_iter()
            .chain(super::sso::synapse_providers(synapse_root))
            .map(|p| p.auth_provider)
            .collect();
        for (provider, n) in &c.sso {
            if provider == "oauth-delegated"
                || configured.contains(provider)
                || providers
                    .iter()
                    .any(|p| p.synapse_idp_id.as_deref() == Some(provider))
            {
                continue;
            }
            out.push(Finding::new(
                Source::Mas,
                Effect::Breaks,
                &["upstream_oauth2", "providers"],
                mas.at(&["upstream_oauth2", "providers"]),
                format!(
                    "{n} of Synapse's users sign in through `{provider}`, which no MAS provider \
                     claims (synapse_idp_id): they could not sign in through MAS, and MAS's \
                     migration refuses to run"
                ),
                Guide::text("add the provider to MAS: ")
                    .run(command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"]))),
            ));
        }
    }
    let pepper = synapse_root
        .at(&["password_config", "pepper"])
        .and_then(Value::as_str);
    if let Some(cfg) = &mas.cfg
        && c.with_password > 0
        && !passwords_ready(cfg.value(), pepper)
    {
        out.push(Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["passwords", "schemes"],
            mas.at(&["passwords", "schemes"]),
            format!(
                "{} of Synapse's users have a password, and MAS has no password scheme version 1 \
                 that is bcrypt with Synapse's pepper: migrated passwords would not check, and \
                 MAS's migration refuses to run",
                c.with_password
            ),
            Guide::text("while MAS has no users of its own: ")
                .run(command(Sub::Sso, &[]).pipe(command(
                    Sub::Mas,
                    &["--sso-stdin", "--renumber-password-scheme", "--yes"],
                )))
                .then(" (across containers, from Synapse's to MAS's)"),
        ));
    }
    if c.oauth_delegated > 0 {
        out.push(
            Finding::new(
                Source::Mas,
                Effect::Advice,
                &["upstream_oauth2"],
                mas.at(&["upstream_oauth2"]),
                format!(
                    "Synapse's database holds {} `oauth-delegated` link(s) from the MSC3861 \
                     integration: MAS's migration refuses to run while they remain",
                    c.oauth_delegated
                ),
                "see MAS's documentation on migrating from MSC3861 (syn2mas) before migrating",
            )
            .warning(),
        );
    }
    out
}

const SCHEMES: &[&str] = &["passwords", "schemes"];

/// MAS's password schemes: (version, algorithm, secret).
fn schemes(mas_root: &Value) -> Vec<(u64, String, Option<String>)> {
    match mas_root.at(SCHEMES) {
        Some(Value::Seq(items)) => items
            .iter()
            .map(|s| {
                let version = match s.get("version") {
                    Some(Value::Int(i)) => i.parse().unwrap_or(0),
                    _ => 0,
                };
                let algorithm = s
                    .get("algorithm")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                (
                    version,
                    algorithm,
                    s.get("secret").and_then(Value::as_str).map(str::to_owned),
                )
            })
            .collect(),
        // MAS's default.
        _ => vec![(1, "argon2id".into(), None)],
    }
}

/// Whether MAS can check the passwords Synapse's users bring: its scheme version 1 is bcrypt
/// with Synapse's pepper (`password_config.pepper`), as MAS's migration requires.
pub fn passwords_ready(mas_root: &Value, pepper: Option<&str>) -> bool {
    schemes(mas_root)
        .iter()
        .any(|(v, a, secret)| *v == 1 && a == "bcrypt" && secret.as_deref() == pepper)
}

/// MAS's password schemes made ready for Synapse's passwords: a scheme version 1, bcrypt, with
/// Synapse's pepper as its secret (and Unicode normalization, as Synapse), next to MAS's own.
/// When version 1 is MAS's own scheme (MAS's default), it is renumbered above the others only
/// when `renumber` says MAS has no users of its own yet (syn2mas needs its database empty):
/// passwords MAS hashed with it would no longer check.
pub fn plan_passwords(mas_root: &Value, pepper: Option<&str>, renumber: bool) -> Changes {
    let mut plan = Changes::default();
    if passwords_ready(mas_root, pepper) {
        return plan;
    }
    let list = schemes(mas_root);
    let int = |n: u64| NewScalar::raw(&n.to_string(), Schema::Yaml12).expect("a number");
    let mut bcrypt = vec![
        (vec!["version".to_owned()], int(1)),
        (vec!["algorithm".to_owned()], NewScalar::string("bcrypt")),
        (
            vec!["unicode_normalization".to_owned()],
            NewScalar::bool(true),
        ),
    ];
    if let Some(p) = pepper {
        bcrypt.push((vec!["secret".to_owned()], NewScalar::string(p)));
    }
    let why = "Synapse's passwords, migrated by syn2mas, are bcrypt hashes with Synapse's pepper: \
               MAS checks them with its scheme version 1";
    let explicit = matches!(mas_root.at(SCHEMES), Some(Value::Seq(_)));
    match list.iter().position(|(v, _, _)| *v == 1) {
        Some(i) if list[i].1 == "bcrypt" => {
            let index = i.to_string();
            match pepper {
                Some(p) => plan.push(
                    Edit::set(
                        &["passwords", "schemes", &index, "secret"],
                        NewScalar::string(p),
                    ),
                    "the pepper of Synapse's password hashes (its password_config.pepper)",
                ),
                None => plan.notes.push(
                    "MAS's bcrypt scheme version 1 has a secret but Synapse has no pepper: \
                     remove the secret, or migrated passwords will not check"
                        .into(),
                ),
            }
        }
        Some(_) if !renumber => plan.notes.push(
            "MAS's password scheme version 1 is MAS's own (argon2id, MAS's default); migrated \
             Synapse passwords need version 1 to be bcrypt with Synapse's pepper. While MAS has \
             no users of its own (syn2mas needs its database empty anyway), run `mas-link mas` \
             again with --renumber-password-scheme, which moves MAS's own scheme to the next \
             version and adds the bcrypt one"
                .into(),
        ),
        Some(i) => {
            let next = list.iter().map(|(v, _, _)| *v).max().unwrap_or(1) + 1;
            match explicit {
                true => plan.push(
                    Edit::set(
                        &["passwords", "schemes", &i.to_string(), "version"],
                        int(next),
                    ),
                    "MAS's own scheme moves above version 1 (still the one new passwords get)",
                ),
                // MAS's default, written out under its new number.
                false => plan.push(
                    Edit::push(
                        SCHEMES,
                        vec![
                            (vec!["version".to_owned()], int(next)),
                            (vec!["algorithm".to_owned()], NewScalar::string("argon2id")),
                        ],
                    ),
                    "MAS's own scheme (its default, argon2id), above version 1: new passwords \
                     still get it",
                ),
            }
            plan.push(Edit::push(SCHEMES, bcrypt), why);
        }
        None => plan.push(Edit::push(SCHEMES, bcrypt), why),
    }
    plan
}

/// Where `mas-cli syn2mas` runs, for the steps that name it: the ` --synapse-config PATH` and
/// ` --config PATH` flags it needs (it reads `./config.yaml` without the second), and, when
/// homeserver.yaml is not in MAS's container, the step that copies it there and the way to
/// stop Synapse (Cloudron's two apps).
/// The migration's commands, placed where they run (settings knows where: this host, or
/// Cloudron's two apps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Syn2masAt {
    /// `mas-link migrate` with Synapse's side, checking only (Synapse may run).
    pub check: String,
    /// The migration, Synapse stopped (on Cloudron the stop is part of it).
    pub migrate: String,
    /// How Synapse is stopped before `migrate`, where that is a separate step.
    pub stop: Option<String>,
    /// How Synapse is started again, where mas-link knows the command.
    pub start: Option<String>,
}

/// The steps that bring existing users over before the link, in order, for the refusal: each
/// a command run as printed; no secret in any (Synapse's side goes through files or a pipe).
pub fn migration_steps(census: &Census, db: &Database, at: &Syn2masAt) -> String {
    let mut steps = Vec::new();
    if matches!(db, Database::Sqlite { .. }) {
        steps.push(
            "move Synapse to PostgreSQL first: MAS's migration reads only PostgreSQL (Synapse's \
             `synapse_port_db --sqlite-database … --postgres-config …`, then point \
             homeserver.yaml's `database:` at it)"
                .to_owned(),
        );
    }
    steps.push(format!(
        "check that MAS's migration tool accepts Synapse's side (Synapse may still run): `{}`, \
         and fix what it reports",
        at.check
    ));
    if let Some(stop) = &at.stop {
        steps.push(format!("stop Synapse ({stop})"));
    }
    steps.push(format!(
        "migrate, where MAS runs: `{}` (MAS's `syn2mas check` again, then `migrate`; then \
         mas-link counts what MAS holds against Synapse's users and SSO links)",
        at.migrate
    ));
    steps.push(match &at.start {
        Some(start) => format!("start Synapse: `{start}`"),
        None => "start Synapse".into(),
    });
    steps.push(
        "link: the same `mas-link synapse` command as now, with --users-migrated added, then \
         restart Synapse and MAS"
            .into(),
    );
    format!(
        "Synapse has {} active local user(s); linked now, every one of them would be locked out: \
         MAS knows none of them until its migration tool copies them (passwords, emails, SSO \
         links, devices). Nothing was written. The production path, in order:\n{}",
        census.active,
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("  {}. {s}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// What a URI's host cannot hold as it is.
const IN_HOST: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b'/')
    .add(b'%')
    .add(b':')
    .add(b'@')
    .add(b'?')
    .add(b'#')
    .add(b' ');

/// The database URI syn2mas takes (`--synapse-database-uri`), the password masked.
pub fn masked_uri(db: &Database) -> Option<String> {
    let Database::Postgres(a) = db else {
        return None;
    };
    let user = a.user.clone().unwrap_or_default();
    let auth = match (&a.user, &a.password) {
        (Some(_), Some(_)) => format!("{user}:********@"),
        (Some(_), None) => format!("{user}@"),
        _ => String::new(),
    };
    // A socket folder is the host, percent-encoded: MAS refuses an empty host with
    // `?host=/run/postgresql`, and reads `%2Frun%2Fpostgresql` as the socket's folder.
    let host = match &a.host {
        Some(h) => percent_encoding::utf8_percent_encode(h, IN_HOST).to_string(),
        None => "localhost".into(),
    };
    let port = a.port.map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!(
        "postgresql://{auth}{host}{port}/{}",
        a.dbname.clone().unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Document, Options};

    fn root(s: &str) -> Value {
        Document::parse(s.into(), Options::PYYAML)
            .unwrap()
            .value()
            .clone()
    }

    #[test]
    fn reads_the_database_section_as_synapse() {
        assert_eq!(
            database(&root(
                "database:\n  name: sqlite3\n  args:\n    database: /d/hs.db\n"
            )),
            Database::Sqlite {
                path: "/d/hs.db".into()
            }
        );
        let pg = database(&root(
            "database:\n  name: psycopg2\n  args:\n    user: synapse\n    password: pw\n    database: synapse\n    host: /run/postgresql\n    port: 5433\n",
        ));
        let Database::Postgres(a) = &pg else {
            panic!("{pg:?}")
        };
        assert_eq!((a.dbname.as_deref(), a.port), (Some("synapse"), Some(5433)));
        assert_eq!(
            masked_uri(&pg).unwrap(),
            "postgresql://synapse:********@%2Frun%2Fpostgresql:5433/synapse"
        );
        assert!(matches!(
            database(&root("database:\n  name: mysql\n")),
            Database::Unknown(_)
        ));
    }

    /// Users of a provider MAS does not claim: one finding, the pairing rules' while the
    /// provider is in Synapse's configuration, this module's once only its links are left.
    #[test]
    fn one_finding_per_unclaimed_provider() {
        let census = Census {
            active: 1,
            sso: vec![("oidc-kc".into(), 1)],
            ..Census::default()
        };
        let mas = MasView {
            cfg: None,
            secret: None,
            homeserver: None,
            endpoint: None,
            public_base: None,
            providers: Some(Vec::new()),
        };
        let configured = root(
            "oidc_providers:\n  - idp_id: kc\n    issuer: https://kc.example.com/\n    client_id: c\n",
        );
        assert!(findings(&census, &mas, &configured).is_empty());
        let gone = root("server_name: example.com\n");
        let f = findings(&census, &mas, &gone);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("`oidc-kc`"), "{}", f[0].message);
    }
}

//! Synapse's rules for running next to MAS, read the way Synapse reads its YAML (PyYAML).
//! This module knows `homeserver.yaml`'s meaning, not files or terminals.

use super::layers::Layers;
use super::names::{UrlProblem, check_server_name, check_url, same_url};
use super::record::Record;
use super::release;
use super::sso;
use super::{Changes, FileState};
use crate::findings::{Effect, Finding, Source};
use crate::findings::{Guide, Sub, command};
use crate::yaml::{Edit, NewScalar, Pos, Value};

pub const DEFAULT_CONFIG: &str = "/app/data/configs/homeserver.yaml";
pub use super::MAS;

/// How to link, as a fix: the secret comes with MAS's side (a bare `mas-link synapse` would
/// have none to use).
pub fn link_fix() -> Guide {
    Guide::text("link it with MAS's secret and URL: ")
        .run(
            command(Sub::Secret, &["--bundle"])
                .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"])),
        )
        .then(" (across two containers, the bundle from MAS's into Synapse's)")
}

/// How Synapse gets the shared secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSetting {
    /// `secret:` written inline (always quoted).
    Inline(String),
    /// `secret_path:` naming a file that holds it.
    Path(String),
}

#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Where Synapse reaches MAS.
    pub endpoint: String,
    pub secret: SecretSetting,
    /// MAS's upstream providers (issuer, `synapse_idp_id`); none when MAS's side is unknown.
    pub mas_providers: Option<Vec<sso::MasProvider>>,
    /// The Synapse release the file is for; none when unknown (the plan then assumes one
    /// with QR-code login beside MAS, and says so).
    pub release: Option<release::Release>,
}

/// A setting that must change by hand before Synapse can run with MAS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: String,
    pub file: String,
    pub pos: Pos,
    pub message: Guide,
}

/// Settings Synapse refuses next to MAS that hold no data: turned off in the same plan.
enum AutoFix {
    SetFalse,
    SetTrue,
    Remove,
}

struct Conflict {
    path: &'static [&'static str],
    applies: fn(&Value) -> bool,
    fix: Option<AutoFix>,
    why: &'static str,
}

fn truthy_at(root: &Value, path: &[&str]) -> bool {
    root.at(path).is_some_and(Value::truthy)
}

/// Python's `distutils.util.strtobool(str(v))`, which Synapse uses for registration flags.
pub fn strtobool(v: &Value) -> Option<bool> {
    match v.python_str().to_ascii_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Some(true),
        "n" | "no" | "f" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A mapping's `enabled` flag, with the default Synapse gives it.
fn section_enabled(root: &Value, key: &str, default: bool) -> bool {
    let Some(section) = root.get(key).filter(|v| v.truthy()) else {
        return false;
    };
    section.get("enabled").map_or(default, Value::truthy)
}

const CONFLICTS: &[Conflict] = &[
    Conflict {
        path: &["enable_3pid_changes"],
        applies: |r| truthy_at(r, &["enable_3pid_changes"]),
        fix: Some(AutoFix::SetFalse),
        why: "Synapse refuses it next to MAS; email and phone changes move to MAS",
    },
    Conflict {
        path: &["login_via_existing_session", "enabled"],
        applies: |r| truthy_at(r, &["login_via_existing_session", "enabled"]),
        fix: Some(AutoFix::SetFalse),
        why: "Synapse refuses it next to MAS; MAS links new devices (QR code) instead",
    },
    Conflict {
        path: &["enable_registration_captcha"],
        applies: |r| truthy_at(r, &["enable_registration_captcha"]),
        fix: Some(AutoFix::SetFalse),
        why: "Synapse refuses it next to MAS; registration and its CAPTCHA move to MAS",
    },
    Conflict {
        path: &["refresh_token_lifetime"],
        applies: |r| truthy_at(r, &["refresh_token_lifetime"]),
        fix: Some(AutoFix::Remove),
        why: "Synapse refuses it next to MAS; MAS issues and expires the tokens",
    },
    Conflict {
        path: &["nonrefreshable_access_token_lifetime"],
        applies: |r| truthy_at(r, &["nonrefreshable_access_token_lifetime"]),
        fix: Some(AutoFix::Remove),
        why: "Synapse refuses it next to MAS; MAS issues and expires the tokens",
    },
    Conflict {
        path: &["session_lifetime"],
        applies: |r| truthy_at(r, &["session_lifetime"]),
        fix: Some(AutoFix::Remove),
        why: "Synapse refuses it next to MAS; MAS manages sessions",
    },
    Conflict {
        path: &["disable_registration"],
        applies: |r| {
            r.get("disable_registration")
                .is_some_and(|v| strtobool(v) != Some(true))
        },
        fix: Some(AutoFix::SetTrue),
        why: "this legacy key overrides enable_registration; registration moves to MAS",
    },
    Conflict {
        path: &["oidc_providers"],
        applies: |r| truthy_at(r, &["oidc_providers"]),
        fix: None,
        why: "SSO cannot stay in Synapse next to MAS: move each provider to MAS's \
              `upstream_oauth2.providers` (MAS docs: \"Migrating an existing homeserver\"), \
              then delete `oidc_providers`",
    },
    Conflict {
        path: &["oidc_config"],
        applies: |r| section_enabled(r, "oidc_config", false),
        fix: None,
        why: "SSO cannot stay in Synapse next to MAS: move the provider to MAS's \
              `upstream_oauth2.providers`, then delete `oidc_config`",
    },
    Conflict {
        path: &["saml2_config"],
        applies: |r| {
            section_enabled(r, "saml2_config", true)
                && (truthy_at(r, &["saml2_config", "sp_config"])
                    || truthy_at(r, &["saml2_config", "config_path"]))
        },
        fix: None,
        why: "SAML cannot stay in Synapse next to MAS, and MAS speaks only OIDC upstream: \
              put an OIDC bridge in front of the SAML IdP for MAS's `upstream_oauth2`, \
              then delete `saml2_config`",
    },
    Conflict {
        path: &["cas_config"],
        applies: |r| section_enabled(r, "cas_config", true),
        fix: None,
        why: "CAS cannot stay in Synapse next to MAS, and MAS has no CAS login (it speaks only \
              OpenID Connect upstream): put an OIDC bridge in front of the CAS server for \
              MAS's `upstream_oauth2`, then delete `cas_config`",
    },
    Conflict {
        path: &["jwt_config"],
        applies: |r| section_enabled(r, "jwt_config", false),
        fix: None,
        why: "JWT login cannot stay in Synapse next to MAS, and MAS has no JWT login (it \
              speaks only OpenID Connect upstream): have the issuer of the tokens offer OIDC \
              for MAS's `upstream_oauth2`, then delete `jwt_config`",
    },
    Conflict {
        path: &["user_consent"],
        applies: |r| r.get("user_consent").is_some_and(|v| *v != Value::Null),
        fix: None,
        why: "Synapse refuses user consent next to MAS: set MAS's `branding.tos_uri` for \
              terms of service, then delete `user_consent`",
    },
    Conflict {
        path: &["password_providers"],
        applies: |r| truthy_at(r, &["password_providers"]),
        fix: None,
        why: "password providers cannot stay in Synapse next to MAS: configure the \
              directory in MAS (e.g. an upstream OIDC provider), then delete \
              `password_providers`",
    },
    Conflict {
        path: &["ldap_config"],
        applies: |r| section_enabled(r, "ldap_config", false),
        fix: None,
        why: "LDAP login cannot stay in Synapse next to MAS: configure it in MAS, then \
              delete `ldap_config`",
    },
];

/// Whether a conflict is Synapse's SSO over OpenID Connect, which MAS can take over.
fn is_oidc(c: &Conflict) -> bool {
    matches!(c.path, ["oidc_providers"] | ["oidc_config"])
}

/// The settings that would stop the command: each key, where it is and what to do. OpenID
/// Connect providers stop it only while MAS does not cover them all (`mas`).
pub fn refusals(cfg: &Layers, mas: Option<&[sso::MasProvider]>) -> Vec<Refusal> {
    let providers = sso::synapse_providers(cfg.value());
    let uncovered = mas.map(|m| sso::uncovered(&providers, m));
    let handed_over = uncovered.as_ref().is_some_and(Vec::is_empty);
    let clashes: Vec<String> = providers
        .iter()
        .filter_map(|p| sso::issuer_clash(p, mas.unwrap_or_default()))
        .collect();
    let sso = || command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"]));
    let relink = || {
        command(Sub::Secret, &["--bundle"])
            .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"]))
    };
    let sso_why = || match &uncovered {
        Some(_) if !clashes.is_empty() => Guide::text(clashes.join("; ")),
        Some(missing) => Guide::text(format!(
            "MAS does not cover Synapse's SSO provider{} {}: add {} to MAS first with ",
            if missing.len() > 1 { "s" } else { "" },
            missing
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", "),
            if missing.len() > 1 { "them" } else { "it" }
        ))
        .run(sso())
        .then(
            " (across containers, each side in its own: Synapse's, then MAS's), then run this \
             again with MAS's side: ",
        )
        .run(relink()),
        None => Guide::text(
            "SSO moves to MAS, and mas-link needs MAS's side to see that MAS covers each \
             provider: after ",
        )
        .run(sso())
        .then(" has added them to MAS, run ")
        .run(relink())
        .then(" (or give --mas-config)"),
    };
    CONFLICTS
        .iter()
        .filter(|c| c.fix.is_none() && (c.applies)(cfg.value()))
        .filter(|c| !(is_oidc(c) && handed_over))
        .map(|c| {
            let at = cfg.locate(c.path);
            Refusal {
                key: c.path.join("."),
                file: at.path.to_owned(),
                pos: at.pos,
                message: match is_oidc(c) {
                    true => sso_why(),
                    false => Guide::text(c.why),
                },
            }
        })
        .collect()
}

/// The keys whose values are secrets, masked in every diff and report.
pub fn is_secret_key(path: &[&str]) -> bool {
    path.last().is_some_and(|k| super::is_secret_name(k))
        // An OpenID Connect provider's JWT signing key (a PEM), under a plain `key`.
        || (path.last() == Some(&"key") && path.contains(&"client_secret_jwt_key"))
}

/// The admin token of a legacy `experimental_features.msc3861` block, which MAS may still
/// hold as its `matrix.secret`.
pub fn legacy_admin_token(root: &Value) -> Option<String> {
    root.at(&["experimental_features", "msc3861", "admin_token"])
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Why a configuration cannot be Synapse's homeserver.yaml, when it cannot: empty, not a
/// mapping of settings, or MAS's config.
pub fn not_a_homeserver_yaml(root: &Value) -> Option<String> {
    match root {
        Value::Null => {
            return Some(
                "is empty: Synapse cannot start without settings (server_name at least); \
                 give the homeserver.yaml Synapse runs with"
                    .into(),
            );
        }
        Value::Map(_) => {}
        other => {
            return Some(format!(
                "is not a YAML mapping of settings (it reads as a {}): give the homeserver.yaml \
                 Synapse runs with",
                other.type_name()
            ));
        }
    }
    let mas_like = ["secrets", "matrix", "upstream_oauth2", "policy"]
        .iter()
        .any(|k| root.get(k).is_some());
    (mas_like && root.get("server_name").is_none()).then(|| {
        "looks like MAS's config.yaml (it has MAS's sections and no server_name), not Synapse's \
         homeserver.yaml: give it to --mas-config, and Synapse's file to --synapse-config"
            .into()
    })
}

/// Whether Synapse delegates to MAS (or through the legacy MSC3861 block).
pub fn is_linked(root: &Value) -> bool {
    root.at(&[MAS, "enabled"]).is_some_and(Value::truthy)
        || root
            .at(&["experimental_features", "msc3861"])
            .is_some_and(Value::truthy)
}

/// Synapse's `validate_config`: open registration needs a CAPTCHA, a 3PID, a token, or the
/// explicit `enable_registration_without_verification`.
fn open_registration_without_verification(root: &Value) -> bool {
    let yes = |k: &str| root.get(k).and_then(strtobool) == Some(true);
    yes("enable_registration")
        && !yes("enable_registration_without_verification")
        && !truthy_at(root, &["enable_registration_captcha"])
        && !truthy_at(root, &["registrations_require_3pid"])
        && !truthy_at(root, &["registration_requires_token"])
}

/// Where `secret_path` points, when it is set as a string: the file the caller reads for
/// [`findings`].
pub fn secret_path(root: &Value) -> Option<&str> {
    root.at(&[MAS, "secret_path"]).and_then(Value::as_str)
}

/// Plans the link: MAS on, password login and registration off, QR login on, the legacy
/// MSC3861 block gone, and the settings Synapse refuses next to MAS turned off. Settings that
/// hold integrations or data are refused, all at once, with what to do instead.
pub fn plan_link(cfg: &Layers, opts: &LinkOptions) -> Result<Changes, Vec<Refusal>> {
    let root = cfg.value();
    if let Some(r) = opts.release.filter(|r| !r.has_mas_section()) {
        let at = cfg.locate(&[]);
        return Err(vec![Refusal {
            key: MAS.into(),
            file: at.path.to_owned(),
            pos: at.pos,
            message: Guide::text(release::too_old(r)),
        }]);
    }
    let refused = refusals(cfg, opts.mas_providers.as_deref());
    if !refused.is_empty() {
        return Err(refused);
    }
    let mut plan = sso::plan_synapse(root, &sso::synapse_providers(root));
    let mas = |k: &str| root.at(&[MAS, k]);

    if mas("enabled") != Some(&Value::Bool(true)) {
        plan.push(
            Edit::set(&[MAS, "enabled"], NewScalar::bool(true)),
            "Synapse delegates login and registration to MAS",
        );
    }
    if !mas("endpoint")
        .and_then(Value::as_str)
        .is_some_and(|e| same_url(e, &opts.endpoint))
    {
        plan.push(
            Edit::set(&[MAS, "endpoint"], NewScalar::string(&opts.endpoint)),
            "where Synapse reaches MAS",
        );
    }
    // Exactly one of `secret` and `secret_path`: the one asked for, the other removed.
    let (key, other, value, reason) = match &opts.secret {
        SecretSetting::Inline(s) => (
            "secret",
            "secret_path",
            s,
            "the secret shared with MAS (its matrix.secret)",
        ),
        SecretSetting::Path(p) => (
            "secret_path",
            "secret",
            p,
            "the file holding the secret shared with MAS",
        ),
    };
    if mas(key).and_then(Value::as_str) != Some(value.as_str()) {
        plan.push(Edit::set(&[MAS, key], NewScalar::string(value)), reason);
    }
    if mas(other).is_some() {
        plan.push(
            Edit::remove(&[MAS, other]),
            "Synapse refuses `secret` and `secret_path` together",
        );
    }

    if root.at(&["password_config", "enabled"]) != Some(&Value::Bool(false)) {
        plan.push(
            Edit::set(&["password_config", "enabled"], NewScalar::bool(false)),
            "passwords are checked by MAS; Synapse refuses password login next to it",
        );
    }
    if root.get("enable_registration").and_then(strtobool) != Some(false) {
        plan.push(
            Edit::set(&["enable_registration"], NewScalar::bool(false)),
            "registration moves to MAS; Synapse refuses it next to MAS",
        );
    }
    let exp = |k: &str| root.at(&["experimental_features", k]);
    if let Some(r) = opts.release.filter(|r| !r.qr_login_with_mas()) {
        plan.notes.push(format!(
            "QR-code login (MSC4108) is left off: Synapse {r} refuses it beside \
             matrix_authentication_service; it works from Synapse {}",
            release::QR_LOGIN
        ));
        if exp("msc4108_enabled").is_some_and(Value::truthy) {
            plan.push(
                Edit::set(
                    &["experimental_features", "msc4108_enabled"],
                    NewScalar::bool(false),
                ),
                format!(
                    "Synapse {r} refuses MSC4108 beside MAS (it works from {})",
                    release::QR_LOGIN
                ),
            );
        }
    } else if exp("msc4108_delegation_endpoint").is_some_and(|v| *v != Value::Null) {
        plan.notes.push(
            "experimental_features.msc4108_delegation_endpoint is set, so QR-code login is \
             delegated there; msc4108_enabled is left off (Synapse refuses both)"
                .into(),
        );
    } else if exp("msc4108_enabled") != Some(&Value::Bool(true)) {
        plan.push(
            Edit::set(
                &["experimental_features", "msc4108_enabled"],
                NewScalar::bool(true),
            ),
            "QR-code login and new-device linking (MSC4108), needed by Element X",
        );
    }
    if exp("msc3861").is_some() {
        plan.push(
            Edit::remove(&["experimental_features", "msc3861"]),
            "the legacy MSC3861 block; Synapse 1.157+ refuses to start with it",
        );
    }

    for c in CONFLICTS {
        let Some(fix) = &c.fix else { continue };
        if !(c.applies)(root) {
            continue;
        }
        let edit = match fix {
            AutoFix::SetFalse => Edit::set(c.path, NewScalar::bool(false)),
            AutoFix::SetTrue => Edit::set(c.path, NewScalar::bool(true)),
            AutoFix::Remove => Edit::remove(c.path),
        };
        plan.push(edit, c.why);
    }
    Ok(plan)
}

const MSC4388_MODES: &[&str] = &["off", "open", "authenticated"];

/// The listener resources Synapse serves (`KNOWN_RESOURCES`); `webclient` was removed in 1.77.
const RESOURCES: &[&str] = &[
    "client",
    "consent",
    "federation",
    "health",
    "keys",
    "media",
    "metrics",
    "openid",
    "replication",
    "static",
];

/// Whether Synapse takes `s` as a room alias (`RoomAlias.is_valid`): `#local:server`.
fn is_room_alias(s: &str) -> bool {
    s.strip_prefix('#')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(_, server)| check_server_name(server).is_ok())
}

/// What Synapse refuses to start with whatever MAS's state, met most often in the wild:
/// server_name and report_stats missing, open registration without verification, an unknown
/// listener resource, an empty signing_key_path, an auto_join_rooms entry that is no room
/// alias.
fn startup_refusals(cfg: &Layers) -> Vec<Finding> {
    let root = cfg.value();
    let mut f = Found {
        cfg,
        out: Vec::new(),
    };
    match root.get("server_name") {
        None => f.add(
            Effect::Refuses,
            &["server_name"],
            "`server_name` is missing: Synapse refuses to start".into(),
            "write the server name users' IDs end in (`@alice:example.com` → `example.com`)",
        ),
        Some(Value::Str(name)) => {
            if let Err(why) = check_server_name(name) {
                f.add(
                    Effect::Refuses,
                    &["server_name"],
                    format!("{why}: Synapse refuses to start"),
                    "write the server name users' IDs end in (`@alice:example.com` → `example.com`)",
                );
            }
        }
        Some(_) => {}
    }
    if root.get("report_stats").is_none() {
        f.add(
            Effect::Refuses,
            &["report_stats"],
            "`report_stats` is missing: Synapse refuses to start until it is set".into(),
            "add `report_stats: false` (or true, to send anonymous usage statistics)",
        );
    }
    if open_registration_without_verification(root) {
        f.add(
            Effect::Refuses,
            &["enable_registration"],
            "registration is open without any verification (no CAPTCHA, 3PID or token): \
             Synapse refuses to start"
                .into(),
            "turn registration off, add a verification, or set \
             `enable_registration_without_verification: true`",
        );
    }
    let listeners = match root.get("listeners") {
        Some(Value::Seq(l)) => l.as_slice(),
        _ => &[],
    };
    for listener in listeners {
        let Some(Value::Seq(resources)) = listener.get("resources") else {
            continue;
        };
        for names in resources.iter().filter_map(|r| r.get("names")) {
            let Value::Seq(names) = names else { continue };
            for name in names {
                let known = name.as_str().is_some_and(|n| RESOURCES.contains(&n));
                if !known {
                    f.add(
                        Effect::Refuses,
                        &["listeners"],
                        format!(
                            "a listener serves the resource `{}`, which Synapse does not know \
                             (it knows {}): Synapse refuses to start",
                            name.python_str(),
                            RESOURCES.join(", ")
                        ),
                        "remove it from the listener's `names` (`webclient` is gone since \
                         Synapse 1.77: serve Element on its own)",
                    );
                }
            }
        }
    }
    if root.get("signing_key_path") == Some(&Value::Str(String::new())) {
        f.add(
            Effect::Refuses,
            &["signing_key_path"],
            "`signing_key_path` is empty: Synapse cannot read a signing key and refuses to start"
                .into(),
            "give the path of the server's signing key, or delete the line for the default \
             (SERVER_NAME.signing.key beside the config)",
        );
    }
    let bad_room = match root.get("auto_join_rooms") {
        None => None,
        Some(Value::Seq(rooms)) => rooms
            .iter()
            .find(|r| !r.as_str().is_some_and(is_room_alias))
            .map(Value::python_str),
        Some(Value::Str(s)) if s.is_empty() => None,
        // A string is read a character at a time.
        Some(Value::Str(s)) => Some(s.chars().take(1).collect()),
        Some(v) => Some(v.python_str()),
    };
    if let Some(room) = bad_room {
        f.add(
            Effect::Refuses,
            &["auto_join_rooms"],
            format!("`{room}` is not a room alias (`#room:example.com`): Synapse refuses to start"),
            "write auto_join_rooms as a list of room aliases, one `- \"#room:example.com\"` a line",
        );
    }
    f.out
}

/// Every rule of Synapse's for running with MAS, read as Synapse reads the file, with the
/// secret Synapse will use (inline, or `secret_path`'s stripped contents). `secret_file` is
/// what the caller found at [`secret_path`] (resolved from Synapse's working directory).
pub fn findings(cfg: &Layers, secret_file: Option<&FileState>) -> (Vec<Finding>, Option<String>) {
    let mut f = Found {
        cfg,
        out: Vec::new(),
    };
    if !matches!(cfg.value(), Value::Map(_) | Value::Null) {
        f.add(
            Effect::Refuses,
            &[],
            "the file must be a mapping of settings".into(),
            "rewrite it as `key: value` lines",
        );
        return (f.out, None);
    }
    f.out.extend(startup_refusals(cfg));
    let mas = mas_section(&mut f, secret_file);
    if mas.enabled {
        conflicts(&mut f);
    }
    experimental(&mut f, mas.enabled);
    if mas.section_ok && !mas.enabled {
        f.add(
            Effect::NotLinked,
            &[MAS, "enabled"],
            "Synapse is not linked to MAS: matrix_authentication_service is not enabled".into(),
            link_fix(),
        );
    }
    duplicates(&mut f);
    (f.out, mas.secret)
}

/// Findings on Synapse's configuration, each located in the file its key comes from.
/// The findings as they stand for a known release, where the facts differ from the latest's
/// (each measured with that release's own loader, `tests/differential.rs`).
pub fn for_release(cfg: &Layers, r: release::Release, findings: &mut Vec<Finding>) {
    let mut f = Found {
        cfg,
        out: Vec::new(),
    };
    if !r.has_mas_section() {
        below_floor(&mut f, r);
    } else {
        qr_for(&mut f, r, findings);
        secret_for(&mut f, r, findings);
        // Keys a release does not know yet are ignored by it, whatever they hold.
        for (key, since) in release::NEWER_KEYS {
            if r < *since {
                findings.retain(|x| !x.key.starts_with(key));
            }
        }
        msc4388_for(&mut f, r, findings);
        let (from, to) = release::EXPERIMENTAL_NULL_CRASH;
        if (from..to).contains(&r)
            && f.cfg.value().get("experimental_features") == Some(&Value::Null)
        {
            f.add(
                Effect::Refuses,
                &["experimental_features"],
                format!("`experimental_features` is empty (null): Synapse {r} crashes at start"),
                "remove the empty `experimental_features:` line, or write `experimental_features: {}`",
            );
        }
        if r < release::MSC3861_REFUSED {
            let legacy = "experimental_features.msc3861";
            findings.retain(|x| !(x.effect == Effect::Refuses && x.key == legacy));
        }
    }
    findings.extend(f.out);
}

/// Below MAS's floor the section is ignored: password login off, nobody asks MAS, nobody
/// logs in.
fn below_floor(f: &mut Found, r: release::Release) {
    if is_linked(f.cfg.value()) {
        f.add(
            Effect::Breaks,
            &[MAS],
            format!(
                "{} (this release ignores the section: nobody can log in while password login \
                 is off)",
                release::too_old(r)
            ),
            Guide::text("upgrade Synapse, or run ").run(command(Sub::Unlink, &[])),
        );
    }
}

/// Between [`release::MSC4388`] and [`release::MSC4388_OPEN`], the modes are `off`, `public`
/// and `authenticated`.
fn msc4388_for(f: &mut Found, r: release::Release, findings: &mut Vec<Finding>) {
    if !(release::MSC4388..release::MSC4388_OPEN).contains(&r) {
        return;
    }
    let key = ["experimental_features", "msc4388_mode"];
    let Some(mode) = f.cfg.value().at(&key) else {
        return;
    };
    let modes = ["off", "public", "authenticated"];
    let delegated = is_linked(f.cfg.value());
    findings.retain(|x| x.key != key.join("."));
    match mode {
        Value::Str(m) if modes.contains(&m.as_str()) && (m == "off" || delegated) => {}
        Value::Str(m) if modes.contains(&m.as_str()) => f.add(
            Effect::Refuses,
            &key,
            "MSC4388 needs matrix_authentication_service enabled: Synapse refuses to start".into(),
            Guide::text("run ")
                .run(command(Sub::Synapse, &[]))
                .then(", or set it to \"off\""),
        ),
        v => f.add(
            Effect::Refuses,
            &key,
            format!(
                "msc4388_mode must be the string \"off\", \"public\" or \"authenticated\" in \
                 Synapse {r} (`open` from {}); Synapse reads {} and refuses to start",
                release::MSC4388_OPEN,
                v.python_str()
            ),
            "write one of those, quoted",
        ),
    }
}

/// 1.136 refuses QR-code login beside MAS, so it is no advice there.
fn qr_for(f: &mut Found, r: release::Release, findings: &mut Vec<Finding>) {
    if r.qr_login_with_mas() {
        return;
    }
    let root = f.cfg.value();
    let qr = ["experimental_features", "msc4108_enabled"];
    findings.retain(|x| !(x.effect == Effect::Advice && x.key == qr.join(".")));
    if is_linked(root) && root.at(&qr).is_some_and(Value::truthy) {
        f.add(
            Effect::Refuses,
            &qr,
            format!(
                "Synapse {r} refuses MSC4108 beside matrix_authentication_service (it works \
                 from {})",
                release::QR_LOGIN
            ),
            Guide::text("run ")
                .run(command(Sub::Synapse, &[]))
                .then(", which turns it off for this release"),
        );
    }
}

/// Before [`release::STRICT_SECRET`], Synapse's model checks `secret` only when the key is
/// there, and before it has read `secret_path`: a missing secret starts (every request that
/// needs MAS then fails), a null or empty one is refused even beside `secret_path`.
fn secret_for(f: &mut Found, r: release::Release, findings: &mut Vec<Finding>) {
    if r >= release::STRICT_SECRET {
        return;
    }
    let mas = f.cfg.value().get(MAS).unwrap_or(&Value::Null);
    let enabled = mas.get("enabled") == Some(&Value::Bool(true));
    let path_set = matches!(mas.get("secret_path"), Some(Value::Str(_)));
    let missing = format!("{MAS}.secret");
    match mas.get("secret") {
        None if enabled => {
            findings.retain(|x| !(x.effect == Effect::Refuses && x.key == missing));
            if !path_set {
                f.add(
                    Effect::Breaks,
                    &[MAS, "secret"],
                    format!(
                        "MAS is enabled without `secret` or `secret_path`: Synapse {r} starts, \
                         but fails every request that needs MAS ({} refuses to start)",
                        release::STRICT_SECRET
                    ),
                    Guide::text("give it MAS's secret: ")
                        .run(command(Sub::Synapse, &["--mas-config", "PATH"])),
                );
            }
        }
        Some(Value::Null) if enabled && path_set => f.add(
            Effect::Refuses,
            &[MAS, "secret"],
            format!(
                "`secret` is null beside `secret_path`: Synapse {r} reads `secret` first and \
                 refuses to start"
            ),
            "remove the `secret` key",
        ),
        Some(Value::Str(s)) if enabled && path_set && s.is_empty() => f.add(
            Effect::Refuses,
            &[MAS, "secret"],
            format!(
                "`secret` is empty beside `secret_path`: Synapse {r} reads `secret` first and \
                 refuses to start"
            ),
            "remove the `secret` key",
        ),
        _ => {}
    }
}

struct Found<'a> {
    cfg: &'a Layers,
    out: Vec<Finding>,
}

impl Found<'_> {
    fn add(&mut self, effect: Effect, path: &[&str], message: String, fix: impl Into<Guide>) {
        self.out.push(Finding::new(
            Source::Synapse,
            effect,
            path,
            self.cfg.locate(path),
            message,
            fix,
        ));
    }
}

/// What the `matrix_authentication_service` section says, once judged.
struct MasSection {
    section_ok: bool,
    enabled: bool,
    /// The secret Synapse will use (inline, or `secret_path`'s stripped contents).
    secret: Option<String>,
}

/// The `matrix_authentication_service` section, as Synapse's pydantic model reads it.
fn mas_section(f: &mut Found, secret_file: Option<&FileState>) -> MasSection {
    let root = f.cfg.value();
    let mas = root.get(MAS).unwrap_or(&Value::Null);
    let section_ok = matches!(mas, Value::Map(_) | Value::Null);
    if !section_ok {
        f.add(
            Effect::Refuses,
            &[MAS],
            format!(
                "`{MAS}` is a {}, not a mapping: Synapse fails to start",
                mas.type_name()
            ),
            Guide::text("write it as a mapping: run ").run(command(Sub::Synapse, &[])),
        );
    }
    let enabled = mas_booleans(f, mas);
    let inline = inline_secret(f, mas);
    let (path_set, from_file) = secret_path_file(f, mas, secret_file);
    mas_endpoint(f, mas);
    let inline_set = inline.as_deref().is_some_and(|s| !s.is_empty());
    secret_pair(f, enabled, inline_set, path_set);
    MasSection {
        section_ok,
        enabled,
        secret: if inline_set { inline } else { from_file },
    }
}

/// `enabled` and `force_http2`, strict booleans for pydantic: only true/false (YAML 1.1's
/// yes/no/on/off too); null is refused. Whether MAS is enabled.
fn mas_booleans(f: &mut Found, mas: &Value) -> bool {
    let get = |k: &str| mas.get(k);
    let mut enabled = false;
    for key in ["enabled", "force_http2"] {
        match get(key) {
            None => {}
            Some(Value::Bool(b)) => enabled |= key == "enabled" && *b,
            Some(v) => f.add(
                Effect::Refuses,
                &[MAS, key],
                format!(
                    "`{key}` must be a bare true or false; Synapse reads {} as a {} and refuses to start",
                    v.python_str(),
                    v.type_name()
                ),
                "write `true` or `false` without quotes",
            ),
        }
    }
    enabled
}

/// The inline `secret`, when it is a string.
fn inline_secret(f: &mut Found, mas: &Value) -> Option<String> {
    let get = |k: &str| mas.get(k);
    match get("secret") {
        None | Some(Value::Null) => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(v) => {
            f.add(
                Effect::Refuses,
                &[MAS, "secret"],
                format!(
                    "`secret` must be a string; Synapse reads this one as a {} and refuses to start",
                    v.type_name()
                ),
                Guide::text("quote it: run ").run(command(Sub::Synapse, &[])).then(" to rewrite it"),
            );
            None
        }
    }
}

/// `secret_path`: whether it is set, and the secret its file holds (read by the caller).
fn secret_path_file(
    f: &mut Found,
    mas: &Value,
    secret_file: Option<&FileState>,
) -> (bool, Option<String>) {
    let get = |k: &str| mas.get(k);
    let mut secret = None;
    let path_set = match get("secret_path") {
        None | Some(Value::Null) => false,
        Some(Value::Str(p)) => {
            match secret_file {
                Some(FileState::Contents(contents)) if contents.trim().is_empty() => f.add(
                    Effect::Breaks,
                    &[MAS, "secret_path"],
                    format!("`{p}` is empty: Synapse starts, but every call from MAS is refused"),
                    Guide::text("write MAS's secret into it: ")
                        .run(command(Sub::Synapse, &["--secret-path", "PATH"])),
                ),
                Some(FileState::Contents(contents)) => secret = Some(contents.trim().to_owned()),
                Some(FileState::Unreadable(why)) => f.add(
                    Effect::Refuses,
                    &[MAS, "secret_path"],
                    format!("`{p}` is not an existing file ({why}): Synapse refuses to start"),
                    Guide::text("create it with MAS's secret: ")
                        .run(command(Sub::Synapse, &["--secret-path", "PATH"])),
                ),
                None => f.add(
                    Effect::Refuses,
                    &[MAS, "secret_path"],
                    format!("`{p}` was not read: Synapse needs it to be an existing file"),
                    Guide::text("create it with MAS's secret: ")
                        .run(command(Sub::Synapse, &["--secret-path", "PATH"])),
                ),
            }
            true
        }
        Some(v) => {
            f.add(
                Effect::Refuses,
                &[MAS, "secret_path"],
                format!("`secret_path` must be a path; this is a {}", v.type_name()),
                "write the path as a string",
            );
            true
        }
    };
    (path_set, secret)
}

/// `endpoint`, an http(s) URL with a host.
fn mas_endpoint(f: &mut Found, mas: &Value) {
    let get = |k: &str| mas.get(k);
    match get("endpoint") {
        None => {}
        Some(Value::Str(url)) => match check_url(url) {
            Ok(()) => {}
            Err(UrlProblem::QueryOrFragment(m)) => f.add(
                Effect::Breaks,
                &[MAS, "endpoint"],
                format!("{m}: Synapse accepts it, but the URLs it builds from it are wrong"),
                "remove the `?…`/`#…` part",
            ),
            Err(UrlProblem::Invalid(m)) => f.add(
                Effect::Refuses,
                &[MAS, "endpoint"],
                format!(
                    "`endpoint` must be an http(s) URL with a host: {m}, and Synapse refuses to start"
                ),
                Guide::text("write MAS's URL, e.g. ").run(command(Sub::Synapse, &["--endpoint", "https://auth.example.com/"])),
            ),
        },
        Some(v) => f.add(
            Effect::Refuses,
            &[MAS, "endpoint"],
            format!(
                "`endpoint` must be an http(s) URL with a host; `{}` is not, and Synapse refuses to start",
                v.python_str()
            ),
            Guide::text("write MAS's URL, e.g. ").run(command(Sub::Synapse, &["--endpoint", "https://auth.example.com/"])),
        ),
    }
}

/// Exactly one of `secret` and `secret_path` when MAS is enabled.
fn secret_pair(f: &mut Found, enabled: bool, inline_set: bool, path_set: bool) {
    if enabled && inline_set && path_set {
        f.add(
            Effect::Refuses,
            &[MAS, "secret_path"],
            "`secret` and `secret_path` are both set: Synapse refuses to start".into(),
            Guide::text("keep one: ")
                .run(command(Sub::Synapse, &[]))
                .then(" (inline) or ")
                .run(command(Sub::Synapse, &["--secret-path", "PATH"])),
        );
    } else if enabled && !inline_set && !path_set {
        f.add(
            Effect::Refuses,
            &[MAS, "secret"],
            "MAS is enabled without `secret` or `secret_path` (an empty string counts as missing): \
             Synapse refuses to start"
                .into(),
            Guide::text("give it MAS's secret: ").run(command(Sub::Synapse, &["--mas-config", "PATH"])),
        );
    }
}

/// The settings Synapse refuses next to MAS (it checks them only when MAS is on).
fn conflicts(f: &mut Found) {
    let root = f.cfg.value();
    let relink = Guide::text("run ")
        .run(command(Sub::Synapse, &[]))
        .then(" to set it");
    let password = root.at(&["password_config", "enabled"]);
    if password.is_some_and(Value::truthy) {
        f.add(
            Effect::Refuses,
            &["password_config", "enabled"],
            format!(
                "password login is on ({}; Synapse uses Python truthiness, so even the string \"false\" counts): \
                 Synapse refuses it next to MAS",
                password.map(Value::python_str).unwrap_or_default()
            ),
            relink.clone(),
        );
    }
    if let Some(v) = root.get("enable_registration") {
        match strtobool(v) {
            Some(true) => f.add(
                Effect::Refuses,
                &["enable_registration"],
                "registration is on: Synapse refuses it next to MAS".into(),
                relink,
            ),
            Some(false) => {}
            None => f.add(
                Effect::Refuses,
                &["enable_registration"],
                format!(
                    "`{}` is not a yes/no value: Synapse fails to start",
                    v.python_str()
                ),
                "write `false`",
            ),
        }
    }
    for c in CONFLICTS {
        if (c.applies)(root) {
            let fix = match c.fix {
                Some(_) => Guide::text("run ")
                    .run(command(Sub::Synapse, &[]))
                    .then(", which turns it off"),
                None => Guide::text(c.why),
            };
            f.add(
                Effect::Refuses,
                c.path,
                format!("Synapse refuses this setting next to MAS: {}", c.why),
                fix,
            );
        }
    }
}

/// The experimental features that concern MAS: the legacy MSC3861 block, MSC4108 (QR-code
/// login) and MSC4388.
fn experimental(f: &mut Found, enabled: bool) {
    let root = f.cfg.value();
    let mas = root.get(MAS).unwrap_or(&Value::Null);
    let delegated = mas.get("enabled").is_some_and(Value::truthy);
    let exp = root.get("experimental_features").unwrap_or(&Value::Null);
    if !matches!(exp, Value::Map(_)) && exp.truthy() {
        f.add(
            Effect::Refuses,
            &["experimental_features"],
            format!(
                "`experimental_features` is a {}, not a mapping: Synapse fails to start",
                exp.type_name()
            ),
            "write it as a mapping",
        );
    }
    let x = |k: &str| exp.get(k);
    if x("msc3861").is_some_and(Value::truthy) {
        f.add(
            Effect::Refuses,
            &["experimental_features", "msc3861"],
            "the legacy MSC3861 block: Synapse 1.157+ refuses to start with it".into(),
            Guide::text("run ")
                .run(command(Sub::Synapse, &[]))
                .then(", which removes it and sets matrix_authentication_service"),
        );
    }
    let msc4108 = x("msc4108_enabled");
    let delegation = x("msc4108_delegation_endpoint").is_some_and(|v| *v != Value::Null);
    if (msc4108.is_some_and(Value::truthy) || delegation) && !delegated {
        f.add(
            Effect::Refuses,
            &["experimental_features", "msc4108_enabled"],
            "MSC4108 (QR-code login) needs matrix_authentication_service enabled: Synapse refuses to start".into(),
            link_fix(),
        );
    }
    if delegation && msc4108.is_some_and(Value::truthy) {
        f.add(
            Effect::Refuses,
            &["experimental_features", "msc4108_delegation_endpoint"],
            "MSC4108 is both enabled and delegated: Synapse refuses to start".into(),
            "remove one of msc4108_enabled and msc4108_delegation_endpoint",
        );
    }
    if let Some(Value::Str(s)) = msc4108 {
        f.add(
            Effect::Breaks,
            &["experimental_features", "msc4108_enabled"],
            format!(
                "msc4108_enabled is the string \"{s}\": the loader accepts it, but Synapse 1.157+ crashes at start-up"
            ),
            Guide::text("write a bare `true`: run ").run(command(Sub::Synapse, &[])),
        );
    }
    if enabled && !delegation && msc4108 != Some(&Value::Bool(true)) {
        f.add(
            Effect::Advice,
            &["experimental_features", "msc4108_enabled"],
            "QR-code login (MSC4108) is off: Element X cannot link new devices by QR code".into(),
            Guide::text("run ")
                .run(command(Sub::Synapse, &[]))
                .then(", which turns it on"),
        );
    }
    match x("msc4388_mode") {
        None => {}
        Some(Value::Str(m)) if MSC4388_MODES.contains(&m.as_str()) && m != "off" && !delegated => {
            f.add(
                Effect::Refuses,
                &["experimental_features", "msc4388_mode"],
                "MSC4388 needs matrix_authentication_service enabled: Synapse refuses to start"
                    .into(),
                Guide::text("run ").run(command(Sub::Synapse, &[])).then(", or set it to \"off\""),
            )
        }
        Some(Value::Str(m)) if MSC4388_MODES.contains(&m.as_str()) => {}
        Some(v) => f.add(
            Effect::Refuses,
            &["experimental_features", "msc4388_mode"],
            format!(
                "msc4388_mode must be the string \"off\", \"open\" or \"authenticated\"; Synapse reads {} (a {}) and refuses to start",
                v.python_str(),
                v.type_name()
            ),
            "quote it: `msc4388_mode: \"off\"` (`public` was renamed `open` in 1.151)",
        ),
    }
}

/// Keys that stand twice in the file they are read from: Synapse reads the last.
fn duplicates(f: &mut Found) {
    let cfg = f.cfg;
    for (parent, key) in [
        (&[][..], MAS),
        (&[][..], "password_config"),
        (&[][..], "enable_registration"),
        (&[][..], "experimental_features"),
        (&[MAS][..], "enabled"),
        (&[MAS][..], "secret"),
        (&[MAS][..], "endpoint"),
        (&["experimental_features"][..], "msc4108_enabled"),
    ] {
        let top = parent.first().copied().unwrap_or(key);
        let places = cfg.doc_of(&[top]).occurrences(parent, key);
        if places.len() > 1 {
            let last = places[places.len() - 1];
            let mut path = parent.to_vec();
            path.push(key);
            f.add(
                Effect::Advice,
                &path,
                format!(
                    "defined {} times (lines {}); Synapse reads the last one, line {}",
                    places.len(),
                    places
                        .iter()
                        .map(|p| p.line.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    last.line
                ),
                "delete the others",
            );
        }
    }
}

/// Plans the way back: MAS disabled but kept, and every setting `synapse` changed put back as
/// the record says it was (QR-code login and MSC4388 stay off: Synapse refuses them without
/// MAS). Without a record, password login is turned back on and the rest left as it is.
/// `records` are those of the configuration's files, in load order: a later file's wins.
pub fn plan_unlink(cfg: &Layers, records: &[&Record]) -> Changes {
    let root = cfg.value();
    let mut plan = Changes::default();
    let mut planned: Vec<Vec<String>> = Vec::new();
    let mut push = |plan: &mut Changes, edit: Edit, reason: &str| {
        let p = edit.path().to_vec();
        if !planned
            .iter()
            .any(|q| q.starts_with(&p) || p.starts_with(q))
        {
            planned.push(p);
            plan.push(edit, reason);
        }
    };
    if root
        .get(MAS)
        .is_some_and(|m| m.get("enabled") != Some(&Value::Bool(false)) && *m != Value::Null)
    {
        push(
            &mut plan,
            Edit::set(&[MAS, "enabled"], NewScalar::bool(false)),
            "Synapse handles logins itself again; the block stays, so relinking is one command",
        );
    }
    if root.get(sso::MOVED).is_some() && root.get("oidc_providers").is_none() {
        push(
            &mut plan,
            Edit::rename(&[sso::MOVED], "oidc_providers"),
            "SSO is Synapse's again: the providers `mas-link synapse` set aside are read again",
        );
    }
    let msc4108 = ["experimental_features", "msc4108_enabled"];
    match records {
        [_, ..] => {
            for before in records.iter().rev().flat_map(|r| &r.changes) {
                let keys: Vec<&str> = before.path.iter().map(String::as_str).collect();
                let now = cfg.text_at(&keys);
                match &before.text {
                    Some(text) => {
                        let Some(old) = NewScalar::raw(text, crate::yaml::Schema::Yaml11) else {
                            plan.notes.push(format!(
                                "{} was not a single value before; left as it is",
                                keys.join(".")
                            ));
                            continue;
                        };
                        // Without MAS, Synapse refuses QR-code login: it stays off.
                        let old = if keys == msc4108 && old.value.truthy() {
                            NewScalar::bool(false)
                        } else {
                            old
                        };
                        let same = now == Some(&old.text[..]);
                        if !same {
                            push(
                                &mut plan,
                                Edit::set(&keys, old),
                                "put back as it was before `mas-link synapse`",
                            );
                        }
                    }
                    None if now.is_some() => {
                        // Remove what the link created: the topmost created key when nothing
                        // else has been put under it since.
                        let created = &keys[..(before.existing + 1).min(keys.len())];
                        let only_ours = (created.len()..keys.len()).all(|n| {
                            matches!(root.at(&keys[..n]), Some(Value::Map(m)) if m.0.len() == 1)
                        });
                        let target = if only_ours { created } else { &keys[..] };
                        push(
                            &mut plan,
                            Edit::remove(target),
                            "not there before `mas-link synapse`",
                        );
                    }
                    None => {}
                }
            }
        }
        [] => {
            let password = root.at(&["password_config", "enabled"]);
            if password.is_some_and(|v| !v.truthy()) {
                push(
                    &mut plan,
                    Edit::set(&["password_config", "enabled"], NewScalar::bool(true)),
                    "password login works again (no record of the earlier value: turned on)",
                );
            }
            plan.notes.push(
                "no record of the link was found (it was not made by `mas-link synapse`, or the \
                 record was deleted): registration and the other settings are left as they are"
                    .into(),
            );
        }
    }
    if root.at(&msc4108).is_some_and(Value::truthy) {
        push(
            &mut plan,
            Edit::set(&msc4108, NewScalar::bool(false)),
            "QR-code login needs MAS; Synapse refuses it without",
        );
    }
    if root
        .at(&["experimental_features", "msc4388_mode"])
        .is_some_and(|v| v.as_str() != Some("off"))
    {
        push(
            &mut plan,
            Edit::set(
                &["experimental_features", "msc4388_mode"],
                NewScalar::string("off"),
            ),
            "MSC4388 needs MAS; Synapse refuses it without",
        );
    }
    keep_a_way_in(root, plan)
}

/// Whether anyone can log in to a Synapse that does not delegate to MAS: password login on
/// (Synapse's default), or SSO, or a password provider.
pub fn has_login_method(root: &Value) -> bool {
    let password = root
        .get("password_config")
        .filter(|p| **p != Value::Null)
        .is_none_or(|p| p.get("enabled").is_none_or(Value::truthy));
    password
        || !sso::synapse_providers(root).is_empty()
        || section_enabled(root, "cas_config", true)
        || section_enabled(root, "jwt_config", false)
        || section_enabled(root, "saml2_config", true)
        || truthy_at(root, &["password_providers"])
        || section_enabled(root, "ldap_config", false)
}

/// The way back never leaves a server nobody can log in to, nor one Synapse refuses: open
/// registration without verification is not brought back, and without any other login
/// method password login is turned on.
fn keep_a_way_in(root: &Value, mut plan: Changes) -> Changes {
    let after = |plan: &Changes| {
        let mut v = root.clone();
        for c in &plan.changes {
            c.edit.apply_to(&mut v);
        }
        v
    };
    if open_registration_without_verification(&after(&plan)) {
        let before = plan.changes.len();
        plan.changes
            .retain(|c| c.edit.path() != ["enable_registration"]);
        if plan.changes.len() < before {
            plan.notes.push(
                "enable_registration stays false: it was on without any verification (no \
                 CAPTCHA, email, token or enable_registration_without_verification), which \
                 Synapse refuses to start with"
                    .into(),
            );
        }
    }
    if !has_login_method(&after(&plan)) {
        plan.changes
            .retain(|c| c.edit.path() != ["password_config", "enabled"]);
        plan.push(
            Edit::set(&["password_config", "enabled"], NewScalar::bool(true)),
            "without MAS no other way to log in is left (no SSO, no password provider): \
             password login is turned on, so that users can log in with their Synapse passwords",
        );
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Document, Options};

    fn doc(s: &str) -> Document {
        Document::parse(s.into(), Options::PYYAML).unwrap()
    }

    fn one(d: &Document) -> Layers {
        Layers::single("hs.yaml".into(), d.clone())
    }

    fn paths(plan: &Changes) -> Vec<String> {
        plan.changes
            .iter()
            .map(|c| c.edit.path().join("."))
            .collect()
    }

    /// MAS's provider claiming a Synapse provider, its issuer unknown.
    fn claim(idp: &str) -> sso::MasProvider {
        sso::MasProvider {
            index: 0,
            issuer: None,
            synapse_idp_id: Some(idp.into()),
        }
    }

    fn opts() -> LinkOptions {
        LinkOptions {
            endpoint: "http://mas:8080/".into(),
            secret: SecretSetting::Inline("s3cret".into()),
            mas_providers: None,
            release: None,
        }
    }

    #[test]
    fn each_release_gets_what_it_accepts() {
        use crate::rules::release::Release;
        let d = doc("server_name: x\nexperimental_features:\n  msc4108_enabled: true\n");
        let cfg = Layers::single("hs".into(), d);
        let plan = |r| {
            plan_link(
                &cfg,
                &LinkOptions {
                    release: Some(r),
                    ..opts()
                },
            )
        };
        let refused = plan(Release(1, 135, 2)).unwrap_err();
        assert!(refused[0].message.to_string().contains("MAS needs 1.136.0"));
        let p136 = plan(Release(1, 136, 0)).unwrap();
        assert!(
            p136.changes
                .iter()
                .any(|c| c.reason.contains("refuses MSC4108"))
        );
        assert!(
            p136.notes
                .iter()
                .any(|n| n.contains("it works from Synapse 1.137.0"))
        );
        let p137 = plan(Release(1, 137, 0)).unwrap();
        assert!(
            !p137
                .changes
                .iter()
                .any(|c| c.reason.contains("MSC4108 beside"))
        );
    }

    #[test]
    fn plans_every_part_of_the_link() {
        let d = doc("server_name: x\n");
        let plan = plan_link(&one(&d), &opts()).unwrap();
        let paths = paths(&plan);
        assert_eq!(
            paths,
            [
                "matrix_authentication_service.enabled",
                "matrix_authentication_service.endpoint",
                "matrix_authentication_service.secret",
                "password_config.enabled",
                "enable_registration",
                "experimental_features.msc4108_enabled",
            ]
        );
        let after = d.apply(&plan.edits()).unwrap();
        assert!(
            plan_link(&one(&after.document), &opts())
                .unwrap()
                .changes
                .is_empty()
        );
    }

    #[test]
    fn registration_reads_like_strtobool_and_password_like_python() {
        let d = doc("enable_registration: \"false\"\npassword_config: {enabled: \"false\"}\n");
        let plan = plan_link(&one(&d), &opts()).unwrap();
        let paths = paths(&plan);
        assert!(!paths.contains(&"enable_registration".to_string()));
        assert!(paths.contains(&"password_config.enabled".to_string()));
    }

    #[test]
    fn data_holding_settings_are_refused_with_their_place() {
        let d = doc("a: 1\noidc_providers:\n  - idp_id: x\nuser_consent:\n  version: 1\n");
        let r = plan_link(&one(&d), &opts()).unwrap_err();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].key.as_str(), r[0].pos.line, r[0].pos.col),
            ("oidc_providers", 2, 1)
        );
        assert!(
            r[0].message.to_string().contains("needs MAS's side"),
            "{}",
            r[0].message
        );
        assert_eq!(r[1].key, "user_consent");
        // With MAS's side, the provider not covered is named; covered, it is handed over.
        let mut o = opts();
        o.mas_providers = Some(vec![claim("oidc-y")]);
        let r = plan_link(&one(&d), &o).unwrap_err();
        assert!(
            r[0].message.to_string().contains("`oidc-x`"),
            "{}",
            r[0].message
        );
        o.mas_providers = Some(vec![claim("oidc-x")]);
        let r = plan_link(&one(&d), &o).unwrap_err();
        assert_eq!(r.len(), 1, "only user_consent is left");
    }

    #[test]
    fn inactive_sections_are_left_alone() {
        let d =
            doc("saml2_config:\n  sp_config:\noidc_providers:\ncas_config:\n  enabled: false\n");
        assert!(plan_link(&one(&d), &opts()).is_ok());
    }

    #[test]
    fn turns_off_what_holds_no_data() {
        let d =
            doc("enable_3pid_changes: yes\nsession_lifetime: 24h\ndisable_registration: false\n");
        let plan = plan_link(&one(&d), &opts()).unwrap();
        let after = d.apply(&plan.edits()).unwrap();
        let v = after.document.value();
        assert_eq!(v.get("enable_3pid_changes"), Some(&Value::Bool(false)));
        assert_eq!(v.get("session_lifetime"), None);
        assert_eq!(v.get("disable_registration"), Some(&Value::Bool(true)));
    }

    #[test]
    fn secret_keys() {
        for k in [
            "secret",
            "macaroon_secret_key",
            "admin_token",
            "password",
            "smtp_pass",
            "client_secret",
        ] {
            assert!(is_secret_key(&[k]), "{k}");
        }
        for k in [
            "secret_path",
            "refresh_token_lifetime",
            "password_config",
            "enabled",
            "signing_key_path",
            "registration_requires_token",
            "token_endpoint",
            "password_reset",
        ] {
            assert!(!is_secret_key(&[k]), "{k}");
        }
    }
}

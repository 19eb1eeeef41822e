//! What MAS refuses at start outside its `matrix` section: the sections and values every MAS
//! config needs, as `mas-cli config check` judges them (measured with MAS 1.22: the message
//! each refusal quotes is MAS's own). Where `mas-cli` is installed its verdict stands over
//! these; without it, they say what MAS would refuse.

use super::layers::Layers;
use crate::findings::{Effect, Finding, Guide, Source};
use crate::yaml::Value;

/// Crockford's base-32 digits, as a ULID (MAS's ids) spells them, either case.
const ULID_DIGITS: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Whether `id` is a ULID as MAS parses one: 26 base-32 digits.
pub fn is_ulid(id: &str) -> bool {
    id.len() == 26
        && id
            .chars()
            .all(|c| ULID_DIGITS.contains(c.to_ascii_uppercase()))
}

/// Whether `key` is MAS's encryption key: 64 hexadecimal digits (32 bytes).
pub fn is_encryption_key(key: &str) -> bool {
    key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit())
}

/// The refusals, each at its key.
pub fn findings(cfg: &Layers) -> Vec<Finding> {
    let root = cfg.value();
    let mut out = Vec::new();
    let mut refuse = |path: &[&str], at: &[&str], message: String, fix: &str| {
        out.push(Finding::new(
            Source::Mas,
            Effect::Refuses,
            path,
            cfg.locate(at),
            message,
            Guide::text(fix),
        ));
    };
    for (path, at, message, fix) in secrets(root)
        .into_iter()
        .chain(http(root))
        .chain(ids(root))
        .chain(providers(root))
        .chain(templates(root))
    {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let at: Vec<&str> = at.iter().map(String::as_str).collect();
        refuse(&path, &at, message, fix);
    }
    out
}

/// A refusal: the key it is about, the key to point at (a missing key points at its parent),
/// MAS's message and what to do.
type Refusal = (Vec<String>, Vec<String>, String, &'static str);

fn keys(path: &[&str]) -> Vec<String> {
    path.iter().map(|k| (*k).to_owned()).collect()
}

const SECRETS_FIX: &str = "generate a config with `mas-cli config generate` and copy its \
    `secrets` section (encryption: 64 hex digits, e.g. `openssl rand -hex 32`; keys: signing \
    keys)";

/// `secrets`: there, with an encryption key of 32 bytes in hex (or a file holding it).
fn secrets(root: &Value) -> Vec<Refusal> {
    let Some(secrets) = root.get("secrets") else {
        return vec![(
            keys(&["secrets"]),
            Vec::new(),
            "no `secrets` section (MAS: \"missing field `secrets`\"): MAS refuses to start".into(),
            SECRETS_FIX,
        )];
    };
    let has_file = secrets.get("encryption_file").is_some();
    match secrets.get("encryption") {
        None if !has_file => vec![(
            keys(&["secrets", "encryption"]),
            keys(&["secrets"]),
            "neither `encryption` nor `encryption_file` (MAS: \"Missing `encryption` or \
             `encryption_file`\"): MAS refuses to start"
                .into(),
            SECRETS_FIX,
        )],
        Some(Value::Str(key)) if !is_encryption_key(key) => vec![(
            keys(&["secrets", "encryption"]),
            keys(&["secrets", "encryption"]),
            format!(
                "`encryption` is not 64 hexadecimal digits (32 bytes; it has {} characters): MAS \
                 refuses to start",
                key.chars().count()
            ),
            SECRETS_FIX,
        )],
        Some(v) if !matches!(v, Value::Str(_)) => vec![(
            keys(&["secrets", "encryption"]),
            keys(&["secrets", "encryption"]),
            format!(
                "`encryption` is {}, not 64 hexadecimal digits: MAS refuses to start",
                v.type_name()
            ),
            SECRETS_FIX,
        )],
        _ => Vec::new(),
    }
}

/// `http`: when there, its `public_base`, and each listener binding somewhere.
fn http(root: &Value) -> Vec<Refusal> {
    let Some(http) = root.get("http") else {
        // Absent, MAS takes its defaults.
        return Vec::new();
    };
    let mut out = Vec::new();
    if http.get("public_base").is_none() {
        out.push((
            keys(&["http", "public_base"]),
            keys(&["http"]),
            "`http` has no `public_base` (MAS: \"missing field `public_base`\"): MAS refuses to \
             start"
                .into(),
            "set http.public_base to MAS's public URL (e.g. https://auth.example.com/)",
        ));
    }
    let listeners = match http.get("listeners") {
        Some(Value::Seq(l)) => l.as_slice(),
        _ => &[],
    };
    for (i, listener) in listeners.iter().enumerate() {
        let index = i.to_string();
        let path = ["http", "listeners", index.as_str()];
        let why = match listener.get("binds") {
            None => "has no `binds` (MAS: \"missing field `binds`\")",
            Some(Value::Seq(b)) if b.is_empty() => {
                "binds to nothing (MAS: \"listener does not bind to any address\")"
            }
            _ => continue,
        };
        out.push((
            keys(&[&path[..], &["binds"][..]].concat()),
            keys(&path),
            format!("listener {i} {why}: MAS refuses to start"),
            "give it `binds`, e.g. `- address: '[::]:8080'`",
        ));
    }
    out
}

/// MAS's ids are ULIDs: each client's `client_id`, each upstream provider's `id`.
fn ids(root: &Value) -> Vec<Refusal> {
    let mut out = Vec::new();
    for (list, key) in [
        (&["clients"][..], "client_id"),
        (&["upstream_oauth2", "providers"][..], "id"),
    ] {
        let Some(Value::Seq(items)) = root.at(list) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let Some(Value::Str(id)) = item.get(key) else {
                continue;
            };
            if is_ulid(id) {
                continue;
            }
            let index = i.to_string();
            let path = [list, &[index.as_str(), key]].concat();
            out.push((
                keys(&path),
                keys(&path),
                format!(
                    "`{id}` is not a ULID (26 characters of 0-9 and A-Z without I, L, O, U): MAS \
                     refuses to start"
                ),
                "use a ULID, e.g. one `mas-cli config generate` writes, and keep it: it is the \
                 id MAS stores",
            ));
        }
    }
    out
}

/// Each upstream provider's fields as its `token_endpoint_auth_method` needs them (MAS's
/// `UpstreamOAuth2Config::validate`): an issuer unless discovery is off, a client secret
/// exactly for the methods that use one, a signing algorithm exactly for the JWT ones, the
/// `sign_in_with_apple` section exactly for Apple's.
fn providers(root: &Value) -> Vec<Refusal> {
    let Some(Value::Seq(list)) = root.at(&["upstream_oauth2", "providers"]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let index = i.to_string();
        let at = ["upstream_oauth2", "providers", index.as_str()];
        let method = p.get("token_endpoint_auth_method").and_then(Value::as_str);
        for (key, why) in provider_problems(p, method) {
            out.push((
                keys(&[&at[..], &[key][..]].concat()),
                keys(&at),
                format!("provider {i}: {why}: MAS refuses to start"),
                "make the provider's fields fit its token_endpoint_auth_method (MAS's \
                 documentation, upstream_oauth2)",
            ));
        }
    }
    out
}

/// What MAS refuses in one provider, key by key.
fn provider_problems(p: &Value, method: Option<&str>) -> Vec<(&'static str, String)> {
    let has = |k: &str| p.get(k).is_some_and(|v| *v != Value::Null);
    let mut out = Vec::new();
    let discovery_off = p.get("discovery_mode").and_then(Value::as_str) == Some("disabled");
    if !discovery_off && !has("issuer") {
        out.push(("issuer", "no `issuer` while discovery is on".to_owned()));
    }
    let Some(method) = method else {
        out.push((
            "token_endpoint_auth_method",
            "no `token_endpoint_auth_method` (MAS: \"missing field\")".to_owned(),
        ));
        return out;
    };
    let secret = has("client_secret") || has("client_secret_file");
    let (wants_secret, wants_alg) = match method {
        "none" | "sign_in_with_apple" => (false, false),
        "private_key_jwt" => (false, true),
        "client_secret_jwt" => (true, true),
        "client_secret_basic" | "client_secret_post" => (true, false),
        // Another method is MAS's own to judge (a type error, or a newer one).
        _ => return out,
    };
    if secret != wants_secret {
        out.push((
            "client_secret",
            match wants_secret {
                true => format!("`{method}` needs `client_secret` (or `client_secret_file`)"),
                false => format!("`{method}` takes no `client_secret`"),
            },
        ));
    }
    if has("token_endpoint_auth_signing_alg") != wants_alg {
        out.push((
            "token_endpoint_auth_signing_alg",
            match wants_alg {
                true => format!("`{method}` needs `token_endpoint_auth_signing_alg`"),
                false => format!("`{method}` takes no `token_endpoint_auth_signing_alg`"),
            },
        ));
    }
    if has("sign_in_with_apple") != (method == "sign_in_with_apple") {
        out.push((
            "sign_in_with_apple",
            match method {
                "sign_in_with_apple" => "`sign_in_with_apple` needs its section".to_owned(),
                _ => format!("`{method}` takes no `sign_in_with_apple` section"),
            },
        ));
    }
    out
}

/// `templates.path: null`: MAS wants a path, or the key left out.
fn templates(root: &Value) -> Vec<Refusal> {
    match root.at(&["templates", "path"]) {
        Some(Value::Null) => vec![(
            keys(&["templates", "path"]),
            keys(&["templates", "path"]),
            "`path` is null, and MAS expects a path string: MAS refuses to start".into(),
            "remove the key (MAS then uses its own templates), or give a path",
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_and_keys_as_mas_reads_them() {
        // Measured with mas-cli: lowercase is accepted, U and I are not, 25 characters are not.
        assert!(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert!(is_ulid("01arz3ndektsv4rrffq69g5fav"));
        assert!(!is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU"));
        assert!(!is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAI"));
        assert!(!is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FA"));
        assert!(is_encryption_key(&"aB".repeat(32)));
        assert!(!is_encryption_key("abcd"));
        assert!(!is_encryption_key(&"z".repeat(64)));
    }
}

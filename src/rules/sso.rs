//! The SSO hand-over: Synapse's OpenID Connect providers move to MAS's
//! `upstream_oauth2.providers`, each tied to Synapse's by `synapse_idp_id` (`oidc-<idp_id>`, or
//! `oidc` for the legacy `oidc_config`), so that MAS's migration carries users' SSO links over.
//!
//! Synapse 1.163 counts every `oidc_providers` entry as SSO (an entry's `enabled: false` is
//! ignored, and Synapse refuses to start next to MAS), so the hand-over renames the key to
//! [`MOVED`]: the entries stay byte for byte, Synapse ignores the unknown key, and `unlink`
//! renames it back. The legacy `oidc_config` has its own `enabled`, set to false.

use serde::{Deserialize, Serialize};

use super::Changes;
use super::names::same_url;
use crate::yaml::{Edit, NewScalar, Value};

/// Where the hand-over keeps Synapse's `oidc_providers`, for the way back.
pub const MOVED: &str = "oidc_providers_moved_to_mas";

/// Synapse's default user mapping, whose templates MAS's claims imports can express.
const JINJA_MAPPING: &[&str] = &[
    "synapse.handlers.oidc.JinjaOidcMappingProvider",
    "synapse.handlers.oidc_handler.JinjaOidcMappingProvider",
];

/// One OpenID Connect provider Synapse signs users in with, as much of it as MAS can take.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SynapseProvider {
    /// `oidc-<idp_id>` (or `oidc`): what Synapse's `user_external_ids` hold.
    pub auth_provider: String,
    /// The key it is under: `oidc_providers` (with its item number) or `oidc_config`.
    pub legacy: bool,
    pub index: usize,
    pub name: Option<String>,
    pub brand: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_path: Option<String>,
    pub client_auth_method: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub discover: Option<bool>,
    pub skip_verification: Option<bool>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub pkce_method: Option<String>,
    pub user_profile_method: Option<String>,
    pub subject_claim: Option<String>,
    pub localpart_template: Option<String>,
    pub display_name_template: Option<String>,
    pub email_template: Option<String>,
    pub allow_existing_users: Option<bool>,
    pub additional_authorization_parameters: Vec<(String, String)>,
    /// `client_secret_jwt_key`: the client secret is a JWT Synapse signs with this key.
    pub jwt_key: Option<JwtKey>,
    /// What MAS cannot take over, each with why: named in the output, never dropped silently.
    pub untranslatable: Vec<String>,
}

/// Synapse's `client_secret_jwt_key`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwtKey {
    pub key_file: Option<String>,
    pub key: Option<String>,
    pub alg: Option<String>,
    pub kid: Option<String>,
    /// The JWT's `iss`: Apple's team ID.
    pub iss: Option<String>,
}

impl JwtKey {
    /// Sign in with Apple's shape (Synapse's documented Apple set-up), which MAS has a method
    /// for: ES256 with a key ID and a team ID.
    fn is_apple(&self) -> bool {
        self.alg.as_deref() == Some("ES256") && self.kid.is_some() && self.iss.is_some()
    }
}

impl SynapseProvider {
    /// How the output names it: `oidc-keycloak` ("Keycloak", https://kc.example.com/…).
    pub fn label(&self) -> String {
        let mut s = format!("`{}`", self.auth_provider);
        if let Some(n) = &self.name {
            s.push_str(&format!(" (\"{n}\""));
            if let Some(i) = &self.issuer {
                s.push_str(&format!(", {i}"));
            }
            s.push(')');
        } else if let Some(i) = &self.issuer {
            s.push_str(&format!(" ({i})"));
        }
        s
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn flag(v: &Value, key: &str) -> Option<bool> {
    match v.get(key) {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

/// Keys of a Synapse provider that the translation carries over.
const CARRIED: &[&str] = &[
    "client_secret_jwt_key",
    "idp_id",
    "idp_name",
    "idp_brand",
    "issuer",
    "client_id",
    "client_secret",
    "client_secret_path",
    "client_auth_method",
    "scopes",
    "discover",
    "skip_verification",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "pkce_method",
    "user_profile_method",
    "user_mapping_provider",
    "allow_existing_users",
    "additional_authorization_parameters",
    "enabled",
];

/// Why a Synapse provider setting has no place in MAS's provider.
fn why_not(key: &str) -> String {
    let why = match key {
        "client_secret_jwt_key" => {
            "a client secret signed as a JWT: MAS signs client assertions itself \
             (token_endpoint_auth_method private_key_jwt with a key from MAS's secrets.keys, \
             or sign_in_with_apple); set it on MAS's provider by hand"
        }
        "idp_icon" => "MAS's login page shows no provider icons (brand_name picks a style)",
        "attribute_requirements" => {
            "MAS has no per-provider claim requirements: express them in MAS's policy"
        }
        "enable_registration" => {
            "MAS has no per-provider switch for new accounts: use MAS's policy or \
             registration settings"
        }
        "backchannel_logout_enabled" | "backchannel_logout_ignore_sub" => {
            "set MAS's on_backchannel_logout on the provider by hand"
        }
        "redirect_uri" => {
            "MAS has its own callback URL (printed below): register that one at the provider"
        }
        "user_profile_method" => "MAS reads the profile from the ID token unless fetch_userinfo",
        "id_token_signing_alg_values_supported" => {
            "set id_token_signed_response_alg on MAS's provider by hand"
        }
        _ => "MAS has no such setting",
    };
    format!("{key}: {why}")
}

/// Whether a Synapse mapping template can stand as a MAS claims template: MAS's templates read
/// claims as `user.<claim>` too, but have none of Synapse's own filters.
fn expressible(template: &str) -> bool {
    !template.contains("localpart_from_email")
}

/// One provider's entry, read as Synapse reads it.
fn read_provider(v: &Value, auth_provider: String, legacy: bool, index: usize) -> SynapseProvider {
    let mut p = SynapseProvider {
        auth_provider,
        legacy,
        index,
        name: text(v, "idp_name"),
        brand: text(v, "idp_brand"),
        issuer: text(v, "issuer"),
        client_id: text(v, "client_id"),
        client_secret: text(v, "client_secret"),
        client_secret_path: text(v, "client_secret_path"),
        client_auth_method: text(v, "client_auth_method"),
        scopes: match v.get("scopes") {
            Some(Value::Seq(s)) => Some(
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => None,
        },
        discover: flag(v, "discover"),
        skip_verification: flag(v, "skip_verification"),
        authorization_endpoint: text(v, "authorization_endpoint"),
        token_endpoint: text(v, "token_endpoint"),
        userinfo_endpoint: text(v, "userinfo_endpoint"),
        jwks_uri: text(v, "jwks_uri"),
        pkce_method: text(v, "pkce_method"),
        user_profile_method: text(v, "user_profile_method"),
        allow_existing_users: flag(v, "allow_existing_users"),
        ..SynapseProvider::default()
    };
    if let Some(k @ Value::Map(_)) = v.get("client_secret_jwt_key") {
        let header = k.get("jwt_header").unwrap_or(&Value::Null);
        let payload = k.get("jwt_payload").unwrap_or(&Value::Null);
        p.jwt_key = Some(JwtKey {
            key_file: text(k, "key_file"),
            key: text(k, "key"),
            alg: text(header, "alg"),
            kid: text(header, "kid"),
            iss: text(payload, "iss"),
        });
    }
    if let Some(Value::Map(m)) = v.get("additional_authorization_parameters") {
        for (k, val) in &m.0 {
            if let (Some(k), Some(val)) = (k.as_str(), val.as_str()) {
                p.additional_authorization_parameters
                    .push((k.to_owned(), val.to_owned()));
            }
        }
    }
    if let Some(Value::Map(m)) = v.get("user_mapping_provider") {
        let module = m.get("module").and_then(Value::as_str);
        let config = m.get("config").unwrap_or(&Value::Null);
        match module {
            Some(module) if !JINJA_MAPPING.contains(&module) => p.untranslatable.push(format!(
                "user_mapping_provider: the module `{module}` is Synapse code; MAS imports \
                 claims with templates (claims_imports): write them by hand"
            )),
            _ => {
                p.subject_claim = text(config, "subject_claim");
                for (key, slot) in [
                    ("localpart_template", &mut p.localpart_template),
                    ("display_name_template", &mut p.display_name_template),
                    ("email_template", &mut p.email_template),
                ] {
                    match text(config, key) {
                        Some(t) if expressible(&t) => *slot = Some(t),
                        Some(t) => p.untranslatable.push(format!(
                            "user_mapping_provider.config.{key} `{t}`: Synapse's own filter \
                             (localpart_from_email) has no MAS equivalent; write the claims \
                             import by hand"
                        )),
                        None => {}
                    }
                }
            }
        }
    }
    if let Value::Map(m) = v {
        for (k, _) in &m.0 {
            if let Some(k) = k.as_str()
                && !CARRIED.contains(&k)
            {
                p.untranslatable.push(why_not(k));
            }
        }
    }
    if p.user_profile_method.as_deref() == Some("auto") {
        p.user_profile_method = None;
    }
    p
}

/// Synapse's `auth_provider` for an `idp_id` (Synapse's `_parse_oidc_config_dict`).
fn auth_provider(idp_id: &str) -> String {
    match idp_id {
        "oidc" => "oidc".into(),
        id => format!("oidc-{id}"),
    }
}

/// The providers Synapse signs users in with: each `oidc_providers` entry (all count, whatever
/// they say of `enabled`), and the legacy `oidc_config` when enabled.
pub fn synapse_providers(root: &Value) -> Vec<SynapseProvider> {
    let mut out = Vec::new();
    if let Some(Value::Seq(items)) = root.get("oidc_providers") {
        for (i, item) in items.iter().enumerate() {
            let id = text(item, "idp_id").unwrap_or_default();
            out.push(read_provider(item, auth_provider(&id), false, i));
        }
    }
    if let Some(cfg) = root
        .get("oidc_config")
        .filter(|c| c.get("enabled").is_some_and(Value::truthy))
    {
        let id = text(cfg, "idp_id").unwrap_or_else(|| "oidc".into());
        out.push(read_provider(cfg, auth_provider(&id), true, 0));
    }
    out
}

/// The providers set aside for MAS: those under [`MOVED`], and a legacy `oidc_config` that is
/// switched off. Still Synapse's, for MAS to keep covering and `unlink` to bring back.
pub fn moved_providers(root: &Value) -> Vec<SynapseProvider> {
    let mut out = Vec::new();
    if let Some(Value::Seq(items)) = root.get(MOVED) {
        for (i, item) in items.iter().enumerate() {
            let id = text(item, "idp_id").unwrap_or_default();
            out.push(read_provider(item, auth_provider(&id), false, i));
        }
    }
    if let Some(cfg) = root
        .get("oidc_config")
        .filter(|c| !c.get("enabled").is_some_and(Value::truthy) && c.get("issuer").is_some())
    {
        let id = text(cfg, "idp_id").unwrap_or_else(|| "oidc".into());
        out.push(read_provider(cfg, auth_provider(&id), true, 0));
    }
    out
}

pub const SSO_TAG: &str = "mas-link-sso/1";

/// Synapse's side for MAS's: its server name and URL, its OpenID Connect providers (with
/// their client secrets) and its password pepper: piped from one container to the other,
/// never saved or put in argv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoBundle {
    pub server_name: Option<String>,
    pub public_baseurl: Option<String>,
    pub providers: Vec<SynapseProvider>,
    /// Synapse's `password_config.pepper`: MAS checks migrated passwords with it.
    #[serde(default)]
    pub pepper: Option<String>,
    /// How many of Synapse's users have a password, when its database could be read: with
    /// none, MAS needs no scheme for Synapse's passwords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_users: Option<u64>,
    /// What `syn2mas` reads of Synapse's configuration (`sso --migration` only): its database
    /// credentials among it, for `mas-link migrate` in MAS's app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn2mas: Option<serde_json::Value>,
}

impl SsoBundle {
    /// Synapse's side, from its configuration: the providers in use and those already handed
    /// over (so that running the pipe again changes nothing).
    pub fn of(root: &Value) -> SsoBundle {
        let mut providers = synapse_providers(root);
        providers.extend(moved_providers(root));
        SsoBundle {
            server_name: text(root, "server_name"),
            public_baseurl: text(root, "public_baseurl"),
            providers,
            pepper: root
                .at(&["password_config", "pepper"])
                .and_then(Value::as_str)
                .map(str::to_owned),
            password_users: None,
            syn2mas: None,
        }
    }

    pub fn to_line(&self) -> String {
        format!(
            "{SSO_TAG} {}",
            serde_json::to_string(self).expect("a bundle serializes")
        )
    }

    pub fn parse(text: &str) -> Option<SsoBundle> {
        let json = text.trim().strip_prefix(SSO_TAG)?.trim_start();
        serde_json::from_str(json).ok()
    }
}

/// What Synapse's side says of the hand-over, one line a provider (for `check`).
pub fn synapse_report(root: &Value) -> Vec<String> {
    let moved = moved_providers(root);
    let active = synapse_providers(root);
    moved
        .iter()
        .map(|p| {
            format!(
                "Synapse's {} is handed over to MAS (kept under {MOVED})",
                p.label()
            )
        })
        .chain(
            active
                .iter()
                .map(|p| format!("Synapse signs users in with {}", p.label())),
        )
        .collect()
}

/// What MAS's side says of the hand-over: each provider that takes over one of Synapse's.
pub fn mas_report(providers: &[MasProvider]) -> Vec<String> {
    providers
        .iter()
        .filter_map(|m| {
            let id = m.synapse_idp_id.as_ref()?;
            Some(format!(
                "MAS's provider {} ({}) takes over Synapse's `{id}`",
                m.index,
                m.issuer.as_deref().unwrap_or("no issuer")
            ))
        })
        .collect()
}

/// One of MAS's upstream providers, as far as the hand-over needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasProvider {
    pub index: usize,
    pub issuer: Option<String>,
    pub synapse_idp_id: Option<String>,
}

pub const PROVIDERS: &[&str] = &["upstream_oauth2", "providers"];

/// MAS's upstream providers.
pub fn mas_providers(root: &Value) -> Vec<MasProvider> {
    let Some(Value::Seq(items)) = root.at(PROVIDERS) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(index, p)| MasProvider {
            index,
            issuer: text(p, "issuer"),
            synapse_idp_id: text(p, "synapse_idp_id"),
        })
        .collect()
}

/// Whether MAS's provider `m` takes over Synapse's `p`: it claims it (`synapse_idp_id`) and,
/// where both name one, for the same issuer (another issuer is another identity provider:
/// its users would sign in somewhere else).
fn covers(m: &MasProvider, p: &SynapseProvider) -> bool {
    m.synapse_idp_id.as_deref() == Some(p.auth_provider.as_str())
        && match (&m.issuer, &p.issuer) {
            (Some(a), Some(b)) => same_url(a, b),
            _ => true,
        }
}

/// The Synapse providers no MAS provider takes over (see [`covers`]).
pub fn uncovered<'a>(
    synapse: &'a [SynapseProvider],
    mas: &[MasProvider],
) -> Vec<&'a SynapseProvider> {
    synapse
        .iter()
        .filter(|p| !mas.iter().any(|m| covers(m, p)))
        .collect()
}

/// Where MAS's provider claims Synapse's `p` by `synapse_idp_id` for another issuer: the
/// sentence that names both issuers.
pub fn issuer_clash(p: &SynapseProvider, mas: &[MasProvider]) -> Option<String> {
    let m = mas
        .iter()
        .find(|m| m.synapse_idp_id.as_deref() == Some(p.auth_provider.as_str()) && !covers(m, p))?;
    Some(format!(
        "MAS's upstream provider {} has synapse_idp_id `{}` but issuer {}, while Synapse's \
         provider has issuer {}: its users would sign in at another identity provider. Set \
         that MAS provider's issuer to Synapse's, or its synapse_idp_id to another name",
        m.index,
        p.auth_provider,
        m.issuer.as_deref().unwrap_or("?"),
        p.issuer.as_deref().unwrap_or("?")
    ))
}

/// Why MAS's side cannot take Synapse's providers over as they are: a MAS provider for another
/// issuer claims one, or Synapse's has no client ID (Synapse refuses it too).
pub fn handover_refusals(synapse: &[SynapseProvider], mas: &[MasProvider]) -> Vec<String> {
    let mut out: Vec<String> = synapse
        .iter()
        .filter_map(|p| issuer_clash(p, mas))
        .collect();
    for p in synapse {
        if p.client_id.as_deref().is_none_or(str::is_empty) && !mas.iter().any(|m| covers(m, p)) {
            out.push(format!(
                "Synapse's SSO provider {} has no client_id (Synapse refuses it too): MAS \
                 cannot sign in with it. Give it the client ID its identity provider issued, \
                 in Synapse's file, then run this again",
                p.label()
            ));
        }
    }
    out
}

/// What MAS's side needs to cover Synapse's providers: `synapse_idp_id` set on a provider with
/// the same issuer, or a provider added (with a fresh ULID from `new_id`), and notes for what
/// could not be carried over and the callback URL to register. `public_base` is MAS's.
pub fn plan_mas(
    mas_root: &Value,
    synapse: &[SynapseProvider],
    public_base: Option<&str>,
    new_id: &mut dyn FnMut() -> String,
) -> Changes {
    let mut plan = Changes::default();
    let mas = mas_providers(mas_root);
    for p in synapse {
        if mas.iter().any(|m| covers(m, p)) {
            continue;
        }
        let same_issuer = mas.iter().find(|m| {
            m.synapse_idp_id.is_none()
                && matches!((&m.issuer, &p.issuer), (Some(a), Some(b)) if same_url(a, b))
        });
        if let Some(m) = same_issuer {
            let index = m.index.to_string();
            plan.push(
                Edit::set(&["upstream_oauth2", "providers", &index, "synapse_idp_id"], NewScalar::string(&p.auth_provider)),
                format!(
                    "MAS's provider for {} takes over Synapse's {}: its users' SSO links migrate to it",
                    m.issuer.as_deref().unwrap_or("?"),
                    p.label()
                ),
            );
            continue;
        }
        let id = new_id();
        plan.push(
            Edit::push(PROVIDERS, translate(p, &id)),
            format!("Synapse's SSO provider {} moves to MAS", p.label()),
        );
        for u in &p.untranslatable {
            plan.notes
                .push(format!("{}: not carried over: {u}", p.auth_provider));
        }
        if let (None, Some(path)) = (&p.client_secret, &p.client_secret_path) {
            plan.notes.push(format!(
                "{}: client_secret_file {path}: MAS reads the client secret from this file, \
                 which must exist where MAS runs (across two containers, copy it into MAS's)",
                p.auth_provider
            ));
        }
        if p.jwt_key.as_ref().is_some_and(|k| !k.is_apple()) {
            plan.notes.push(format!(
                "{}: not carried over: client_secret_jwt_key (Synapse signs the client secret \
                 with its own key); MAS authenticates with private_key_jwt, signed with MAS's \
                 own keys (secrets.keys): give the provider MAS's public keys \
                 ({}/oauth2/keys.json) instead",
                p.auth_provider,
                public_base.unwrap_or("https://MAS").trim_end_matches('/')
            ));
        }
        let base = public_base.unwrap_or("https://MAS/");
        let base = base.strip_suffix('/').unwrap_or(base);
        plan.notes.push(format!(
            "{}: register MAS's callback URL at the provider: {base}/upstream/callback/{id}",
            p.auth_provider
        ));
    }
    plan
}

/// MAS's provider for a Synapse provider: its settings in MAS's names, as scalars at paths
/// within the new item.
pub fn translate(p: &SynapseProvider, id: &str) -> Vec<(Vec<String>, NewScalar)> {
    let mut item = Item::default();
    item.text("id", Some(id));
    item.text("synapse_idp_id", Some(&p.auth_provider));
    item.text("human_name", p.name.as_deref());
    item.text("brand_name", p.brand.as_deref());
    item.text("issuer", p.issuer.as_deref());
    item.text(
        "client_id",
        Some(p.client_id.as_deref().unwrap_or_default()),
    );
    if let Some(secret) = &p.client_secret {
        item.text("client_secret", Some(secret));
    } else if let Some(path) = &p.client_secret_path {
        item.text("client_secret_file", Some(path));
    }
    client_auth(&mut item, p);
    let scopes = discovery(&mut item, p);
    claims(&mut item, p, &scopes);
    for (k, v) in &p.additional_authorization_parameters {
        item.0.push((
            vec!["additional_authorization_parameters".into(), k.clone()],
            NewScalar::string(v),
        ));
    }
    item.0
}

/// A MAS provider's keys (dotted paths) and values, in the order they are written.
#[derive(Default)]
struct Item(Vec<(Vec<String>, NewScalar)>);

impl Item {
    fn set(&mut self, path: &str, value: NewScalar) {
        self.0
            .push((path.split('.').map(str::to_owned).collect(), value));
    }

    /// A string, when there is one.
    fn text(&mut self, path: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.set(path, NewScalar::string(v));
        }
    }
}

/// How MAS authenticates to the provider: Synapse's method, its JWT key as MAS's
/// `private_key_jwt` (with its algorithm) or Sign in with Apple.
fn client_auth(item: &mut Item, p: &SynapseProvider) {
    let method = match (&p.jwt_key, p.client_auth_method.as_deref()) {
        (Some(k), _) if k.is_apple() => "sign_in_with_apple",
        (Some(_), _) => "private_key_jwt",
        (None, Some(m)) => m,
        (None, None) if p.client_secret.is_none() && p.client_secret_path.is_none() => "none",
        (None, None) => "client_secret_basic",
    };
    item.text("token_endpoint_auth_method", Some(method));
    // MAS refuses private_key_jwt without the algorithm it signs with (`mas-cli config check`:
    // "missing field `token_endpoint_auth_signing_alg`"): the one the provider was set up for
    // with Synapse, else RS256 (MAS's generated keys hold an RSA key).
    if method == "private_key_jwt" {
        let alg = p.jwt_key.as_ref().and_then(|k| k.alg.as_deref());
        item.text(
            "token_endpoint_auth_signing_alg",
            Some(alg.unwrap_or("RS256")),
        );
    }
    if let Some(k) = p.jwt_key.as_ref().filter(|k| k.is_apple()) {
        if let Some(f) = &k.key_file {
            item.text("sign_in_with_apple.private_key_file", Some(f));
        } else if let Some(key) = &k.key {
            item.text("sign_in_with_apple.private_key", Some(key));
        }
        item.text(
            "sign_in_with_apple.team_id",
            Some(k.iss.as_deref().unwrap_or_default()),
        );
        item.text(
            "sign_in_with_apple.key_id",
            Some(k.kid.as_deref().unwrap_or_default()),
        );
    }
}

/// The scopes asked for, discovery, and the endpoints given by hand; returns the scopes.
fn discovery(item: &mut Item, p: &SynapseProvider) -> Vec<String> {
    let mut scopes = p.scopes.clone().unwrap_or_else(|| vec!["openid".into()]);
    let apple = p.jwt_key.as_ref().is_some_and(JwtKey::is_apple);
    // Apple answers with an ID token, which MAS asks for with `openid` (MAS's Apple example).
    if apple && !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    item.text("scope", Some(&scopes.join(" ")));
    let mode = match (p.discover, p.skip_verification) {
        (Some(false), _) => Some("disabled"),
        (_, Some(true)) => Some("insecure"),
        _ => None,
    };
    item.text("discovery_mode", mode);
    item.text(
        "authorization_endpoint",
        p.authorization_endpoint.as_deref(),
    );
    item.text("token_endpoint", p.token_endpoint.as_deref());
    item.text("userinfo_endpoint", p.userinfo_endpoint.as_deref());
    item.text("jwks_uri", p.jwks_uri.as_deref());
    item.text("pkce_method", p.pkce_method.as_deref());
    scopes
}

/// Where the user's attributes come from: the userinfo endpoint when Synapse reads it, and
/// Synapse's templates as MAS's claims imports.
fn claims(item: &mut Item, p: &SynapseProvider, scopes: &[String]) {
    // Synapse reads the userinfo endpoint when asked, or (`auto`) when no ID token comes
    // (no `openid` scope); MAS only when told.
    let no_id_token = !scopes.iter().any(|s| s == "openid");
    if p.user_profile_method.as_deref() == Some("userinfo_endpoint") || no_id_token {
        item.set("fetch_userinfo", NewScalar::bool(true));
    }
    if let Some(claim) = &p.subject_claim {
        let template = format!("{{{{ user.{claim} }}}}");
        item.text("claims_imports.subject.template", Some(&template));
    }
    if let Some(t) = &p.localpart_template {
        item.text("claims_imports.localpart.action", Some("require"));
        item.text("claims_imports.localpart.template", Some(t));
        if p.allow_existing_users == Some(true) {
            item.text("claims_imports.localpart.on_conflict", Some("add"));
        }
    }
    if let Some(t) = &p.display_name_template {
        item.text("claims_imports.displayname.action", Some("suggest"));
        item.text("claims_imports.displayname.template", Some(t));
    }
    if let Some(t) = &p.email_template {
        item.text("claims_imports.email.action", Some("suggest"));
        item.text("claims_imports.email.template", Some(t));
    }
}

/// Synapse's side of the hand-over, once MAS covers every provider: `oidc_providers` renamed
/// to [`MOVED`], the legacy `oidc_config` disabled.
pub fn plan_synapse(root: &Value, providers: &[SynapseProvider]) -> Changes {
    let mut plan = Changes::default();
    if providers.iter().any(|p| !p.legacy) && root.get(MOVED).is_none() {
        plan.push(
            Edit::rename(&["oidc_providers"], MOVED),
            format!(
                "MAS signs these users in now ({}); Synapse would refuse to start with any \
                 oidc_providers entry, so the list is kept under this name, unread, for \
                 `mas-link unlink`",
                providers
                    .iter()
                    .filter(|p| !p.legacy)
                    .map(|p| p.auth_provider.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if providers.iter().any(|p| p.legacy) {
        plan.push(
            Edit::set(&["oidc_config", "enabled"], NewScalar::bool(false)),
            "MAS signs these users in now (oidc); the section is kept for `mas-link unlink`",
        );
    }
    plan
}

/// ULID (https://github.com/ulid/spec) from a time in milliseconds and 10 random bytes: the
/// `id` MAS's providers need.
/// Crockford's base 32, the digits of a ULID.
pub const ULID_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn ulid(millis: u64, random: &[u8; 10]) -> String {
    const ALPHABET: &[u8] = ULID_ALPHABET;
    let mut n: u128 = u128::from(millis & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        n |= u128::from(*b) << (8 * (9 - i));
    }
    (0..26)
        .rev()
        .map(|i| ALPHABET[((n >> (5 * i)) & 31) as usize] as char)
        .collect()
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
    fn ulids_are_26_crockford_characters_in_time_order() {
        let a = ulid(1_700_000_000_000, &[0; 10]);
        let b = ulid(1_700_000_000_001, &[0; 10]);
        assert_eq!(a.len(), 26);
        assert!(a < b);
        assert_eq!(ulid(0, &[0xff; 10]), "0000000000ZZZZZZZZZZZZZZZZ");
    }

    #[test]
    fn reads_synapses_providers_as_synapse_names_them() {
        let root = value(
            "oidc_providers:\n  - idp_id: keycloak\n    idp_name: Keycloak\n    issuer: https://kc/\n    client_id: c\n    idp_icon: mxc://x\n    enabled: false\noidc_config:\n  enabled: true\n  issuer: https://old/\n  client_id: d\n",
        );
        let p = synapse_providers(&root);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].auth_provider, "oidc-keycloak");
        assert!(p[0].untranslatable[0].starts_with("idp_icon"));
        assert_eq!(p[1].auth_provider, "oidc");
        assert!(p[1].legacy);
    }

    #[test]
    fn a_jwt_key_is_apples_method_or_named() {
        let apple = "oidc_providers:\n  - idp_id: apple\n    issuer: https://appleid.apple.com\n    client_id: c\n    client_secret_jwt_key:\n      key_file: /k.p8\n      jwt_header: {alg: ES256, kid: K1}\n      jwt_payload: {iss: TEAM}\n";
        let other = apple.replace("ES256", "RS256");
        let method = |text: &str| {
            let p = synapse_providers(&value(text));
            let item = translate(&p[0], "01H");
            let m = item
                .iter()
                .find(|(k, _)| k == &["token_endpoint_auth_method"])
                .map(|(_, v)| v.value.clone());
            let mas = value("upstream_oauth2:\n  providers: []\n");
            let notes = plan_mas(&mas, &p, None, &mut || "01H".into()).notes;
            (m, notes.join("\n"))
        };
        let (m, notes) = method(apple);
        assert_eq!(m, Some(Value::Str("sign_in_with_apple".into())));
        assert!(!notes.contains("client_secret_jwt_key"), "{notes}");
        let (m, notes) = method(&other);
        assert_eq!(m, Some(Value::Str("private_key_jwt".into())));
        assert!(
            notes.contains("not carried over: client_secret_jwt_key"),
            "{notes}"
        );
    }

    #[test]
    fn a_provider_with_the_same_issuer_takes_the_synapse_idp_id() {
        let synapse = synapse_providers(&value(
            "oidc_providers:\n  - idp_id: cloudron\n    issuer: https://my.example.com/openid\n    client_id: c\n",
        ));
        let mas = value(
            "upstream_oauth2:\n  providers:\n    - id: 01H\n      issuer: https://my.example.com/openid/\n",
        );
        let plan = plan_mas(&mas, &synapse, None, &mut || unreachable!());
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(
            plan.changes[0].edit.path().join("."),
            "upstream_oauth2.providers.0.synapse_idp_id"
        );
    }
}

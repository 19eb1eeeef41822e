//! The rules that need both files: the secrets equal, the server names equal, each endpoint
//! pointing at the other program.

use super::layers::Layers;
use super::mas::MasView;
use super::names::{host_of, same_url};
use super::sso;
use crate::findings::{Effect, Finding, Source};

/// What is known of the Synapse side for the pairing rules.
pub struct SynapseView<'a> {
    pub cfg: &'a Layers,
    /// The shared secret as Synapse will use it (inline, or `secret_path`'s stripped contents).
    pub secret: Option<String>,
}

/// The rules that need both files: the secrets equal, the server names equal, each endpoint
/// pointing at the other program.
pub fn pairing(hs: &SynapseView, mas: &MasView) -> Vec<Finding> {
    let mut out = Vec::new();
    let root = hs.cfg.value();
    let syn_pos = |p: &[&str]| hs.cfg.locate(p);
    // Each provider Synapse handed over (or still has, before the link) needs MAS's provider
    // for it, or its users cannot sign in.
    if let Some(providers) = &mas.providers {
        let mut theirs = sso::moved_providers(root);
        theirs.extend(sso::synapse_providers(root));
        for p in sso::uncovered(&theirs, providers) {
            let key = if p.legacy {
                "oidc_config"
            } else if root.get(sso::MOVED).is_some() {
                sso::MOVED
            } else {
                "oidc_providers"
            };
            out.push(Finding::new(
                Source::Mas,
                Effect::Breaks,
                &["upstream_oauth2", "providers"],
                mas.at(&["upstream_oauth2", "providers"]),
                sso::issuer_clash(p, providers).unwrap_or_else(|| {
                    format!(
                        "no MAS provider has synapse_idp_id `{}`: the users who sign in with \
                         Synapse's {} (`{key}`) cannot sign in through MAS, and MAS's \
                         migration loses their SSO links",
                        p.auth_provider,
                        p.label()
                    )
                }),
                "add it to MAS: `mas-link sso | mas-link mas --sso-stdin --yes` (across \
                 containers, from Synapse's to MAS's)",
            ));
        }
    }
    if let (Some(a), Some(b)) = (&hs.secret, &mas.secret)
        && a != b
    {
        out.push(Finding::new(
            Source::Synapse,
            Effect::Breaks,
            &["matrix_authentication_service", "secret"],
            syn_pos(&["matrix_authentication_service", "secret"]),
            "the shared secret differs from MAS's matrix.secret: MAS's calls to Synapse \
                 get 401/403 and every login loops",
            "copy MAS's secret over: `mas-link secret | mas-link synapse --secret-stdin --yes`",
        ));
    }
    let server_name = root.get("server_name").and_then(|v| v.as_str());
    if let (Some(name), Some(hs_name)) = (server_name, &mas.homeserver)
        && name != hs_name
    {
        out.push(Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["matrix", "homeserver"],
            mas.at(&["matrix", "homeserver"]),
            format!(
                "matrix.homeserver is `{hs_name}` but Synapse's server_name is `{name}`: MAS \
                     would mint user IDs on the wrong server"
            ),
            format!("set it to `{name}`: `mas-link mas --homeserver {name}`"),
        ));
    }
    let syn_endpoint = root
        .at(&["matrix_authentication_service", "endpoint"])
        .and_then(|v| v.as_str());
    let public_baseurl = root.get("public_baseurl").and_then(|v| v.as_str());
    if let (Some(e), Some(p)) = (syn_endpoint, public_baseurl)
        && same_url(e, p)
    {
        out.push(Finding::new(
                Source::Synapse,
                Effect::Breaks,
                &["matrix_authentication_service", "endpoint"],
                syn_pos(&["matrix_authentication_service", "endpoint"]),
                format!("the MAS endpoint `{e}` is Synapse's own public_baseurl: Synapse would call itself"),
                "point it at MAS (its http.public_base, or an internal URL such as http://localhost:8080/)",
            ));
    }
    if let (Some(me), Some(pb)) = (&mas.endpoint, &mas.public_base)
        && same_url(me, pb)
    {
        out.push(Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["matrix", "endpoint"],
            mas.at(&["matrix", "endpoint"]),
            format!("matrix.endpoint `{me}` is MAS's own public_base: MAS would call itself"),
            "point it at Synapse: `mas-link mas --synapse-endpoint URL`",
        ));
    }
    if let (Some(e), Some(pb)) = (syn_endpoint, &mas.public_base)
        && let (Some(h1), Some(h2)) = (host_of(e), host_of(pb))
        && public_baseurl.and_then(host_of) == Some(h1)
        && h1 != h2
    {
        {
            out.push(
                Finding::new(
                    Source::Synapse,
                    Effect::Advice,
                    &["matrix_authentication_service", "endpoint"],
                    syn_pos(&["matrix_authentication_service", "endpoint"]),
                    format!(
                        "the MAS endpoint's host `{h1}` is Synapse's own host, not MAS's `{h2}`"
                    ),
                    "check that this URL reaches MAS",
                )
                .warning(),
            );
        }
    }
    out
}

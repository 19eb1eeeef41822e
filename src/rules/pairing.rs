//! The rules that need both files: the secrets equal, the server names equal, each endpoint
//! pointing at the other program.

use super::layers::Layers;
use super::mas::MasView;
use super::names::{host_of, same_url};
use super::sso;
use crate::findings::{Effect, Finding, Source};
use crate::findings::{Guide, Sub, command};

/// What is known of the Synapse side for the pairing rules.
pub struct SynapseView<'a> {
    pub cfg: &'a Layers,
    /// The shared secret as Synapse will use it (inline, or `secret_path`'s stripped contents).
    pub secret: Option<String>,
}

/// The rules that need both files: the secrets equal, the server names equal, each endpoint
/// pointing at the other program.
pub fn pairing(hs: &SynapseView, mas: &MasView) -> Vec<Finding> {
    let mut out = providers(hs, mas);
    out.extend(secrets(hs, mas));
    out.extend(names(hs, mas));
    out.extend(endpoints(hs, mas));
    out
}

/// Each provider Synapse handed over (or still has, before the link) needs MAS's provider
/// for it, or its users cannot sign in.
fn providers(hs: &SynapseView, mas: &MasView) -> Vec<Finding> {
    let Some(providers) = &mas.providers else {
        return Vec::new();
    };
    let root = hs.cfg.value();
    let mut theirs = sso::moved_providers(root);
    theirs.extend(sso::synapse_providers(root));
    sso::uncovered(&theirs, providers)
        .into_iter()
        .map(|p| {
            let key = if p.legacy {
                "oidc_config"
            } else if root.get(sso::MOVED).is_some() {
                sso::MOVED
            } else {
                "oidc_providers"
            };
            Finding::new(
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
                Guide::text("add it to MAS: ")
                    .run(command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"])))
                    .then(" (across containers, from Synapse's to MAS's)"),
            )
        })
        .collect()
}

fn secrets(hs: &SynapseView, mas: &MasView) -> Option<Finding> {
    let (Some(a), Some(b)) = (&hs.secret, &mas.secret) else {
        return None;
    };
    (a != b).then(|| {
        Finding::new(
            Source::Synapse,
            Effect::Breaks,
            &["matrix_authentication_service", "secret"],
            hs.cfg.locate(&["matrix_authentication_service", "secret"]),
            "the shared secret differs from MAS's matrix.secret: MAS's calls to Synapse \
                 get 401/403 and every login loops",
            Guide::text("copy MAS's secret over: ").run(
                command(Sub::Secret, &[]).pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"])),
            ),
        )
    })
}

fn names(hs: &SynapseView, mas: &MasView) -> Option<Finding> {
    let name = hs.cfg.value().get("server_name").and_then(|v| v.as_str())?;
    let hs_name = mas.homeserver.as_ref().filter(|h| *h != name)?;
    Some(Finding::new(
        Source::Mas,
        Effect::Breaks,
        &["matrix", "homeserver"],
        mas.at(&["matrix", "homeserver"]),
        format!(
            "matrix.homeserver is `{hs_name}` but Synapse's server_name is `{name}`: MAS \
                 would mint user IDs on the wrong server"
        ),
        Guide::text(format!("set it to `{name}`: "))
            .run(command(Sub::Mas, &["--homeserver", name])),
    ))
}

/// Each endpoint points at the other program, not back at its own.
fn endpoints(hs: &SynapseView, mas: &MasView) -> Vec<Finding> {
    let mut out = Vec::new();
    let root = hs.cfg.value();
    let syn_pos = |p: &[&str]| hs.cfg.locate(p);
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
            Guide::text("point it at Synapse: ")
                .run(command(Sub::Mas, &["--synapse-endpoint", "URL"])),
        ));
    }
    if let (Some(e), Some(pb)) = (syn_endpoint, &mas.public_base)
        && let (Some(h1), Some(h2)) = (host_of(e), host_of(pb))
        && public_baseurl.and_then(host_of) == Some(h1)
        && h1 != h2
    {
        out.push(
            Finding::new(
                Source::Synapse,
                Effect::Advice,
                &["matrix_authentication_service", "endpoint"],
                syn_pos(&["matrix_authentication_service", "endpoint"]),
                format!("the MAS endpoint's host `{h1}` is Synapse's own host, not MAS's `{h2}`"),
                "check that this URL reaches MAS",
            )
            .warning(),
        );
    }
    out
}

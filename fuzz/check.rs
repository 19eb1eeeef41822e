// The property the fuzzer checks, shared with tests/fuzz_seeds.rs (which replays the committed
// seeds in CI): arbitrary bytes never panic; parsed YAML, edited, parses again and means the
// original plus the edits (the engine's own verification failing is a bug); Synapse's plan on
// it never yields a file that check refuses.

use mas_link::findings::{Effect, Severity};
use mas_link::rules::layers::Layers;
use mas_link::rules::synapse::{self, LinkOptions, SecretSetting};
use mas_link::yaml::{Document, Edit, ErrorKind, NewScalar, Options};

pub fn check(data: &[u8]) {
    // The engine's input reads exactly as granit-parser's own does.
    if let Ok(text) = std::str::from_utf8(data) {
        mas_link::yaml::agrees_with_granit(text).unwrap();
    }
    for options in [Options::PYYAML, Options::SERDE_YAML] {
        let Ok(doc) = Document::from_bytes(data, options) else { continue };
        let _ = doc.value();
        let edits = [
            Edit::set(&["matrix_authentication_service", "enabled"], NewScalar::bool(true)),
            Edit::set(&["matrix_authentication_service", "secret"], NewScalar::string("0123:45 yes")),
            Edit::set(&["password_config", "enabled"], NewScalar::bool(false)),
            Edit::set(&["enable_registration"], NewScalar::bool(false)),
            Edit::set(&["experimental_features", "msc4108_enabled"], NewScalar::bool(true)),
            Edit::remove(&["experimental_features", "msc3861"]),
        ];
        for n in [1, 5, 6] {
            match doc.apply(&edits[..n]) {
                Ok(edited) => {
                    let again = Document::parse(edited.text().to_owned(), options).expect("the result parses");
                    assert_eq!(again.text(), edited.text());
                }
                Err(e) => assert!(!matches!(e.kind, ErrorKind::Verification { .. }), "{e}"),
            }
        }
        // The hand-over's edits: a provider appended, Synapse's providers renamed away.
        let provider = vec![
            (vec!["id".to_owned()], NewScalar::string("01J")),
            (vec!["claims_imports".to_owned(), "localpart".to_owned(), "template".to_owned()], NewScalar::string("{{ user.sub }}")),
        ];
        for e in [
            Edit::push(&["upstream_oauth2", "providers"], provider),
            Edit::rename(&["oidc_providers"], "oidc_providers_moved_to_mas"),
            Edit::set(&["upstream_oauth2", "providers", "0", "synapse_idp_id"], NewScalar::string("oidc-x")),
        ] {
            if let Err(e) = doc.apply(std::slice::from_ref(&e)) {
                assert!(!matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
            }
        }
        let one = |d: &Document| Layers::single("f".into(), d.clone());
        let _ = synapse::findings(&one(&doc), None);
        let opts = LinkOptions {
            endpoint: "https://auth.example.com/".into(),
            secret: SecretSetting::Inline("s3cret".into()),
            mas_providers: Some(vec![mas_link::rules::sso::MasProvider {
                index: 0,
                issuer: None,
                synapse_idp_id: Some("oidc-x".into()),
            }]),
            release: None,
        };
        if options == Options::PYYAML
            && let Ok(plan) = synapse::plan_link(&one(&doc), &opts)
        {
            match doc.apply(&plan.edits()) {
                Ok(edited) => {
                    let (findings, _) = synapse::findings(&one(&edited.document), None);
                    // What the plan itself sets never leaves Synapse refusing for MAS reasons it
                    // owns (other settings may still be wrong: the CLI refuses to write those).
                    for f in findings {
                        if f.severity == Severity::Error && f.effect == Effect::Refuses {
                            assert!(
                                !f.key.starts_with("matrix_authentication_service.")
                                    && f.key != "password_config.enabled"
                                    && f.key != "enable_registration",
                                "the plan left {} refused: {}",
                                f.key,
                                f.message
                            );
                        }
                    }
                }
                Err(e) => assert!(!matches!(e.kind, ErrorKind::Verification { .. }), "{e}"),
            }
        }
    }
}

//! Every MAS config.yaml mas-link writes validates against MAS's own JSON schema
//! (tests/data/mas-config.schema.json, generated from MAS's config structs), read through
//! serde_yaml 0.9 as MAS reads YAML.

mod common;

use std::fs;

use common::*;

fn schema() -> jsonschema::Validator {
    let path = repo().join("tests/data/mas-config.schema.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, name: &str, yaml: &str) {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
}

#[test]
fn every_mas_file_mas_link_writes_fits_mas_schema() {
    let validator = schema();
    let original = fs::read_to_string(fixture("mas/config.yaml")).unwrap();
    assert_valid(&validator, "the fixture as shipped", &original);
    // The schema is strict enough to matter: MAS's refusals are its refusals.
    for bad in [
        original.replace("kind: synapse", "kind: dendrite"),
        original.replace("secret: 6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP", "secret: 12345"),
    ] {
        let value: serde_json::Value = serde_yaml::from_str(&bad).unwrap();
        assert!(!validator.is_valid(&value));
    }
    let variants = [
        ("as shipped", original.clone()),
        (
            "no secret (one is generated)",
            original.replace("  secret: 6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP\n", ""),
        ),
        (
            "no matrix section",
            original[..original.find("matrix:").unwrap()].to_owned(),
        ),
        (
            "secret_file",
            original.replace(
                "  secret: 6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP\n",
                &format!(
                    "  secret_file: {}\n",
                    fixture("mas-secret-file/matrix-secret").display()
                ),
            ),
        ),
    ];
    for (name, text) in variants {
        for extra in [
            &["--homeserver", "example.com"][..],
            &[
                "--homeserver",
                "example.com:8448",
                "--kind",
                "synapse_modern",
            ][..],
            &[
                "--homeserver",
                "example.com",
                "--synapse-endpoint",
                "http://synapse:8008/prefix",
            ][..],
        ] {
            let dir = tempfile::tempdir().unwrap();
            let cfg = dir.path().join("config.yaml");
            fs::write(&cfg, &text).unwrap();
            mas_link()
                .current_dir(dir.path())
                .args(["mas", "--mas-config", "config.yaml", "--yes"])
                .args(extra)
                .assert()
                .success();
            assert_valid(
                &validator,
                &format!("{name} {extra:?}"),
                &fs::read_to_string(&cfg).unwrap(),
            );
        }
    }
}

//! Engine tests: each edit shape on small documents, checked to the byte.

use super::*;

fn edit(src: &str, edits: &[Edit]) -> String {
    let doc = Document::parse(src.into(), Options::PYYAML).unwrap();
    doc.apply(edits)
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .to_owned()
}

fn err(src: &str, edits: &[Edit]) -> YamlError {
    let doc = Document::parse(src.into(), Options::PYYAML).unwrap();
    doc.apply(edits).unwrap_err()
}

fn t() -> NewScalar {
    NewScalar::bool(true)
}

#[test]
fn replaces_a_scalar_in_place() {
    assert_eq!(
        edit(
            "a: 1 # keep\nb: yes\n",
            &[Edit::set(&["b"], NewScalar::bool(false))]
        ),
        "a: 1 # keep\nb: false\n"
    );
}

#[test]
fn fills_a_missing_value() {
    assert_eq!(
        edit("a:\nb: 1\n", &[Edit::set(&["a"], t())]),
        "a: true\nb: 1\n"
    );
    assert_eq!(
        edit("a:   # c\nb: 1\n", &[Edit::set(&["a"], t())]),
        "a: true   # c\nb: 1\n"
    );
}

#[test]
fn inserts_after_the_last_entry_before_what_follows() {
    // A comment at the entries' own level introduces what follows (often a commented-out
    // option); deeper ones belong to the entry above.
    let src = "a:\n  x:\n    # about x\n  # next option\n\n# about b\nb: 2\n";
    assert_eq!(
        edit(src, &[Edit::set(&["a", "y"], t())]),
        "a:\n  x:\n    # about x\n  y: true\n  # next option\n\n# about b\nb: 2\n"
    );
}

#[test]
fn creates_parents_with_the_files_indentation() {
    let src = "a:\n    x: 1\nb:\n    y: 2\n";
    assert_eq!(
        edit(
            src,
            &[
                Edit::set(&["c", "d"], t()),
                Edit::set(&["c", "e"], NewScalar::string("s"))
            ]
        ),
        "a:\n    x: 1\nb:\n    y: 2\nc:\n    d: true\n    e: \"s\"\n"
    );
}

#[test]
fn flow_mappings_stay_flow() {
    assert_eq!(
        edit("f: {}\n", &[Edit::set(&["f", "k"], t())]),
        "f: {k: true}\n"
    );
    assert_eq!(
        edit("f: {a: 1 }\n", &[Edit::set(&["f", "k"], t())]),
        "f: {a: 1, k: true }\n"
    );
    assert_eq!(
        edit("f: {a: 1}\n", &[Edit::set(&["f", "g", "h"], t())]),
        "f: {a: 1, g: {h: true}}\n"
    );
}

#[test]
fn null_parents_become_mappings() {
    assert_eq!(
        edit("e:\n# next\nb: 1\n", &[Edit::set(&["e", "k"], t())]),
        "e:\n  k: true\n# next\nb: 1\n"
    );
    // Commented-out children show the indentation the section uses.
    assert_eq!(
        edit(
            "p:\n   # enabled: true\nb: 1\n",
            &[Edit::set(&["p", "enabled"], NewScalar::bool(false))]
        ),
        "p:\n   enabled: false\n   # enabled: true\nb: 1\n"
    );
    assert_eq!(
        edit("e: ~ # c\n", &[Edit::set(&["e", "k"], t())]),
        "e: # c\n  k: true\n"
    );
}

#[test]
fn removes_a_subtree_with_its_comments() {
    let src = "x:\n  m:\n    a: 1\n    # inner\n  n: 2\ny: 3\n";
    assert_eq!(
        edit(src, &[Edit::remove(&["x", "m"])]),
        "x:\n  n: 2\ny: 3\n"
    );
    assert_eq!(
        edit("f: {a: 1, b: 2}\n", &[Edit::remove(&["f", "a"])]),
        "f: {b: 2}\n"
    );
    assert_eq!(
        edit("f: {a: 1, b: 2}\n", &[Edit::remove(&["f", "b"])]),
        "f: {a: 1}\n"
    );
}

#[test]
fn remove_and_insert_in_one_mapping() {
    let src = "e:\n  msc3861:\n    enabled: true\n";
    assert_eq!(
        edit(
            src,
            &[
                Edit::set(&["e", "msc4108_enabled"], t()),
                Edit::remove(&["e", "msc3861"])
            ]
        ),
        "e:\n  msc4108_enabled: true\n"
    );
    // Removing the last entry of a block mapping leaves its key with no value (null); a flow
    // mapping is left as `{}`.
    assert_eq!(edit(src, &[Edit::remove(&["e", "msc3861"])]), "e:\n");
    assert_eq!(
        edit("e: {a: 1}\nf: 2\n", &[Edit::remove(&["e", "a"])]),
        "e: {}\nf: 2\n"
    );
    assert_eq!(edit("a: 1\n", &[Edit::remove(&["a"])]), "");
}

#[test]
fn keeps_crlf_bom_and_missing_final_newline() {
    assert_eq!(
        edit(
            "\u{feff}a: 1\r\nb:\r\n  c: 2\r\n",
            &[Edit::set(&["b", "d"], t())]
        ),
        "\u{feff}a: 1\r\nb:\r\n  c: 2\r\n  d: true\r\n"
    );
    assert_eq!(edit("a: 1", &[Edit::set(&["b"], t())]), "a: 1\nb: true");
    assert_eq!(
        edit("a: 1\n\n# end", &[Edit::set(&["b"], t())]),
        "a: 1\nb: true\n\n# end"
    );
    assert_eq!(edit("", &[Edit::set(&["b"], t())]), "b: true\n");
    assert_eq!(
        edit("# only\n", &[Edit::set(&["b"], t())]),
        "# only\nb: true\n"
    );
}

#[test]
fn duplicates_edit_the_last_and_warn() {
    let doc = Document::parse("a: 1\nb: 1\na: 2\n".into(), Options::PYYAML).unwrap();
    let out = doc.apply(&[Edit::set(&["a"], t())]).unwrap();
    assert_eq!(out.text(), "a: 1\nb: 1\na: true\n");
    assert_eq!(out.warnings.len(), 1);
    assert_eq!(out.warnings[0].line, 3);
    let doc = Document::parse("a: 1\na: 2\n".into(), Options::SERDE_YAML).unwrap();
    let e = doc.apply(&[Edit::set(&["a"], t())]).unwrap_err();
    assert_eq!((e.line, e.col), (2, 1));
}

#[test]
fn refuses_what_it_cannot_edit_safely() {
    type Case<'a> = (&'a str, &'a [&'a str], fn(&ErrorKind) -> bool);
    let cases: &[Case] = &[
        ("a: &x {b: 1}\nc: *x\n", &["a", "b"], |k| {
            matches!(k, ErrorKind::Alias { .. })
        }),
        ("a: *x\n", &["a", "b"], |k| {
            matches!(k, ErrorKind::Syntax(_))
        }),
        ("a: !!map {b: 1}\n", &["a", "b"], |k| {
            matches!(k, ErrorKind::Tag { .. })
        }),
        ("a: {[1]: 2}\n", &["a", "b"], |k| {
            matches!(k, ErrorKind::ComplexKey { .. })
        }),
        ("a: |\n  text\n", &["a"], |k| {
            matches!(k, ErrorKind::BlockScalar { .. })
        }),
        ("a: [1]\n", &["a", "b"], |k| {
            matches!(k, ErrorKind::NotAMapping { .. })
        }),
        ("a: {b: 1}\n", &["a"], |k| {
            matches!(k, ErrorKind::NotAScalar { .. })
        }),
        ("a: 1\n---\nb: 2\n", &["a"], |k| {
            matches!(k, ErrorKind::MultipleDocuments)
        }),
    ];
    for (src, path, is) in cases {
        let r = Document::parse((*src).into(), Options::PYYAML)
            .and_then(|d| d.apply(&[Edit::set(path, t())]).map(|_| ()));
        let e = r.expect_err(src);
        assert!(is(&e.kind), "{src}: {e}");
    }
}

#[test]
fn errors_carry_line_and_column() {
    let e = err("x: 1\nlit: |\n  a\n", &[Edit::set(&["lit"], t())]);
    assert_eq!((e.line, e.col), (2, 1));
}

#[test]
fn masks_secret_values() {
    let doc = Document::parse("a:\n  secret: 'abc' # c\nb: abc\n".into(), Options::PYYAML).unwrap();
    let masked = doc.masked(&|p| p.last() == Some(&"secret"));
    assert_eq!(masked, format!("a:\n  secret: {MASK} # c\nb: abc\n"));
}

#[test]
fn secret_spans_are_found_down_mappings_and_sequences() {
    let src = "a:\n  secret: 'abc'\nb: 1\nc:\n  - x: 1\n    secret: def\n";
    let doc = Document::parse(src.into(), Options::PYYAML).unwrap();
    let is = |p: &[&str]| p.last() == Some(&"secret");
    let first = (src.find("'abc'").unwrap(), src.find("'abc'").unwrap() + 5);
    let second = (src.find("def").unwrap(), src.find("def").unwrap() + 3);
    assert_eq!(doc.secret_spans(&is), vec![first, second]);
}

#[test]
fn non_utf8_is_refused_with_its_offset() {
    let e = Document::from_bytes(b"a: 1\nb: \xff\n", Options::PYYAML).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotUtf8 { offset: 8 });
    assert_eq!((e.line, e.col), (2, 4));
}

#[test]
fn removing_the_first_line_keeps_the_bom() {
    assert_eq!(
        edit("\u{feff}a: 1\nb: 2\n", &[Edit::remove(&["a"])]),
        "\u{feff}b: 2\n"
    );
}

#[test]
fn empty_block_scalars_end_at_their_header() {
    // Found by the fuzzer: an empty `|` has a zero-length span at the next key.
    assert_eq!(
        edit(
            "p:\n  a: |\nq: 1\n",
            &[Edit::set(&["p", "enabled"], NewScalar::bool(false))]
        ),
        "p:\n  a: |\n  enabled: false\nq: 1\n"
    );
    assert_eq!(edit("a: >\nb: 1\n", &[Edit::remove(&["a"])]), "b: 1\n");
}

#[test]
fn deeper_white_space_lines_are_block_scalar_content() {
    // Found by the fuzzer: the last line's spaces, deeper than the block, are content.
    let src = "p: |\n  a\n    ";
    assert_eq!(
        edit(src, &[Edit::set(&["q"], NewScalar::bool(true))]),
        "p: |\n  a\n    \nq: true"
    );
    // Blank lines are not: a new key goes right after the text.
    assert_eq!(
        edit(
            "p: |\n  a\n\n\n",
            &[Edit::set(&["p2"], NewScalar::bool(true))]
        ),
        "p: |\n  a\np2: true\n\n\n"
    );
}

#[test]
fn a_lone_carriage_return_is_refused_with_its_place() {
    // Found by the fuzzer: YAML breaks lines at a lone CR, line-based editing would not.
    let e = Document::parse("a: 1\r\nb: [x]\rc: 2\n".into(), Options::PYYAML).unwrap_err();
    assert_eq!(
        (e.kind, e.line, e.col),
        (ErrorKind::LoneCarriageReturn, 2, 7)
    );
}

#[test]
fn absent_values_in_flow_mappings_end_after_their_colon() {
    // Found by the fuzzer: the parser places an absent value at the colon.
    assert_eq!(
        edit("f: {a: 1, b:}\n", &[Edit::set(&["f", "c"], t())]),
        "f: {a: 1, b:, c: true}\n"
    );
    assert_eq!(
        edit("f: {a: 1, b:}\n", &[Edit::remove(&["f", "b"])]),
        "f: {a: 1}\n"
    );
    assert_eq!(
        edit("f: {a:, b: 2}\n", &[Edit::remove(&["f", "a"])]),
        "f: {b: 2}\n"
    );
}

#[test]
fn explicit_keys_are_refused() {
    // Found by the fuzzer: `? key` lines follow another layout.
    let e = err("p:\n ? k\n : v\n", &[Edit::set(&["p", "x"], t())]);
    assert!(matches!(e.kind, ErrorKind::ComplexKey { .. }), "{e}");
    // Empty keys, explicit or not (the first found by the fuzzer: the new key went where
    // `: t` then read as a value in the wrong place).
    let mut parsed = 0;
    for src in [
        "p:\n ?\n: t\n",
        "p:\n  a: 1\n: t\n",
        "p:\n ?\n :\n",
        // Found by the fuzzer: the key on the line after its `?`.
        "p:\n ?\n  k\n",
        "p:\n ? # c\n  k\n : v\n",
    ] {
        let doc = Document::parse(src.into(), Options::PYYAML);
        let Ok(doc) = doc else { continue };
        parsed += 1;
        let e = doc.apply(&[Edit::set(&["p", "x"], t())]).unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::ComplexKey { .. }),
            "{src:?}: {e}"
        );
    }
    assert!(parsed >= 2, "{parsed}");
    let e = err(
        "?\n password_config\n",
        &[Edit::set(&["password_config", "enabled"], t())],
    );
    assert!(matches!(e.kind, ErrorKind::ComplexKey { .. }), "{e}");
    // Keys with space before their `:`, quoted, or with properties, are ordinary keys.
    assert_eq!(
        edit("a : 1\n\"b\": 2\n&x c: 3\n", &[Edit::set(&["d"], t())]),
        "a : 1\n\"b\": 2\n&x c: 3\nd: true\n"
    );
}

#[test]
fn an_anchored_empty_value_is_refused() {
    // Found by the fuzzer: `key: &a` with no value; the new value would go before the anchor.
    let e = err("a: &x\nb: 1\n", &[Edit::set(&["a"], t())]);
    assert!(matches!(e.kind, ErrorKind::Alias { .. }), "{e}");
}

#[test]
fn nothing_goes_after_an_empty_value_with_a_tag_or_anchor() {
    // Local tags (`!t`) are MAS's reader's to take: PyYAML's safe loader refuses them.
    let err = |src: &str, edits: &[Edit]| {
        let doc = Document::parse(src.into(), Options::SERDE_YAML).unwrap();
        doc.apply(edits).unwrap_err()
    };
    let edit = |src: &str, edits: &[Edit]| {
        let doc = Document::parse(src.into(), Options::SERDE_YAML).unwrap();
        doc.apply(edits).unwrap().text().to_owned()
    };
    // Found by the fuzzer: such a value has no reported span, so its end is unknown.
    for src in ["a: 1\nb: !t\n", "a: 1\nb: &x\n", "a: 1\nb:\n  !t\n"] {
        let e = err(src, &[Edit::set(&["c"], t())]);
        assert!(
            matches!(e.kind, ErrorKind::Tag { .. } | ErrorKind::Alias { .. }),
            "{src}: {e}"
        );
        let e = err(src, &[Edit::remove(&["b"])]);
        assert!(
            matches!(e.kind, ErrorKind::Tag { .. } | ErrorKind::Alias { .. }),
            "{src}: {e}"
        );
    }
    // Found by the fuzzer: deeper down, as the last part of the last entry's value, the same
    // (the new key went between ` :` and its value `!`).
    for src in [
        "o:\n :\n  !\n",
        "a: 1\nb:\n  c:\n    d: !t\n",
        "a: 1\nb:\n  - 1\n  - &x\n",
    ] {
        let e = err(src, &[Edit::set(&["z"], t())]);
        assert!(
            matches!(e.kind, ErrorKind::Tag { .. } | ErrorKind::Alias { .. }),
            "{src}: {e}"
        );
    }
    let e = err("a: 1\nb:\n  c:\n    d: !t\n", &[Edit::set(&["z"], t())]);
    assert_eq!((e.line, e.col), (4, 5), "{e}");
    assert!(e.to_string().contains("b.c.d"), "{e}");
    // A flow collection ends at its bracket, whatever is in it.
    assert_eq!(
        edit("a: 1\nb: [1, !t ]\n", &[Edit::set(&["z"], t())]),
        "a: 1\nb: [1, !t ]\nz: true\n"
    );
}

#[test]
fn a_kept_block_scalar_at_the_end_of_a_file_without_a_final_newline_is_refused() {
    // Found by the fuzzer: `r: |+\n ` lost its last line to the new key.
    for src in ["r: |+\n ", "r: |+\n  x\n ", "a: 1\nr: >+\n  x\n  "] {
        let e = err(src, &[Edit::set(&["z"], t())]);
        assert!(
            matches!(e.kind, ErrorKind::BlockScalar { .. }),
            "{src:?}: {e}"
        );
    }
}

#[test]
fn kept_block_scalars_end_before_the_next_key() {
    // Found by the fuzzer: `|+` keeps its trailing lines; the next key is not part of it.
    assert_eq!(
        edit("e:\n a: |+\n  x\n\nb: 1\n", &[Edit::set(&["e", "k"], t())]),
        "e:\n a: |+\n  x\n\n k: true\nb: 1\n"
    );
    // Tabs after the indentation are content.
    assert_eq!(
        edit("d: |\n \t\t", &[Edit::set(&["k"], t())]),
        "d: |\n \t\t\nk: true"
    );
}

fn item() -> Vec<(Vec<String>, NewScalar)> {
    let p = |s: &str| s.split('.').map(str::to_owned).collect::<Vec<_>>();
    vec![
        (p("id"), NewScalar::string("01J")),
        (p("issuer"), NewScalar::string("https://idp/")),
        (
            p("claims_imports.localpart.template"),
            NewScalar::string("{{ user.sub }}"),
        ),
    ]
}

#[test]
fn sets_inside_a_sequences_item() {
    let src = "providers:\n  # Cloudron\n  - id: a\n    issuer: x\n  - {id: b}\nafter: 1\n";
    let set = |path: &[&str]| Edit::set(path, NewScalar::string("oidc-c"));
    assert_eq!(
        edit(
            src,
            &[
                set(&["providers", "0", "synapse_idp_id"]),
                set(&["providers", "1", "synapse_idp_id"])
            ]
        ),
        "providers:\n  # Cloudron\n  - id: a\n    issuer: x\n    synapse_idp_id: \"oidc-c\"\n  - {id: b, synapse_idp_id: \"oidc-c\"}\nafter: 1\n"
    );
    assert_eq!(
        edit(
            src,
            &[Edit::set(
                &["providers", "0", "issuer"],
                NewScalar::string("y")
            )]
        ),
        src.replace("issuer: x", "issuer: \"y\"")
    );
}

#[test]
fn renames_a_key_in_place() {
    let src = "a: 1\noidc_providers: # SSO\n  - idp_id: x\n\"oidc_providers\": []\nb: {oidc_providers: 2}\n";
    assert_eq!(
        edit(
            src,
            &[
                Edit::rename(&["oidc_providers"], "moved"),
                Edit::rename(&["b", "oidc_providers"], "c")
            ]
        ),
        "a: 1\nmoved: # SSO\n  - idp_id: x\nmoved: []\nb: {c: 2}\n"
    );
    assert!(matches!(
        err("a: 1\nb: 2\n", &[Edit::rename(&["a"], "b")]).kind,
        ErrorKind::KeyExists { .. }
    ));
}

#[test]
fn pushes_an_item_in_the_sequences_style() {
    let push = || Edit::push(&["u", "providers"], item());
    let one = "{id: \"01J\", issuer: \"https://idp/\", claims_imports: {localpart: {template: \"{{ user.sub }}\"}}}";
    assert_eq!(
        edit("u:\n  providers: []\n", &[push()]),
        format!("u:\n  providers: [{one}]\n")
    );
    assert_eq!(
        edit("u: {providers: [{id: a}]}\n", &[push()]),
        format!("u: {{providers: [{{id: a}}, {one}]}}\n")
    );
    let block =
        "u:\n  providers:\n    - id: a\n      # its issuer\n      issuer: x\n# next\nv: 1\n";
    assert_eq!(
        edit(block, &[push()]),
        "u:\n  providers:\n    - id: a\n      # its issuer\n      issuer: x\n    - id: \"01J\"\n      issuer: \"https://idp/\"\n      claims_imports:\n        localpart:\n          template: \"{{ user.sub }}\"\n# next\nv: 1\n"
    );
    let made = "    - id: \"01J\"\n      issuer: \"https://idp/\"\n      claims_imports:\n        localpart:\n          template: \"{{ user.sub }}\"\n";
    assert_eq!(
        edit("u:\n  a: 1\n", &[push()]),
        format!("u:\n  a: 1\n  providers:\n{made}")
    );
    assert_eq!(
        edit("u:\n  providers:\n", &[push()]),
        format!("u:\n  providers:\n{made}")
    );
    assert_eq!(
        edit("u:\n  providers: ~\nw: 2\n", &[push()]),
        format!("u:\n  providers:\n{made}w: 2\n")
    );
    assert_eq!(
        edit("u: {a: 1}\n", &[push()]),
        format!("u: {{a: 1, providers: [{one}]}}\n")
    );
    // CRLF and no final newline are kept.
    assert_eq!(
        edit("u:\r\n  providers:\r\n    - id: a", &[push()]),
        "u:\r\n  providers:\r\n    - id: a\r\n    - id: \"01J\"\r\n      issuer: \"https://idp/\"\r\n      claims_imports:\r\n        localpart:\r\n          template: \"{{ user.sub }}\""
    );
}

#[test]
fn pushes_and_an_items_edit_go_together() {
    let push = || {
        Edit::push(
            &["p"],
            vec![(vec!["id".to_owned()], NewScalar::string("n"))],
        )
    };
    let set = Edit::set(&["p", "0", "idp"], NewScalar::string("oidc-a"));
    assert_eq!(
        edit("p:\n  - id: a\nq: 1\n", &[set.clone(), push(), push()]),
        "p:\n  - id: a\n    idp: \"oidc-a\"\n  - id: \"n\"\n  - id: \"n\"\nq: 1\n"
    );
    assert_eq!(
        edit("p: [{id: a}]\n", &[set, push(), push()]),
        "p: [{id: a, idp: \"oidc-a\"}, {id: \"n\"}, {id: \"n\"}]\n"
    );
    // An edit of the sequence itself still conflicts with a push into it.
    assert!(matches!(
        err("p: []\n", &[Edit::remove(&["p"]), push()]).kind,
        ErrorKind::Conflict { .. }
    ));
}

/// Any text can be set as a string: characters YAML does not allow in a file (C1 controls,
/// U+FFFE, U+FFFF) or would read as breaks are escaped, and read back as they were, under
/// both schemas.
#[test]
fn any_text_is_carried_in_a_string() {
    for c in [
        '\u{80}', '\u{85}', '\u{86}', '\u{9f}', '\u{2028}', '\u{fffe}', '\u{ffff}', '\u{7}',
    ] {
        let s = format!("se{c}cret");
        for options in [Options::PYYAML, Options::SERDE_YAML] {
            let doc = Document::parse("a: 1\n".into(), options).unwrap();
            let e = Edit::set(&["a"], NewScalar::string(&s));
            let done = doc.apply(&[e]).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            assert_eq!(
                done.document.value().get("a"),
                Some(&Value::Str(s.clone())),
                "{c:?}"
            );
        }
    }
}

/// Found by the fuzzer: appending to a list in a document that is a scalar, with no mapping on
/// the way, is refused (it reached an `unreachable!`).
#[test]
fn a_push_into_a_scalar_document_is_refused() {
    for options in [Options::PYYAML, Options::SERDE_YAML] {
        let doc = Document::parse("aswyord_cor".into(), options).unwrap();
        let item = vec![(vec!["id".to_owned()], NewScalar::string("01J"))];
        let e = doc
            .apply(&[Edit::push(&["upstream_oauth2", "providers"], item)])
            .unwrap_err();
        assert!(matches!(e.kind, ErrorKind::NotAMapping { .. }), "{e}");
    }
}

/// Found by the fuzzer: a document that is only a tag keeps it (it is no empty file): Synapse's
/// reader refuses a local tag, and no edit lets it fall on a mapping appended after it.
#[test]
fn a_document_that_is_only_a_tag_is_not_empty() {
    let e = Document::parse("!swyord_cor".into(), Options::PYYAML).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::UnsafeTag { .. }), "{e}");
    let doc = Document::parse("!swyord_cor".into(), Options::SERDE_YAML).unwrap();
    let e = doc.apply(&[Edit::set(&["a"], t())]).unwrap_err();
    assert!(!matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
}

/// Found by the fuzzer: renaming the key of a block scalar that ends the file without a final
/// newline lost the scalar's last line (blanks that are its content): it is kept.
#[test]
fn renaming_a_block_scalar_at_the_end_of_a_file_keeps_it() {
    for options in [Options::PYYAML, Options::SERDE_YAML] {
        let doc = Document::parse("oidc_providers: |\n \t".into(), options).unwrap();
        let done = doc
            .apply(&[Edit::rename(
                &["oidc_providers"],
                "oidc_providers_moved_to_mas",
            )])
            .unwrap();
        assert_eq!(done.document.text(), "oidc_providers_moved_to_mas: |\n \t");
    }
}

#[test]
fn a_last_line_of_blanks_is_kept() {
    let doc = Document::parse("oidc_providers:\nN: |\n \t".into(), Options::PYYAML).unwrap();
    let done = doc
        .apply(&[Edit::rename(
            &["oidc_providers"],
            "oidc_providers_moved_to_mas",
        )])
        .unwrap();
    assert_eq!(
        done.document.text(),
        "oidc_providers_moved_to_mas:\nN: |\n \t"
    );
}

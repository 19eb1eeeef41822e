//! Property tests on the YAML engine: generated mappings with comments, blank lines, indentation
//! units, flow and block styles, CRLF, BOM and missing final newlines → edits → the result means
//! the original plus the edits, and the bytes outside the edits are kept.

use mas_link::yaml::{Document, Edit, ErrorKind, Map, NewScalar, Options, Value};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum G {
    Leaf(&'static str),
    Map(Vec<Entry>, bool),
}

#[derive(Debug, Clone)]
struct Entry {
    key: &'static str,
    value: G,
    comment_before: bool,
    blank_before: bool,
    trailing_comment: bool,
}

const KEYS: &[&str] = &["a", "b", "enabled", "secret", "x_y"];
const LEAVES: &[&str] = &[
    "1",
    "yes",
    "\"q\"",
    "'s'",
    "0123",
    "text",
    "off",
    "",
    "~",
    "http://h:1/",
];

fn entry(value: impl Strategy<Value = G>) -> impl Strategy<Value = Entry> {
    (
        prop::sample::select(KEYS),
        value,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(key, value, comment_before, blank_before, trailing_comment)| Entry {
                key,
                value,
                comment_before,
                blank_before,
                trailing_comment,
            },
        )
}

fn tree(allow_flow: bool) -> impl Strategy<Value = G> {
    let leaf = prop::sample::select(LEAVES).prop_map(G::Leaf);
    leaf.prop_recursive(3, 24, 4, move |inner| {
        (prop::collection::vec(entry(inner), 0..4), any::<bool>())
            .prop_map(move |(entries, flow)| G::Map(entries, allow_flow && flow))
    })
}

fn root(allow_flow: bool) -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(entry(tree(allow_flow)), 1..6)
}

/// Flow text of a subtree (children of a flow mapping are flow too).
fn flow(g: &G) -> String {
    match g {
        G::Leaf("") => "~".into(),
        G::Leaf(t) => t.to_string(),
        G::Map(entries, _) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|e| format!("{}: {}", e.key, flow(&e.value)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn block(entries: &[Entry], indent: usize, unit: usize, nl: &str, out: &mut String) {
    let pad = " ".repeat(indent);
    for e in entries {
        if e.blank_before {
            out.push_str(nl);
        }
        if e.comment_before {
            out.push_str(&format!("{pad}# about {}{nl}", e.key));
        }
        let trailing = if e.trailing_comment { " # note" } else { "" };
        match &e.value {
            G::Map(children, false) if !children.is_empty() => {
                out.push_str(&format!("{pad}{}:{trailing}{nl}", e.key));
                block(children, indent + unit, unit, nl, out);
            }
            G::Leaf("") => out.push_str(&format!("{pad}{}:{trailing}{nl}", e.key)),
            v => out.push_str(&format!("{pad}{}: {}{trailing}{nl}", e.key, flow(v))),
        }
    }
}

#[derive(Debug, Clone)]
struct Layout {
    unit: usize,
    crlf: bool,
    bom: bool,
    final_newline: bool,
    trailing_comment: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        2usize..=4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(unit, crlf, bom, final_newline, trailing_comment)| Layout {
                unit,
                crlf,
                bom,
                final_newline,
                trailing_comment,
            },
        )
}

fn render(entries: &[Entry], l: &Layout) -> String {
    let nl = if l.crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    if l.bom {
        out.push('\u{feff}');
    }
    block(entries, 0, l.unit, nl, &mut out);
    if l.trailing_comment {
        out.push_str(&format!("{nl}# vim:ft=yaml{nl}"));
    }
    if !l.final_newline {
        out.truncate(out.len() - nl.len());
    }
    out
}

fn path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(KEYS), 1..4)
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop_oneof![
        any::<bool>().prop_map(NewScalar::bool),
        prop::sample::select(vec![
            "s3cret",
            "0123",
            "yes",
            "",
            "a\"b\\c",
            "http://mas:8080/"
        ])
        .prop_map(NewScalar::string),
    ];
    prop_oneof![
        3 => (path(), value).prop_map(|(p, v)| Edit::set(&p, v)),
        1 => path().prop_map(|p| Edit::remove(&p)),
    ]
}

fn empty_as_null(v: Value) -> Value {
    match v {
        Value::Map(m) if m.0.is_empty() => Value::Null,
        Value::Map(m) => Value::Map(Map(m
            .0
            .into_iter()
            .map(|(k, v)| (k, empty_as_null(v)))
            .collect())),
        Value::Seq(s) => Value::Seq(s.into_iter().map(empty_as_null).collect()),
        v => v,
    }
}

/// The layout properties an edit must never change.
fn check_layout(before: &str, after: &str, l: &Layout) {
    assert_eq!(after.starts_with('\u{feff}'), l.bom);
    assert_eq!(after.matches('\u{feff}').count(), usize::from(l.bom));
    // (A one-line file without a final newline has no line break to follow.)
    if l.crlf && before.contains('\n') {
        assert_eq!(
            after.matches('\n').count(),
            after.matches("\r\n").count(),
            "bare LF in a CRLF file:\n{after}"
        );
    } else if !l.crlf {
        assert!(!after.contains('\r'));
    }
    if !before.is_empty() && !after.trim_start_matches('\u{feff}').is_empty() {
        assert_eq!(
            after.ends_with('\n'),
            before.ends_with('\n'),
            "final newline changed:\n{before:?}\n{after:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any edit either is refused with a typed error or gives a text that parses and means the
    /// original plus the edits (checked again here, independently of the engine's own check).
    #[test]
    fn edits_mean_what_they_say(entries in root(true), l in layout(), edits in prop::collection::vec(edit(), 1..5)) {
        let text = render(&entries, &l);
        let doc = Document::parse(text.clone(), Options::PYYAML).expect("generated YAML parses");
        let r = doc.apply(&edits);
        // The engine's own check failing is a bug, whatever the input.
        if let Err(e) = &r {
            prop_assert!(!matches!(e.kind, ErrorKind::Verification { .. }), "{}\n{}\n{:?}", e, text, edits);
        }
        if let Ok(edited) = r {
            let reparsed = Document::parse(edited.text().to_owned(), Options::PYYAML).unwrap();
            let mut expected = doc.value().clone();
            for e in &edits {
                e.apply_to(&mut expected);
            }
            // A block mapping whose last entry is removed reads as null; the engine's own
            // check knows which; here both spellings of "nothing" count as one.
            prop_assert_eq!(empty_as_null(reparsed.value().clone()), empty_as_null(expected));
            check_layout(&text, edited.text(), &l);
            // Setting the same values again changes nothing more.
            let sets: Vec<Edit> = edits.iter().filter(|e| matches!(e, Edit::Set { .. })).cloned().collect();
            if !sets.is_empty() {
                // (Sets that contradict each other, `a` then `a.b`, are refused the second time.)
                if let Ok(again) = reparsed.apply(&sets) {
                    prop_assert_eq!(again.document.value(), reparsed.value());
                }
            }
        }
    }

    /// In block files, setting values keeps every line the edit does not name: the original's
    /// lines, but for the key lines on the edited paths, appear in the result in order.
    #[test]
    fn untouched_lines_are_kept(entries in root(false), l in layout(),
                                sets in prop::collection::vec((path(), any::<bool>()), 1..4)) {
        let text = render(&entries, &l);
        let doc = Document::parse(text.clone(), Options::PYYAML).unwrap();
        let edits: Vec<Edit> = sets.iter().map(|(p, b)| Edit::set(p, NewScalar::bool(*b))).collect();
        let Ok(edited) = doc.apply(&edits) else { return Ok(()) };
        let mut touched = std::collections::HashSet::new();
        for (p, _) in &sets {
            for n in 1..=p.len() {
                if let Some((k, _)) = doc.entry(&p[..n]) {
                    touched.insert(k.start().line);
                }
            }
        }
        let out: Vec<&str> = edited.text().split_inclusive('\n').collect();
        let mut at = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if touched.contains(&(i + 1)) {
                continue;
            }
            // The last line may gain the line break an append needs.
            let found = out[at..].iter().position(|o| *o == line || (!line.ends_with('\n') && o.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s)) == Some(line)));
            prop_assert!(found.is_some(), "line {} {:?} lost:\n{}\n---\n{}", i + 1, line, text, edited.text());
            at += found.unwrap() + 1;
        }
    }

    /// Arbitrary bytes never panic the engine: they parse or give a located error.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(doc) = Document::from_bytes(&bytes, Options::PYYAML) {
            let _ = doc.apply(&[Edit::set(&["a", "b"], NewScalar::bool(true))]);
        }
    }

    /// YAML-shaped text (from a small alphabet of YAML's own symbols) never panics either.
    #[test]
    fn yaml_shaped_text_never_panics(s in "[a-c:#\\-\\[\\]{},&*!|>'\" \n]{0,80}") {
        if let Ok(doc) = Document::parse(s, Options::PYYAML) {
            let _ = doc.value();
            let _ = doc.apply(&[Edit::set(&["a", "b"], NewScalar::bool(true)), Edit::remove(&["c"])]);
        }
    }
}

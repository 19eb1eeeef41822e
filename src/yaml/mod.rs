//! A format-preserving YAML editor for the few edits mas-link makes.
//!
//! A [`Document`] keeps the source text and a tree of nodes with exact byte spans. Edits
//! ([`Edit`]) become byte-range replacements; every byte outside them is kept. After editing,
//! the result is parsed again and its meaning compared with the original plus the edits.
//! This module knows YAML, not Synapse or MAS.

mod edit;
mod error;
mod input;
mod text;
mod tree;
mod value;

pub use edit::{Edit, Edited, NewScalar};
pub use error::{ErrorKind, Pos, Warning, YamlError};
#[doc(hidden)]
pub use input::agrees_with_granit;
pub use tree::{Kind, Node, Style};
pub use value::{Map, Schema, Value, resolve_scalar};

/// Files larger than this are refused before parsing.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// How to treat a key that appears twice in one mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicates {
    /// PyYAML's rule (Synapse): the last one wins; edits act on it, with a warning.
    LastWins,
    /// serde_yaml's rule (MAS): a duplicate on an edited path is an error.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub schema: Schema,
    pub duplicates: Duplicates,
}

impl Options {
    /// How Synapse reads `homeserver.yaml`.
    pub const PYYAML: Options = Options {
        schema: Schema::Yaml11,
        duplicates: Duplicates::LastWins,
    };
    /// How MAS reads `config.yaml`.
    pub const SERDE_YAML: Options = Options {
        schema: Schema::Yaml12,
        duplicates: Duplicates::Error,
    };
}

/// A parsed YAML file that can be edited without disturbing what is not edited.
#[derive(Debug, Clone)]
pub struct Document {
    text: String,
    root: Option<Node>,
    aliased: Vec<usize>,
    options: Options,
    /// The meaning to the file's reader.
    value: Value,
}

/// Refuses the characters YAML 1.1 (PyYAML) reads as line breaks and the parser here does
/// not (NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR): `# note<U+2028>  enabled: true` would hide
/// a key from mas-link that Synapse reads.
fn yaml11_breaks(text: &str) -> Result<(), YamlError> {
    let names = [
        ('\u{85}', "a NEXT LINE (U+0085)"),
        ('\u{2028}', "a LINE SEPARATOR (U+2028)"),
        ('\u{2029}', "a PARAGRAPH SEPARATOR (U+2029)"),
    ];
    let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| names.iter().any(|(n, _)| n == c))
    else {
        return Ok(());
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let name = names
        .iter()
        .find(|(n, _)| *n == c)
        .map_or("", |(_, name)| name);
    Err(YamlError::new(
        ErrorKind::LineBreak { name },
        Pos { offset, line, col },
    ))
}

impl Document {
    /// Parses UTF-8 bytes (a leading byte-order mark is kept as part of the text).
    pub fn from_bytes(bytes: &[u8], options: Options) -> Result<Document, YamlError> {
        Document::from_vec(bytes.to_vec(), options)
    }

    /// Like [`Document::from_bytes`], without copying the bytes.
    pub fn from_vec(bytes: Vec<u8>, options: Options) -> Result<Document, YamlError> {
        if bytes.len() > MAX_BYTES {
            return Err(YamlError::new(
                ErrorKind::TooLarge {
                    bytes: bytes.len(),
                    limit: MAX_BYTES,
                },
                Pos::default(),
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            let before = &bytes[..offset];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let col = offset
                - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            YamlError::new(ErrorKind::NotUtf8 { offset }, Pos { offset, line, col })
        })?;
        Document::parse(text, options)
    }

    pub fn parse(text: String, options: Options) -> Result<Document, YamlError> {
        let lone_cr = text
            .match_indices('\r')
            .map(|(i, _)| i)
            .find(|&i| text.as_bytes().get(i + 1) != Some(&b'\n'));
        if let Some(offset) = lone_cr {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            return Err(YamlError::new(
                ErrorKind::LoneCarriageReturn,
                Pos { offset, line, col },
            ));
        }
        if options.schema == Schema::Yaml11 {
            yaml11_breaks(&text)?;
        }
        let parsed = tree::parse(&text)?;
        let value = value::to_value(parsed.root.as_ref(), options.schema)?;
        Ok(Document {
            text,
            root: parsed.root,
            aliased: parsed.aliased,
            options,
            value,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn options(&self) -> Options {
        self.options
    }

    pub fn root(&self) -> Option<&Node> {
        self.root.as_ref()
    }

    /// The document's meaning to its consumer.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The key and value nodes at a path, following the last of duplicate keys.
    pub fn entry(&self, path: &[&str]) -> Option<(&Node, &Node)> {
        let mut cur = self.root.as_ref()?;
        let mut found = None;
        for seg in path {
            let Kind::Mapping { entries, .. } = &cur.kind else {
                return None;
            };
            let (k, v) = entries
                .iter()
                .rev()
                .find(|(k, _)| k.scalar().is_some_and(|(s, _)| s == *seg))?;
            found = Some((k, v));
            cur = v;
        }
        found
    }

    /// Where a path's key is written, or the nearest ancestor's when it is not written.
    pub fn locate(&self, path: &[&str]) -> Pos {
        (0..=path.len())
            .rev()
            .find_map(|n| self.entry(&path[..n]).map(|(k, _)| k.start()))
            .unwrap_or(Pos {
                offset: 0,
                line: 1,
                col: 1,
            })
    }

    /// Every occurrence of a key in the mapping at `parent`, in document order.
    pub fn occurrences(&self, parent: &[&str], key: &str) -> Vec<Pos> {
        let node = if parent.is_empty() {
            self.root.as_ref()
        } else {
            self.entry(parent).map(|(_, v)| v)
        };
        match node.map(|n| &n.kind) {
            Some(Kind::Mapping { entries, .. }) => entries
                .iter()
                .filter(|(k, _)| k.scalar().is_some_and(|(s, _)| s == key))
                .map(|(k, _)| k.start())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The byte ranges of the scalar values that the predicate calls secret, in order.
    pub fn secret_spans(&self, is_secret: &dyn Fn(&[&str]) -> bool) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        if let Some(root) = &self.root {
            let mut path = Vec::new();
            collect_secret_spans(root, &mut path, is_secret, &mut spans);
        }
        spans.sort();
        spans
    }

    /// The text with the values of the given scalars replaced by a mask, for display.
    pub fn masked(&self, is_secret: &dyn Fn(&[&str]) -> bool) -> String {
        mask_range(
            &self.text,
            0,
            self.text.len(),
            &self.secret_spans(is_secret),
        )
    }
}

/// `text[from..to]` with the parts inside `spans` (sorted byte ranges) replaced by [`MASK`].
pub fn mask_range(text: &str, from: usize, to: usize, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(to - from);
    let mut at = from;
    let first = spans.partition_point(|&(_, e)| e <= from);
    for &(s, e) in &spans[first..] {
        if s >= to {
            break;
        }
        let (s, e) = (s.max(at), e.min(to));
        if s < at || e <= s {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(MASK);
        at = e;
    }
    out.push_str(&text[at..to]);
    out
}

/// What a secret looks like in a diff or a report.
pub const MASK: &str = "\"********\"";

fn collect_secret_spans<'a>(
    node: &'a Node,
    path: &mut Vec<&'a str>,
    is_secret: &dyn Fn(&[&str]) -> bool,
    out: &mut Vec<(usize, usize)>,
) {
    match &node.kind {
        Kind::Mapping { entries, .. } => {
            for (k, v) in entries {
                let Some((key, _)) = k.scalar() else { continue };
                path.push(key);
                let secret = is_secret(path)
                    // A boolean or null is never the secret itself.
                    && match &v.kind {
                        Kind::Scalar { value, style } => !matches!(
                            resolve_scalar(value, *style, v.tag(), Schema::Yaml11),
                            Value::Null | Value::Bool(_)
                        ),
                        _ => false,
                    };
                if secret {
                    out.push((v.start().offset, v.end()));
                } else {
                    collect_secret_spans(v, path, is_secret, out);
                }
                path.pop();
            }
        }
        Kind::Sequence { items, .. } => {
            for item in items {
                collect_secret_spans(item, path, is_secret, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;

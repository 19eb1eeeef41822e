//! What a document means to its consumer: YAML 1.1 as PyYAML reads it (Synapse), or YAML 1.2
//! as serde_yaml reads it (MAS).

use std::collections::HashMap;

use super::error::{ErrorKind, YamlError};
use super::tree::{Kind, Node, Style};

/// Which reader's meaning to give the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// PyYAML `safe_load`: `yes`/`on` are booleans, `017` is octal, `<<` merges.
    Yaml11,
    /// serde_yaml / yaml_serde: the YAML 1.2 core schema.
    Yaml12,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer, kept as written (its sign and digits); see [`Value::truthy`].
    Int(String),
    Float(String),
    Str(String),
    Timestamp(String),
    Seq(Vec<Value>),
    Map(Map),
}

/// A mapping as its consumer sees it: the last duplicate key wins, in the place of the first.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Map(pub Vec<(Value, Value)>);

impl Map {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0
            .iter_mut()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, v)| v)
    }

    pub fn insert(&mut self, key: Value, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// `other`'s entries into this mapping: a key already here goes through `combine` (with the
    /// later value), a new one is appended. Linear in both sizes, however large (a mapping's
    /// keys are unique: the last duplicate won when it was read).
    pub fn merge_with(&mut self, other: &Map, mut combine: impl FnMut(&mut Value, &Value)) {
        let at: HashMap<Value, usize> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        for (k, v) in &other.0 {
            match at.get(k) {
                Some(&i) => combine(&mut self.0[i].1, v),
                None => self.0.push((k.clone(), v.clone())),
            }
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0
            .retain(|(k, _)| !matches!(k, Value::Str(s) if s == key));
    }
}

impl Value {
    /// Python's truthiness, which Synapse applies to many settings.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(s) => s.chars().any(|c| c.is_ascii_alphanumeric() && c != '0'),
            Value::Float(s) => {
                s.chars().any(|c| c.is_ascii_digit() && c != '0')
                    || s.contains("inf")
                    || s.contains("nan")
            }
            Value::Str(s) | Value::Timestamp(s) => !s.is_empty(),
            Value::Seq(v) => !v.is_empty(),
            Value::Map(m) => !m.0.is_empty(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// The value at a dotted path, when every step is a mapping.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Python's `str()` of the value, as `strtobool(str(x))` sees it.
    pub fn python_str(&self) -> String {
        match self {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(s) | Value::Float(s) | Value::Str(s) | Value::Timestamp(s) => s.clone(),
            Value::Seq(_) => "[...]".into(),
            Value::Map(_) => "{...}".into(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Timestamp(_) => "timestamp",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

/// How many values aliases may stand for in one file, all expansions together: a real
/// configuration uses a few; a "billion laughs" file (ten levels of ten aliases, 1 KB) would
/// stand for a billion, and is refused instead of filling memory.
pub const ALIAS_EXPANSION_LIMIT: usize = 1_000_000;

/// Gives a node tree its meaning under a schema.
pub(crate) fn to_value(root: Option<&Node>, schema: Schema) -> Result<Value, YamlError> {
    let mut meaning = Meaning {
        schema,
        anchors: HashMap::new(),
        expanded: 0,
    };
    root.map_or(Ok(Value::Null), |n| meaning.of(n))
}

/// A tree's meaning as it is built: the anchored values so far (with their size), and how many
/// values the aliases have stood for.
struct Meaning {
    schema: Schema,
    anchors: HashMap<usize, (Value, usize)>,
    expanded: usize,
}

/// How many values a value is made of.
fn size(v: &Value) -> usize {
    1 + match v {
        Value::Seq(items) => items.iter().map(size).sum(),
        Value::Map(m) => m.0.iter().map(|(k, v)| size(k) + size(v)).sum(),
        _ => 0,
    }
}

/// The tags PyYAML's safe loader (Synapse's reader) takes; it refuses every other.
const PYYAML_SAFE_TAGS: &[&str] = &[
    "null",
    "bool",
    "int",
    "float",
    "binary",
    "timestamp",
    "omap",
    "pairs",
    "set",
    "str",
    "seq",
    "map",
];

impl Meaning {
    fn of(&mut self, node: &Node) -> Result<Value, YamlError> {
        // `!` alone is the non-specific tag: PyYAML reads the node as it would untagged.
        if self.schema == Schema::Yaml11
            && let Some(tag) = node.tag().filter(|t| *t != "!")
            && !tag
                .strip_prefix("tag:yaml.org,2002:")
                .is_some_and(|t| PYYAML_SAFE_TAGS.contains(&t))
        {
            return Err(YamlError::new(
                ErrorKind::UnsafeTag {
                    tag: tag.to_owned(),
                },
                node.start(),
            ));
        }
        let v = match &node.kind {
            Kind::Scalar { value, style } => resolve_scalar(value, *style, node.tag(), self.schema),
            Kind::Alias { target } => match self.anchors.get(target) {
                Some((v, n)) => {
                    self.expanded += n;
                    if self.expanded > ALIAS_EXPANSION_LIMIT {
                        return Err(YamlError::new(
                            ErrorKind::AliasExpansion {
                                limit: ALIAS_EXPANSION_LIMIT,
                            },
                            node.start(),
                        ));
                    }
                    v.clone()
                }
                None => Value::Null,
            },
            Kind::Sequence { items, .. } => {
                Value::Seq(items.iter().map(|n| self.of(n)).collect::<Result<_, _>>()?)
            }
            Kind::Mapping { entries, .. } => Value::Map(self.mapping(entries)?),
        };
        if node.anchor != 0 {
            let n = size(&v);
            self.anchors.insert(node.anchor, (v.clone(), n));
        }
        Ok(v)
    }

    fn mapping(&mut self, entries: &[(Node, Node)]) -> Result<Map, YamlError> {
        let mut map = Map(Vec::with_capacity(entries.len()));
        let mut merged = Vec::new();
        // Where each key stands, so that a large mapping still builds in linear time.
        let mut index: HashMap<Value, usize> = HashMap::new();
        for (k, v) in entries {
            let key = self.of(k)?;
            let value = self.of(v)?;
            let is_merge = self.schema == Schema::Yaml11
                && matches!(k.scalar(), Some(("<<", Style::Plain)))
                && k.tag.is_none();
            if is_merge {
                merged.push(value);
            } else if let Some(&i) = index.get(&key) {
                map.0[i].1 = value;
            } else {
                index.insert(key.clone(), map.0.len());
                map.0.push((key, value));
            }
        }
        // PyYAML's flatten_mapping: merged entries never override explicit ones.
        for source in merged {
            let sources = match source {
                Value::Seq(s) => s,
                other => vec![other],
            };
            for s in sources {
                if let Value::Map(m) = s {
                    for (k, v) in m.0 {
                        if !index.contains_key(&k) {
                            index.insert(k.clone(), map.0.len());
                            map.0.push((k, v));
                        }
                    }
                }
            }
        }
        Ok(map)
    }
}

/// The value of one scalar: quoted and block scalars are strings; plain ones are resolved.
pub fn resolve_scalar(text: &str, style: Style, tag: Option<&str>, schema: Schema) -> Value {
    if let Some(tag) = tag {
        let suffix = tag.rsplit(':').next().unwrap_or(tag);
        return match suffix {
            "str" => Value::Str(text.into()),
            "null" => Value::Null,
            "bool" | "int" | "float" => resolve_plain(text, schema),
            _ => Value::Str(text.into()),
        };
    }
    if style != Style::Plain {
        return Value::Str(text.into());
    }
    resolve_plain(text, schema)
}

fn resolve_plain(t: &str, schema: Schema) -> Value {
    match schema {
        Schema::Yaml11 => resolve_11(t),
        Schema::Yaml12 => resolve_12(t),
    }
}

fn resolve_11(t: &str) -> Value {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if is_int_11(t) {
        Value::Int(t.into())
    } else if is_float_11(t) {
        Value::Float(t.into())
    } else if is_timestamp_11(t) {
        Value::Timestamp(t.into())
    } else {
        Value::Str(t.into())
    }
}

fn resolve_12(t: &str) -> Value {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_int_12(t) => Value::Int(t.into()),
        _ if is_float_12(t) => Value::Float(t.into()),
        _ => Value::Str(t.into()),
    }
}

fn strip_sign(t: &str) -> &str {
    t.strip_prefix(['-', '+']).unwrap_or(t)
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

/// One base-60 digit group: `[0-5]?[0-9]`.
fn base60_digit(p: &str) -> bool {
    (1..=2).contains(&p.len())
        && all(p, |c| c.is_ascii_digit())
        && (p.len() == 1 || p.as_bytes()[0] <= b'5')
}

/// `[1-9][0-9_]*(:[0-5]?[0-9])+`, the base-60 form PyYAML reads as a number.
fn is_sexagesimal(body: &str, int_tail: impl Fn(&str) -> bool) -> bool {
    let mut parts = body.split(':');
    let head = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || !head.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let (last, middle) = rest.split_last().expect("non-empty");
    all(head, |c| c.is_ascii_digit() || c == '_')
        && middle.iter().all(|p| base60_digit(p))
        && int_tail(last)
}

/// PyYAML's int resolver.
fn is_int_11(t: &str) -> bool {
    let b = strip_sign(t);
    if let Some(r) = b.strip_prefix("0b") {
        return all(r, |c| c == '0' || c == '1' || c == '_');
    }
    if let Some(r) = b.strip_prefix("0x") {
        return all(r, |c| c.is_ascii_hexdigit() || c == '_');
    }
    if b == "0" {
        return true;
    }
    if let Some(r) = b.strip_prefix('0') {
        return all(r, |c| ('0'..='7').contains(&c) || c == '_');
    }
    if b.starts_with(|c: char| ('1'..='9').contains(&c)) {
        if all(b, |c| c.is_ascii_digit() || c == '_') {
            return true;
        }
        return is_sexagesimal(b, base60_digit);
    }
    false
}

/// PyYAML's float resolver (note: an exponent needs a sign and a dot before it).
fn is_float_11(t: &str) -> bool {
    let b = strip_sign(t);
    if matches!(b, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    if matches!(t, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let exp_ok = |e: &str| -> bool {
        e.is_empty()
            || (e.len() >= 3
                && (e.starts_with("e") || e.starts_with("E"))
                && matches!(e.as_bytes()[1], b'-' | b'+')
                && all(&e[2..], |c| c.is_ascii_digit()))
    };
    if let Some(dot) = b.find('.') {
        let (int_part, rest) = (&b[..dot], &b[dot + 1..]);
        let frac_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        let (frac, exp) = rest.split_at(frac_end);
        if int_part.is_empty() {
            // `\.[0-9_]+` with no sign allowed before it.
            return t == b && !frac.is_empty() && exp_ok(exp);
        }
        if int_part.starts_with(|c: char| c.is_ascii_digit())
            && all(int_part, |c| c.is_ascii_digit() || c == '_')
        {
            return exp_ok(exp);
        }
        // Base 60 with a fraction: `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`.
        let frac_only = all(rest, |c| c.is_ascii_digit() || c == '_') || rest.is_empty();
        return frac_only && is_sexagesimal(int_part, base60_digit);
    }
    false
}

fn is_timestamp_11(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if b.len() == 10 {
        return digits(&b[0..4])
            && b[4] == b'-'
            && digits(&b[5..7])
            && b[7] == b'-'
            && digits(&b[8..10]);
    }
    // The long form: date, then `T`/`t`/spaces and a time. Approximate but strict enough:
    // four digits, a dash, and a time part with two colons.
    b.len() > 10
        && digits(&b[0..4])
        && b[4] == b'-'
        && t[10..].contains(':')
        && t[..10]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == 'T' || c == 't' || c == ' ')
        && t.matches(':').count() >= 2
}

/// YAML 1.2 core schema ints, as serde_yaml reads them.
fn is_int_12(t: &str) -> bool {
    let b = strip_sign(t);
    if let Some(r) = b.strip_prefix("0x") {
        return all(r, |c| c.is_ascii_hexdigit());
    }
    if let Some(r) = b.strip_prefix("0o") {
        return all(r, |c| ('0'..='7').contains(&c));
    }
    if let Some(r) = b.strip_prefix("0b") {
        return all(r, |c| c == '0' || c == '1');
    }
    // serde_yaml reads a leading zero before more digits as a string (`0123`).
    all(b, |c| c.is_ascii_digit()) && !(b.len() > 1 && b.starts_with('0'))
}

fn is_float_12(t: &str) -> bool {
    let b = strip_sign(t);
    if matches!(b, ".inf" | ".Inf" | ".INF") || matches!(t, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let mant_ok = match mantissa.split_once('.') {
        Some((i, f)) => {
            (!i.is_empty() || !f.is_empty())
                && i.chars().all(|c| c.is_ascii_digit())
                && f.chars().all(|c| c.is_ascii_digit())
        }
        None => all(mantissa, |c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| all(strip_sign(e), |c| c.is_ascii_digit()));
    mant_ok && exp_ok && (mantissa.contains('.') || exp.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r11(t: &str) -> Value {
        resolve_scalar(t, Style::Plain, None, Schema::Yaml11)
    }

    #[test]
    fn yaml11_reads_like_pyyaml() {
        for t in ["yes", "on", "True", "TRUE", "true"] {
            assert_eq!(r11(t), Value::Bool(true), "{t}");
        }
        for t in ["no", "off", "False", "false"] {
            assert_eq!(r11(t), Value::Bool(false), "{t}");
        }
        for t in ["y", "n", "abc", "1e3", "0x", "1.2.3", "08", "tRue"] {
            assert!(matches!(r11(t), Value::Str(_)), "{t} -> {:?}", r11(t));
        }
        for t in [
            "0123",
            "0x1F",
            "12:30:00",
            "1_000",
            "-5",
            "0",
            "0b101",
            "190:20:30",
        ] {
            assert!(matches!(r11(t), Value::Int(_)), "{t} -> {:?}", r11(t));
        }
        for t in [
            "1.5e+3", "1.5", ".5", "-.inf", ".nan", "1.", "1_0.5", "20:30.15",
        ] {
            assert!(matches!(r11(t), Value::Float(_)), "{t} -> {:?}", r11(t));
        }
        for t in ["~", "null", "", "NULL"] {
            assert_eq!(r11(t), Value::Null, "{t}");
        }
        assert!(matches!(r11("2002-12-14"), Value::Timestamp(_)));
        assert!(matches!(
            r11("2001-12-14t21:59:43.10-05:00"),
            Value::Timestamp(_)
        ));
    }

    #[test]
    fn yaml12_reads_like_serde_yaml() {
        let r = |t| resolve_scalar(t, Style::Plain, None, Schema::Yaml12);
        assert_eq!(r("yes"), Value::Str("yes".into()));
        assert_eq!(r("on"), Value::Str("on".into()));
        assert_eq!(r("true"), Value::Bool(true));
        assert!(matches!(r("0o17"), Value::Int(_)));
        assert!(matches!(r("1e3"), Value::Float(_)));
        assert!(matches!(r("12:30:00"), Value::Str(_)));
        assert_eq!(r("~"), Value::Null);
    }

    #[test]
    fn quoted_scalars_are_strings() {
        assert_eq!(
            resolve_scalar("yes", Style::DoubleQuoted, None, Schema::Yaml11),
            Value::Str("yes".into())
        );
    }

    #[test]
    fn python_truthiness() {
        assert!(Value::Str("false".into()).truthy());
        assert!(!Value::Int("0".into()).truthy());
        assert!(!Value::Int("-0_0".into()).truthy());
        assert!(Value::Int("1".into()).truthy());
        assert!(!Value::Null.truthy());
    }

    /// Mappings on both sides of the scan/hash threshold, with a duplicate key and a merge
    /// that grows a small mapping past it: last duplicate wins, explicit keys beat merged ones.
    #[test]
    fn mapping_keys_resolve_alike_small_and_large() {
        for n in [3, 16, 17, 40] {
            let base: String = (0..n).map(|i| format!("  k{i}: {i}\n")).collect();
            let src = format!("base: &b\n{base}  k0: last\nuse:\n  k1: mine\n  <<: *b\n  z: 1\n");
            let doc = crate::yaml::Document::parse(src, crate::yaml::Options::PYYAML).unwrap();
            let Value::Map(root) = doc.value() else {
                panic!()
            };
            let Some(Value::Map(b)) = root.get("base") else {
                panic!()
            };
            assert_eq!(b.0.len(), n, "{n}");
            assert_eq!(b.get("k0"), Some(&Value::Str("last".into())), "{n}");
            let Some(Value::Map(u)) = root.get("use") else {
                panic!()
            };
            assert_eq!(u.0.len(), n + 1, "{n}");
            assert_eq!(u.get("k1"), Some(&Value::Str("mine".into())), "{n}");
            assert_eq!(u.get("k0"), Some(&Value::Str("last".into())), "{n}");
            let keys: Vec<&Value> = u.0.iter().map(|(k, _)| k).collect();
            assert_eq!(
                keys.iter()
                    .filter(|k| ***k == Value::Str("k1".into()))
                    .count(),
                1
            );
        }
    }
}

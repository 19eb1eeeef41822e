//! Edits as data, turned into byte-range replacements on the source text.

use std::cmp::Reverse;
use std::collections::HashMap;

use super::error::{ErrorKind, Warning, YamlError};
use super::text::{
    line_after, line_start, newline_of, next_comment_indent, skip_deeper_comments, starts_line,
};
use super::tree::{Kind, Node, Style};
use super::value::{Map, Schema, Value, resolve_scalar};
use super::{Document, Duplicates};

/// A scalar to write: its YAML text and the meaning that text must have once read back.
#[derive(Clone, Debug, PartialEq)]
pub struct NewScalar {
    pub text: String,
    pub value: Value,
}

impl NewScalar {
    pub fn bool(b: bool) -> NewScalar {
        NewScalar {
            text: if b { "true" } else { "false" }.into(),
            value: Value::Bool(b),
        }
    }

    /// A scalar written as it was found (`text` is its YAML source), with the meaning that
    /// text has under `schema`; none when the text is not one plain or quoted scalar.
    pub fn raw(text: &str, schema: Schema) -> Option<NewScalar> {
        if text.contains(['\n', '\r']) {
            return None;
        }
        let options = super::Options {
            schema,
            duplicates: super::Duplicates::LastWins,
        };
        let doc = Document::parse(format!("v: {text}\n"), options).ok()?;
        let (_, node) = doc.entry(&["v"])?;
        match node.scalar()? {
            (_, Style::Literal | Style::Folded) => None,
            _ => Some(NewScalar {
                text: text.to_owned(),
                value: doc.value().get("v")?.clone(),
            }),
        }
    }

    /// A string, always double-quoted: YAML 1.1 would read `0123`, `yes` or `12:30` unquoted
    /// as something else.
    pub fn string(s: &str) -> NewScalar {
        NewScalar {
            text: double_quote(s),
            value: Value::Str(s.into()),
        }
    }
}

fn double_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            // Line and paragraph separators and the BOM would be read as breaks or dropped,
            // and what YAML does not count as printable (C1 controls, U+FFFE, U+FFFF) may
            // not stand in a file at all: all escaped, so that any text can be carried.
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One change to a document, addressed by a path of mapping keys; where the path meets a
/// sequence, a segment that is a number picks its item (`providers.0.issuer`).
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Set a scalar, creating missing parent mappings (and filling null parents).
    Set { path: Vec<String>, value: NewScalar },
    /// Remove a key (every duplicate of it) with its whole subtree.
    Remove { path: Vec<String> },
    /// Rename a key (every duplicate of it) in place; its value stays byte for byte.
    Rename { path: Vec<String>, to: String },
    /// Append a mapping to the sequence at `path` (made when absent or null), in the
    /// sequence's own style; the item is given as scalars at paths within it.
    Push {
        path: Vec<String>,
        item: Vec<(Vec<String>, NewScalar)>,
    },
}

impl Edit {
    pub fn set(path: &[&str], value: NewScalar) -> Edit {
        Edit::Set {
            path: path.iter().map(|s| s.to_string()).collect(),
            value,
        }
    }

    pub fn remove(path: &[&str]) -> Edit {
        Edit::Remove {
            path: path.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn rename(path: &[&str], to: &str) -> Edit {
        Edit::Rename {
            path: path.iter().map(|s| s.to_string()).collect(),
            to: to.into(),
        }
    }

    pub fn push(path: &[&str], item: Vec<(Vec<String>, NewScalar)>) -> Edit {
        Edit::Push {
            path: path.iter().map(|s| s.to_string()).collect(),
            item,
        }
    }

    pub fn path(&self) -> &[String] {
        match self {
            Edit::Set { path, .. }
            | Edit::Remove { path }
            | Edit::Rename { path, .. }
            | Edit::Push { path, .. } => path,
        }
    }

    /// Applies the edit to a meaning, as the text edit must apply it to the text.
    pub fn apply_to(&self, root: &mut Value) {
        match self {
            Edit::Set { path, value } => {
                let mut cur = root;
                for seg in &path[..path.len() - 1] {
                    if let Some(i) = index_in(cur, seg) {
                        let Value::Seq(items) = cur else {
                            unreachable!()
                        };
                        cur = &mut items[i];
                        continue;
                    }
                    if !matches!(cur, Value::Map(_)) {
                        *cur = Value::Map(Map::default());
                    }
                    let Value::Map(m) = cur else { unreachable!() };
                    if m.get(seg).is_none() {
                        m.insert(Value::Str(seg.clone()), Value::Null);
                    }
                    cur = m.get_mut(seg).expect("just inserted");
                }
                if !matches!(cur, Value::Map(_)) {
                    *cur = Value::Map(Map::default());
                }
                let Value::Map(m) = cur else { unreachable!() };
                m.insert(
                    Value::Str(path[path.len() - 1].clone()),
                    value.value.clone(),
                );
            }
            Edit::Remove { path } => {
                let (last, parents) = path.split_last().expect("non-empty path");
                if let Some(Value::Map(m)) = walk_mut(root, parents) {
                    m.remove(last);
                }
            }
            Edit::Rename { path, to } => {
                let (last, parents) = path.split_last().expect("non-empty path");
                if let Some(Value::Map(m)) = walk_mut(root, parents)
                    && let Some(slot) = m.0.iter_mut().find(|(k, _)| *k == Value::Str(last.clone()))
                {
                    slot.0 = Value::Str(to.clone());
                }
            }
            Edit::Push { path, item } => push_to(root, path, item),
        }
    }
}

/// [`Edit::Push`] on a meaning: parents made when missing, the item appended (a sequence made
/// of an absent or null value).
fn push_to(root: &mut Value, path: &[String], item: &[(Vec<String>, NewScalar)]) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut new = Value::Map(Map::default());
    for (p, v) in item {
        Edit::Set {
            path: p.clone(),
            value: v.clone(),
        }
        .apply_to(&mut new);
    }
    let mut cur = root;
    for seg in parents {
        if let Some(i) = index_in(cur, seg) {
            let Value::Seq(items) = cur else {
                unreachable!()
            };
            cur = &mut items[i];
            continue;
        }
        let Value::Map(m) = cur else { return };
        if m.get(seg).is_none() {
            m.insert(Value::Str(seg.clone()), Value::Map(Map::default()));
        }
        cur = m.get_mut(seg).expect("just made");
    }
    let Value::Map(m) = cur else { return };
    match m.get_mut(last) {
        Some(Value::Seq(items)) => items.push(new),
        Some(slot) => *slot = Value::Seq(vec![new]),
        None => m.insert(Value::Str(last.clone()), Value::Seq(vec![new])),
    }
}

/// The item a path segment picks when `v` is a sequence and the segment a number within it.
fn index_in(v: &Value, seg: &str) -> Option<usize> {
    let Value::Seq(items) = v else { return None };
    seg.parse::<usize>().ok().filter(|&i| i < items.len())
}

/// The value at an existing path (keys, and item numbers in sequences).
fn walk_mut<'a>(root: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = root;
    for seg in path {
        cur = match cur {
            Value::Seq(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
            Value::Map(m) => m.get_mut(seg)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The edited text, its parsed form and what the engine wants said about it.
#[derive(Debug, Clone)]
pub struct Edited {
    pub document: Document,
    pub warnings: Vec<Warning>,
}

impl Edited {
    pub fn text(&self) -> &str {
        self.document.text()
    }
}

/// New keys to write under one existing node, in the order the edits named them.
#[derive(Default, Debug)]
struct NewTree(Vec<(String, NewItem)>);

#[derive(Debug)]
enum NewItem {
    Leaf(String),
    Branch(NewTree),
}

impl NewTree {
    fn add(&mut self, path: &[String], text: &str) {
        let (first, rest) = path.split_first().expect("non-empty path");
        let pos = self.0.iter().position(|(k, _)| k == first);
        if rest.is_empty() {
            match pos {
                Some(i) => self.0[i].1 = NewItem::Leaf(text.into()),
                None => self.0.push((first.clone(), NewItem::Leaf(text.into()))),
            }
            return;
        }
        let i = match pos {
            Some(i) if matches!(self.0[i].1, NewItem::Branch(_)) => i,
            Some(i) => {
                self.0[i].1 = NewItem::Branch(NewTree::default());
                i
            }
            None => {
                self.0
                    .push((first.clone(), NewItem::Branch(NewTree::default())));
                self.0.len() - 1
            }
        };
        if let NewItem::Branch(t) = &mut self.0[i].1 {
            t.add(rest, text);
        }
    }

    fn block(&self, indent: usize, unit: usize, nl: &str, out: &mut String) {
        for (k, item) in &self.0 {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(&key_text(k));
            match item {
                NewItem::Leaf(t) => {
                    out.push_str(": ");
                    out.push_str(t);
                    out.push_str(nl);
                }
                NewItem::Branch(sub) => {
                    out.push(':');
                    out.push_str(nl);
                    sub.block(indent + unit, unit, nl, out);
                }
            }
        }
    }

    fn flow(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, item)| match item {
                NewItem::Leaf(t) => format!("{}: {t}", key_text(k)),
                NewItem::Branch(sub) => format!("{}: {{{}}}", key_text(k), sub.flow()),
            })
            .collect();
        parts.join(", ")
    }
}

/// A key as written: plain when it reads back as the same string in both schemas.
fn key_text(k: &str) -> String {
    let plain_ok = k
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && [Schema::Yaml11, Schema::Yaml12]
            .iter()
            .all(|s| resolve_scalar(k, Style::Plain, None, *s) == Value::Str(k.into()));
    if plain_ok { k.into() } else { double_quote(k) }
}

enum Target<'a> {
    /// The document has no content: new keys go at its end.
    Empty,
    Into(&'a Node),
    FillNull {
        parent: &'a Node,
        key: &'a Node,
        null: &'a Node,
    },
}

struct Group<'a> {
    target: Target<'a>,
    depth: usize,
    tree: NewTree,
}

impl Group<'_> {
    fn target_id(&self) -> usize {
        match self.target {
            Target::Into(n) => n.id,
            Target::FillNull { null, .. } => null.id,
            Target::Empty => usize::MAX,
        }
    }
}

struct Op {
    start: usize,
    end: usize,
    text: String,
    depth: usize,
}

impl Document {
    /// Applies the edits together, then proves the result: it must parse and mean exactly the
    /// original plus the edits. Nothing outside the edited spans changes.
    pub fn apply(&self, edits: &[Edit]) -> Result<Edited, YamlError> {
        check_conflicts(edits)?;
        let mut warnings = Vec::new();
        let mut ops: Vec<Op> = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<usize, usize> = HashMap::new();
        // Entries removed from each mapping (by index), emitted together once all are known.
        let mut removed: HashMap<usize, (&Node, Vec<usize>, Vec<String>)> = HashMap::new();
        let mut pushes: Vec<(Vec<String>, Vec<NewTree>)> = Vec::new();

        for edit in edits {
            match edit {
                Edit::Set { path, value } => {
                    let Some(root) = &self.root else {
                        let i = *group_of.entry(usize::MAX).or_insert_with(|| {
                            groups.push(Group {
                                target: Target::Empty,
                                depth: 0,
                                tree: NewTree::default(),
                            });
                            groups.len() - 1
                        });
                        groups[i].tree.add(path, &value.text);
                        continue;
                    };
                    self.plan_set(
                        root,
                        path,
                        value,
                        &mut ops,
                        &mut groups,
                        &mut group_of,
                        &mut warnings,
                    )?;
                }
                Edit::Remove { path } => {
                    self.plan_remove(path, &mut removed, &mut warnings)?;
                }
                Edit::Rename { path, to } => self.plan_rename(path, to, &mut ops, &mut warnings)?,
                Edit::Push { path, item } => {
                    let mut tree = NewTree::default();
                    for (p, v) in item {
                        tree.add(p, &v.text);
                    }
                    // Items pushed to one sequence go in together, in order.
                    match pushes.iter_mut().find(|(p, _)| p == path) {
                        Some((_, trees)) => trees.push(tree),
                        None => pushes.push((path.clone(), vec![tree])),
                    }
                }
            }
        }

        for (path, trees) in &pushes {
            self.plan_push(path, trees, &mut ops, &mut warnings)?;
        }

        // Block mappings left with no entries: their key is left with no value, which reads
        // as null (a flow mapping reads as `{}` instead).
        let mut emptied: Vec<Vec<String>> = Vec::new();
        for (map_id, (map, indices, parent)) in &mut removed {
            indices.sort_unstable();
            indices.dedup();
            let Kind::Mapping { entries, flow } = &map.kind else {
                unreachable!("removals are from mappings")
            };
            if !flow && indices.len() == entries.len() && !group_of.contains_key(map_id) {
                emptied.push(parent.clone());
            }
            self.removal_ops(map, indices, &mut ops);
        }

        let unit = self.indent_unit();
        let nl = newline_of(&self.text);
        for g in &groups {
            let gone = removed
                .get(&g.target_id())
                .map_or(&[][..], |(_, v, _)| v.as_slice());
            self.render_group(g, gone, unit, nl, &mut ops);
        }

        let text = self.splice(ops)?;
        let document = Document::parse(text, self.options).map_err(|e| {
            YamlError::new(
                ErrorKind::Verification {
                    detail: format!("the edited text does not parse: {e}"),
                },
                Default::default(),
            )
        })?;
        if let Err(detail) = self.verify(&document, edits, &emptied) {
            return Err(YamlError::new(
                ErrorKind::Verification { detail },
                Default::default(),
            ));
        }
        Ok(Edited { document, warnings })
    }

    /// Checks that `new` means this document plus the edits.
    fn verify(
        &self,
        new: &Document,
        edits: &[Edit],
        emptied: &[Vec<String>],
    ) -> Result<(), String> {
        let mut expected = self.value().clone();
        for e in edits {
            e.apply_to(&mut expected);
        }
        for p in emptied {
            set_null(&mut expected, p);
        }
        if *new.value() == expected {
            Ok(())
        } else {
            Err(describe_difference(&expected, new.value()))
        }
    }

    /// Refuses nodes whose edit would reach further than the path.
    fn check_on_path(&self, node: &Node, path: &[String]) -> Result<(), YamlError> {
        let p = || display_path(path);
        if matches!(node.kind, Kind::Alias { .. })
            || (node.anchor != 0 && self.aliased.contains(&node.anchor))
        {
            return Err(YamlError::new(ErrorKind::Alias { path: p() }, node.start()));
        }
        if let Some(tag) = &node.tag {
            return Err(YamlError::new(
                ErrorKind::Tag {
                    path: p(),
                    tag: tag.to_string(),
                },
                node.start(),
            ));
        }
        if let Kind::Mapping { entries, flow } = &node.kind {
            // New keys go after the last entry, whose end must be known.
            if let Some((k, v)) = entries.last() {
                self.check_end_known(k, v, path)?;
            }
            for (k, _) in entries {
                // `? key` (YAML's explicit key): its lines do not follow the usual layout. An
                // empty key (`?` alone, or a line that starts with `: `) has no text at all. In
                // a block mapping every other key has its `:` after it on its line, which also
                // finds `?` with the key on the next line.
                let before = self.text[..k.start().offset].trim_end_matches([' ', '\t']);
                let colon_after = self.text[k.end()..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with(':');
                if before.ends_with('?') || k.end() == k.start().offset || (!*flow && !colon_after)
                {
                    return Err(YamlError::new(
                        ErrorKind::ComplexKey { path: p() },
                        k.start(),
                    ));
                }
                match k.scalar() {
                    None => {
                        return Err(YamlError::new(
                            ErrorKind::ComplexKey { path: p() },
                            k.start(),
                        ));
                    }
                    Some(("<<", Style::Plain)) if self.options.schema == Schema::Yaml11 => {
                        return Err(YamlError::new(ErrorKind::MergeKey { path: p() }, k.start()));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// An empty value that carries an anchor or a tag (`key: &a`, `key: !t`) has no span the
    /// parser reports: where its text ends is unknown, so nothing is placed after it. An entry
    /// ends where its value's last part does (the last entry or item of a block collection, and
    /// so on down), so that is the value checked.
    fn check_end_known(&self, k: &Node, v: &Node, path: &[String]) -> Result<(), YamlError> {
        let key_text = |k: &Node| k.scalar().map_or("?", |s| s.0).to_owned();
        let mut full = path.to_vec();
        full.push(key_text(k));
        let (mut at, mut v) = (k.start(), v);
        loop {
            if v.is_absent() && (v.anchor != 0 || v.tag.is_some()) {
                let kind = match &v.tag {
                    Some(tag) => ErrorKind::Tag {
                        path: display_path(&full),
                        tag: tag.to_string(),
                    },
                    None => ErrorKind::Alias {
                        path: display_path(&full),
                    },
                };
                return Err(YamlError::new(kind, at));
            }
            // A block scalar that keeps its trailing lines (`|+`, `>+`) and runs to the end of
            // a file without a final line break: where its content ends is not settled.
            if let Kind::Scalar {
                style: Style::Literal | Style::Folded,
                ..
            } = &v.kind
                && v.end() >= self.text.len()
                && !self.text.ends_with('\n')
                && self.text[v.start().offset..]
                    .lines()
                    .next()
                    .is_some_and(|h| h.split('#').next().unwrap_or("").contains('+'))
            {
                return Err(YamlError::new(
                    ErrorKind::BlockScalar {
                        path: display_path(&full),
                    },
                    at,
                ));
            }
            match &v.kind {
                Kind::Mapping {
                    flow: false,
                    entries,
                } if !entries.is_empty() => {
                    let (k, last) = &entries[entries.len() - 1];
                    full.push(key_text(k));
                    (at, v) = (k.start(), last);
                }
                Kind::Sequence { flow: false, items } if !items.is_empty() => {
                    full.push((items.len() - 1).to_string());
                    v = &items[items.len() - 1];
                    at = v.start();
                }
                _ => return Ok(()),
            }
        }
    }

    /// The entries of `map` whose key is `seg`; the last one is the one the consumer reads.
    fn lookup<'a>(
        &self,
        map: &'a Node,
        seg: &str,
        path: &[String],
        warnings: &mut Vec<Warning>,
    ) -> Result<Vec<&'a (Node, Node)>, YamlError> {
        let Kind::Mapping { entries, .. } = &map.kind else {
            unreachable!("lookup on a mapping")
        };
        let found: Vec<_> = entries
            .iter()
            .filter(|(k, _)| k.scalar().is_some_and(|(s, _)| s == seg))
            .collect();
        if found.len() > 1 {
            let first = found[0].0.start();
            let last = found[found.len() - 1].0.start();
            match self.options.duplicates {
                Duplicates::Error => {
                    return Err(YamlError::new(
                        ErrorKind::DuplicateKey {
                            path: display_path(path),
                            first_line: first.line,
                        },
                        last,
                    ));
                }
                Duplicates::LastWins => warnings.push(Warning {
                    line: last.line,
                    col: last.col,
                    message: format!(
                        "`{}` is defined {} times (first at line {}); the last one is what \
                         the file's reader takes, so that is the one edited",
                        display_path(path),
                        found.len(),
                        first.line
                    ),
                }),
            }
        }
        Ok(found)
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_set<'a>(
        &'a self,
        root: &'a Node,
        path: &[String],
        value: &NewScalar,
        ops: &mut Vec<Op>,
        groups: &mut Vec<Group<'a>>,
        group_of: &mut HashMap<usize, usize>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), YamlError> {
        let mut cur = root;
        let mut parent: Option<(&Node, &Node)> = None;
        for (i, seg) in path.iter().enumerate() {
            self.check_on_path(cur, &path[..i])?;
            if let Some(item) = item_of(cur, seg) {
                // Into a sequence's item: new keys go into it as into any mapping.
                cur = item;
                parent = None;
                continue;
            }
            let (target, rest) = match &cur.kind {
                Kind::Mapping { .. } => {
                    match self.lookup(cur, seg, &path[..=i], warnings)?.last() {
                        Some((k, v)) => {
                            parent = Some((cur, k));
                            cur = v;
                            continue;
                        }
                        None => (Target::Into(cur), &path[i..]),
                    }
                }
                Kind::Scalar { value: v, style } if is_null(v, *style, self.options.schema) => {
                    let Some((pmap, key)) = parent else {
                        return Err(YamlError::new(
                            ErrorKind::NotAMapping {
                                path: "(document)".into(),
                                found: "null",
                            },
                            cur.start(),
                        ));
                    };
                    (
                        Target::FillNull {
                            parent: pmap,
                            key,
                            null: cur,
                        },
                        &path[i..],
                    )
                }
                _ => {
                    return Err(YamlError::new(
                        ErrorKind::NotAMapping {
                            path: display_path(&path[..i]),
                            found: cur.kind_name(),
                        },
                        parent.map_or(cur.start(), |(_, k)| k.start()),
                    ));
                }
            };
            let gi = *group_of.entry(cur.id).or_insert_with(|| {
                groups.push(Group {
                    target,
                    depth: i,
                    tree: NewTree::default(),
                });
                groups.len() - 1
            });
            groups[gi].tree.add(rest, &value.text);
            return Ok(());
        }
        self.check_on_path(cur, path)?;
        let key = parent.expect("non-empty path").1;
        match &cur.kind {
            Kind::Scalar {
                style: Style::Literal | Style::Folded,
                ..
            } => Err(YamlError::new(
                ErrorKind::BlockScalar {
                    path: display_path(path),
                },
                key.start(),
            )),
            // `key: &anchor` with nothing after it: the value would go before the anchor.
            Kind::Scalar { .. } if cur.is_absent() && cur.anchor != 0 => Err(YamlError::new(
                ErrorKind::Alias {
                    path: display_path(path),
                },
                key.start(),
            )),
            Kind::Scalar { .. } if cur.is_absent() => {
                let at = self.after_colon(key);
                ops.push(Op {
                    start: at,
                    end: at,
                    text: format!(" {}", value.text),
                    depth: path.len(),
                });
                Ok(())
            }
            Kind::Scalar { .. } => {
                ops.push(Op {
                    start: cur.start().offset,
                    end: cur.end(),
                    text: value.text.clone(),
                    depth: path.len(),
                });
                Ok(())
            }
            _ => Err(YamlError::new(
                ErrorKind::NotAScalar {
                    path: display_path(path),
                    found: cur.kind_name(),
                },
                key.start(),
            )),
        }
    }

    /// The node at an existing path (keys, the last of duplicates, and item numbers).
    fn node_at(&self, path: &[String], warnings: &mut Vec<Warning>) -> Result<&Node, YamlError> {
        let not_found = || {
            YamlError::new(
                ErrorKind::NotFound {
                    path: display_path(path),
                },
                Default::default(),
            )
        };
        let mut cur = self.root.as_ref().ok_or_else(not_found)?;
        for (i, seg) in path.iter().enumerate() {
            self.check_on_path(cur, &path[..i])?;
            cur = match (&cur.kind, item_of(cur, seg)) {
                (_, Some(item)) => item,
                (Kind::Mapping { .. }, None) => {
                    &self
                        .lookup(cur, seg, &path[..=i], warnings)?
                        .last()
                        .ok_or_else(not_found)?
                        .1
                }
                _ => return Err(not_found()),
            };
        }
        self.check_on_path(cur, path)?;
        Ok(cur)
    }

    /// Renames every occurrence of a key: only the keys' text changes.
    fn plan_rename(
        &self,
        path: &[String],
        to: &str,
        ops: &mut Vec<Op>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), YamlError> {
        let (last, parents) = path.split_last().expect("non-empty path");
        let map = self.node_at(parents, warnings)?;
        let Kind::Mapping { entries, .. } = &map.kind else {
            return Err(YamlError::new(
                ErrorKind::NotFound {
                    path: display_path(path),
                },
                map.start(),
            ));
        };
        let named = |k: &Node, name: &str| k.scalar().is_some_and(|(s, _)| s == name);
        if let Some((k, _)) = entries.iter().find(|(k, _)| named(k, to)) {
            return Err(YamlError::new(
                ErrorKind::KeyExists {
                    path: display_path(path),
                    key: to.into(),
                },
                k.start(),
            ));
        }
        let keys: Vec<&Node> = entries
            .iter()
            .filter(|(k, _)| named(k, last))
            .map(|(k, _)| k)
            .collect();
        if keys.is_empty() {
            return Err(YamlError::new(
                ErrorKind::NotFound {
                    path: display_path(path),
                },
                map.start(),
            ));
        }
        for k in keys {
            ops.push(Op {
                start: k.start().offset,
                end: k.end(),
                text: key_text(to),
                depth: path.len(),
            });
        }
        Ok(())
    }

    /// Appends mappings to a sequence, in its style: `[..., {k: v}]` in flow, a `- k: v` item
    /// at the items' indentation in block; an absent or null value becomes a block sequence
    /// of the items (flow inside a flow mapping), under parent keys made when missing.
    fn plan_push(
        &self,
        path: &[String],
        trees: &[NewTree],
        ops: &mut Vec<Op>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), YamlError> {
        let (last, parents) = path.split_last().expect("non-empty path");
        // The deepest mapping that exists on the way; the keys below it are made.
        let have = (0..=parents.len())
            .rev()
            .find(|&n| {
                self.node_at(&parents[..n], &mut Vec::new())
                    .is_ok_and(|m| matches!(m.kind, Kind::Mapping { .. }))
            })
            .unwrap_or(0);
        let map = self.node_at(&parents[..have], warnings)?;
        // Found by the fuzzer: no mapping on the way at all (the document is a scalar).
        if !matches!(map.kind, Kind::Mapping { .. }) {
            return Err(YamlError::new(
                ErrorKind::NotAMapping {
                    path: display_path(&parents[..have]),
                    found: map.kind_name(),
                },
                map.start(),
            ));
        }
        let made = &parents[have..];
        let items = Items {
            trees,
            unit: self.indent_unit(),
            nl: newline_of(&self.text),
        };
        let found = match made.is_empty() {
            true => self.lookup(map, last, path, warnings)?.last().copied(),
            false => None,
        };
        let (start, end, text) = match found {
            None => {
                let (at, text) = self.new_sequence(map, made, last, &items);
                (at, at, text)
            }
            Some((key, seq)) => {
                self.check_on_path(seq, path)?;
                self.append_to_sequence(map, key, seq, &items)
                    .ok_or_else(|| {
                        YamlError::new(
                            ErrorKind::NotAMapping {
                                path: display_path(path),
                                found: seq.kind_name(),
                            },
                            key.start(),
                        )
                    })?
            }
        };
        ops.push(Op {
            start,
            end,
            text,
            depth: path.len(),
        });
        Ok(())
    }

    /// Where and what to insert for a new key `last` (under the `made` keys) holding the items,
    /// after the mapping's last entry.
    fn new_sequence(
        &self,
        map: &Node,
        made: &[String],
        last: &str,
        items: &Items,
    ) -> (usize, String) {
        let flow = matches!(map.kind, Kind::Mapping { flow: true, .. });
        let indent = map.start().col - 1;
        let text = match flow {
            true => made.iter().rev().fold(
                format!("{}: [{}]", key_text(last), items.flow()),
                |inner, k| format!("{}: {{{inner}}}", key_text(k)),
            ),
            false => {
                let mut text = String::new();
                for (i, k) in made.iter().map(String::as_str).chain([last]).enumerate() {
                    text.push_str(&" ".repeat(indent + i * items.unit));
                    text.push_str(&key_text(k));
                    text.push(':');
                    text.push_str(items.nl);
                }
                text + &items.block(indent + (made.len() + 1) * items.unit)
            }
        };
        let Kind::Mapping { entries, .. } = &map.kind else {
            unreachable!("a mapping")
        };
        match (flow, entries.last()) {
            (true, None) => (map.start().offset + 1, text),
            (true, Some((k, v))) => (entry_end(&self.text, k, v), format!(", {text}")),
            (false, _) => {
                let after = line_after(&self.text, content_end(&self.text, map));
                let at = skip_deeper_comments(&self.text, after, indent);
                (at, self.fix_eof(at, text, items.nl))
            }
        }
    }

    /// The replacement (start, end, text) that adds the items to the existing value `seq` of
    /// `key`: a sequence, or a null; none for anything else.
    fn append_to_sequence(
        &self,
        map: &Node,
        key: &Node,
        seq: &Node,
        items: &Items,
    ) -> Option<(usize, usize, String)> {
        match &seq.kind {
            Kind::Sequence {
                flow: true,
                items: old,
            } => Some(match old.last() {
                None => (seq.start().offset + 1, seq.start().offset + 1, items.flow()),
                Some(i) => {
                    let at = content_end(&self.text, i);
                    (at, at, format!(", {}", items.flow()))
                }
            }),
            Kind::Sequence {
                flow: false,
                items: old,
            } => {
                let first = &old[0];
                let line = line_start(&self.text, first.start().offset);
                let dash = self.text[line..first.start().offset]
                    .rfind('-')
                    .unwrap_or(first.start().col.saturating_sub(3));
                let after = line_after(&self.text, content_end(&self.text, seq));
                let at = skip_deeper_comments(&self.text, after, dash);
                Some((at, at, self.fix_eof(at, items.block(dash), items.nl)))
            }
            Kind::Scalar { value, style } if is_null(value, *style, self.options.schema) => {
                // `key:` or `key: ~`: the null (and the space before it) gives way to the items.
                let colon = self.after_colon(key);
                let end = if seq.is_absent() { colon } else { seq.end() };
                let text = match map.kind {
                    Kind::Mapping { flow: true, .. } => format!(" [{}]", items.flow()),
                    _ => {
                        let body = items.block(key.start().col - 1 + items.unit);
                        format!(
                            "{}{}",
                            items.nl,
                            body.strip_suffix(items.nl).unwrap_or(&body)
                        )
                    }
                };
                Some((colon, end, text))
            }
            _ => None,
        }
    }

    fn plan_remove<'a>(
        &'a self,
        path: &[String],
        removed: &mut HashMap<usize, (&'a Node, Vec<usize>, Vec<String>)>,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), YamlError> {
        let not_found = || {
            YamlError::new(
                ErrorKind::NotFound {
                    path: display_path(path),
                },
                Default::default(),
            )
        };
        let (last, parents) = path.split_last().expect("non-empty path");
        let mut map = self.root.as_ref().ok_or_else(not_found)?;
        for (i, seg) in parents.iter().enumerate() {
            self.check_on_path(map, &path[..i])?;
            if !matches!(map.kind, Kind::Mapping { .. }) {
                return Err(not_found());
            }
            map = &self
                .lookup(map, seg, &path[..=i], warnings)?
                .last()
                .ok_or_else(not_found)?
                .1;
        }
        self.check_on_path(map, parents)?;
        let Kind::Mapping { entries, flow } = &map.kind else {
            return Err(not_found());
        };
        let found: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].0.scalar().is_some_and(|(s, _)| s == last))
            .collect();
        if found.is_empty() {
            return Err(not_found());
        }
        for &i in &found {
            self.check_end_known(&entries[i].0, &entries[i].1, parents)?;
        }
        if !flow {
            for &i in &found {
                let k = &entries[i].0;
                if !starts_line(&self.text, k.start().offset) {
                    return Err(YamlError::new(
                        ErrorKind::NotOnOwnLine {
                            path: display_path(path),
                        },
                        k.start(),
                    ));
                }
            }
        }
        removed
            .entry(map.id)
            .or_insert((map, Vec::new(), parents.to_vec()))
            .1
            .extend(found);
        Ok(())
    }

    /// The byte ranges that remove the given entries of one mapping: whole lines (with the
    /// deeper comments that belong to them) in block style; in flow style, each run of removed
    /// entries with the separator before it (or after it, for a run at the start).
    fn removal_ops(&self, map: &Node, indices: &[usize], ops: &mut Vec<Op>) {
        let Kind::Mapping { entries, flow } = &map.kind else {
            return;
        };
        let depth = usize::MAX / 2;
        let end = |i: usize| entry_end(&self.text, &entries[i].0, &entries[i].1);
        if !flow {
            for &i in indices {
                let (k, v) = &entries[i];
                let after = line_after(&self.text, entry_end(&self.text, k, v));
                // A byte-order mark stays, even when the first line goes.
                let bom = if self.text.starts_with('\u{feff}') {
                    3
                } else {
                    0
                };
                ops.push(Op {
                    start: line_start(&self.text, k.start().offset).max(bom),
                    end: skip_deeper_comments(&self.text, after, k.start().col - 1),
                    text: String::new(),
                    depth,
                });
            }
            return;
        }
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &i in indices {
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == i => *last = i,
                _ => runs.push((i, i)),
            }
        }
        for (first, last) in runs {
            let (start, stop) = if first > 0 {
                (end(first - 1), end(last))
            } else if last + 1 < entries.len() {
                (
                    entries[0].0.start().offset,
                    entries[last + 1].0.start().offset,
                )
            } else {
                (entries[0].0.start().offset, end(last))
            };
            ops.push(Op {
                start,
                end: stop,
                text: String::new(),
                depth,
            });
        }
    }

    /// The offset just past the `:` that follows a key.
    fn after_colon(&self, key: &Node) -> usize {
        let rest = &self.text[key.end()..];
        let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let at = key.end() + skipped;
        if self.text[at..].starts_with(':') {
            at + 1
        } else {
            key.end()
        }
    }

    fn render_group(&self, g: &Group, gone: &[usize], unit: usize, nl: &str, ops: &mut Vec<Op>) {
        let mut push = |start: usize, end: usize, text: String| {
            ops.push(Op {
                start,
                end,
                text,
                depth: g.depth + 1,
            })
        };
        match g.target {
            Target::Empty => {
                let mut text = String::new();
                g.tree.block(0, unit, nl, &mut text);
                let at = self.text.len();
                push(at, at, self.fix_eof(at, text, nl));
            }
            Target::Into(map) => {
                let Kind::Mapping { flow, entries } = &map.kind else {
                    unreachable!()
                };
                if *flow {
                    let kept = (0..entries.len()).rev().find(|i| !gone.contains(i));
                    match kept.map(|i| &entries[i]) {
                        None => push(
                            map.start().offset + 1,
                            map.start().offset + 1,
                            g.tree.flow(),
                        ),
                        Some((k, v)) => {
                            let at = entry_end(&self.text, k, v);
                            push(at, at, format!(", {}", g.tree.flow()));
                        }
                    }
                } else {
                    let indent = map.start().col - 1;
                    let after = line_after(&self.text, content_end(&self.text, map));
                    let at = skip_deeper_comments(&self.text, after, indent);
                    let mut text = String::new();
                    g.tree.block(indent, unit, nl, &mut text);
                    push(at, at, self.fix_eof(at, text, nl));
                }
            }
            Target::FillNull { parent, key, null } => {
                if let Kind::Mapping { flow: true, .. } = parent.kind {
                    let text = format!("{{{}}}", g.tree.flow());
                    if null.is_absent() {
                        let at = self.after_colon(key);
                        push(at, at, format!(" {text}"));
                    } else {
                        push(null.start().offset, null.end(), text);
                    }
                    return;
                }
                let colon = self.after_colon(key);
                if !null.is_absent() {
                    // `key: ~` becomes `key:` with children below.
                    let before = &self.text[colon..null.start().offset];
                    let start = colon + before.len() - before.trim_start_matches([' ', '\t']).len();
                    let start = if start == null.start().offset {
                        colon
                    } else {
                        start
                    };
                    push(start, null.end(), String::new());
                }
                let at = line_after(&self.text, null.end().max(colon));
                let key_indent = key.start().col - 1;
                let indent = next_comment_indent(&self.text, at)
                    .filter(|&i| i > key_indent)
                    .unwrap_or(key_indent + unit);
                let mut text = String::new();
                g.tree.block(indent, unit, nl, &mut text);
                push(at, at, self.fix_eof(at, text, nl));
            }
        }
    }

    /// At the end of a file with no final newline, new lines go after a line break of their
    /// own and the file still ends without one.
    fn fix_eof(&self, at: usize, text: String, nl: &str) -> String {
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with('\n') {
            format!("{nl}{}", text.strip_suffix(nl).unwrap_or(&text))
        } else {
            text
        }
    }

    /// The file's indentation unit: the most common step from a key to its nested keys.
    fn indent_unit(&self) -> usize {
        fn walk(n: &Node, counts: &mut HashMap<usize, usize>) {
            match &n.kind {
                Kind::Mapping { entries, flow } => {
                    for (k, v) in entries {
                        if !flow
                            && let Kind::Mapping { flow: false, .. } = v.kind
                            && v.start().col > k.start().col
                        {
                            *counts.entry(v.start().col - k.start().col).or_default() += 1;
                        }
                        walk(v, counts);
                    }
                }
                Kind::Sequence { items, .. } => items.iter().for_each(|i| walk(i, counts)),
                _ => {}
            }
        }
        let mut counts = HashMap::new();
        if let Some(r) = &self.root {
            walk(r, &mut counts);
        }
        counts
            .into_iter()
            .max_by_key(|&(unit, n)| (n, Reverse(unit)))
            .map_or(2, |(unit, _)| unit)
    }

    fn splice(&self, mut ops: Vec<Op>) -> Result<String, YamlError> {
        // Same place: the narrower edit first, then the deeper node's insertion.
        ops.sort_by_key(|o| (o.start, o.end, Reverse(o.depth)));
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut at = 0;
        for op in ops {
            if op.start < at {
                return Err(YamlError::new(
                    ErrorKind::Verification {
                        detail: format!("two edits overlap at byte {}", op.start),
                    },
                    Default::default(),
                ));
            }
            out.push_str(&self.text[at..op.start]);
            out.push_str(&op.text);
            at = op.end;
        }
        out.push_str(&self.text[at..]);
        // A file without a final newline keeps none, even when its last lines were removed;
        // a last line that is still there is kept as it is (found by the fuzzer: its blanks
        // can be a block scalar's content, `N: |\n \t`).
        let last_line = self.text.rsplit('\n').next().unwrap_or("");
        if !self.text.is_empty() && !self.text.ends_with('\n') && !out.ends_with(last_line) {
            out.truncate(out.trim_end_matches(['\n', '\r', ' ', '\t']).len());
        }
        Ok(out)
    }
}

/// A sequence's item that a path segment picks (a number within it).
fn item_of<'a>(n: &'a Node, seg: &str) -> Option<&'a Node> {
    let Kind::Sequence { items, .. } = &n.kind else {
        return None;
    };
    items.get(seg.parse::<usize>().ok()?)
}

/// Mappings to append to a sequence, and how the file writes them.
struct Items<'a> {
    trees: &'a [NewTree],
    unit: usize,
    nl: &'a str,
}

impl Items<'_> {
    /// `{k: v}, {k: v}`.
    fn flow(&self) -> String {
        let items: Vec<String> = self
            .trees
            .iter()
            .map(|t| format!("{{{}}}", t.flow()))
            .collect();
        items.join(", ")
    }

    /// One `- k: v` block item a tree, the dash at column `dash`.
    fn block(&self, dash: usize) -> String {
        self.trees
            .iter()
            .map(|t| block_item(t, dash, self.unit, self.nl))
            .collect()
    }
}

/// One block sequence item holding the tree: `- k: v` with the dash at column `dash`, the
/// item's keys lined up after it.
fn block_item(tree: &NewTree, dash: usize, unit: usize, nl: &str) -> String {
    let mut body = String::new();
    tree.block(dash + 2, unit, nl, &mut body);
    format!("{}- {}", " ".repeat(dash), &body[dash + 2..])
}

/// Makes the value at `path` null (the root when the path is empty).
fn set_null(root: &mut Value, path: &[String]) {
    let mut cur = root;
    for seg in path {
        match cur {
            Value::Map(m) => match m.get_mut(seg) {
                Some(v) => cur = v,
                None => return,
            },
            _ => return,
        }
    }
    *cur = Value::Null;
}

/// Refuses edit lists whose edits address the same place: the text edits could not be
/// combined, and the meaning would depend on their order.
fn check_conflicts(edits: &[Edit]) -> Result<(), YamlError> {
    // Items pushed to a sequence go after its items; an edit inside an existing item, or
    // another push, does not meet them.
    let beside_push = |a: &Edit, b: &Edit| match (a, b) {
        (Edit::Push { path: p, .. }, other) | (other, Edit::Push { path: p, .. }) => {
            let o = other.path();
            matches!(other, Edit::Push { .. }) && o == p.as_slice()
                || (o.len() > p.len() && o.starts_with(p) && o[p.len()].parse::<usize>().is_ok())
        }
        _ => false,
    };
    for (i, a) in edits.iter().enumerate() {
        for b in &edits[i + 1..] {
            let (pa, pb) = (a.path(), b.path());
            let n = pa.len().min(pb.len());
            if pa[..n] == pb[..n] && !beside_push(a, b) {
                return Err(YamlError::new(
                    ErrorKind::Conflict {
                        first: display_path(pa),
                        second: display_path(pb),
                    },
                    Default::default(),
                ));
            }
        }
    }
    Ok(())
}

fn is_null(v: &str, style: Style, schema: Schema) -> bool {
    resolve_scalar(v, style, None, schema) == Value::Null
}

/// Where an entry's text ends: after its colon when the value is absent (the parser places
/// an absent value at the colon), else where the value's text ends.
fn entry_end(text: &str, k: &Node, v: &Node) -> usize {
    if v.is_absent() {
        let rest = &text[k.end()..];
        let at = k.end() + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
        return if text[at..].starts_with(':') {
            at + 1
        } else {
            k.end()
        };
    }
    content_end(text, v).max(k.end())
}

/// Where a node's own text ends: block scalars without their trailing blank lines, block
/// collections at their last child's content.
fn content_end(text: &str, n: &Node) -> usize {
    match &n.kind {
        Kind::Scalar {
            style: Style::Literal | Style::Folded,
            ..
        } => block_scalar_end(text, n.start().offset, n.end()),
        Kind::Mapping {
            flow: false,
            entries,
        } => entries
            .last()
            .map_or(n.end(), |(k, v)| entry_end(text, k, v)),
        Kind::Sequence { flow: false, items } => {
            items.last().map_or(n.end(), |v| content_end(text, v))
        }
        _ => n.end(),
    }
}

/// The end of a block scalar's content, from its header at `start` to the parser's `end`:
/// trailing lines that are empty, or white space no deeper than the block's indentation, are
/// not content (unless the header keeps them with `+`); a deeper white-space line is.
fn block_scalar_end(text: &str, start: usize, end: usize) -> usize {
    let header_end = line_after(text, start).min(end);
    let header = &text[start..header_end];
    let header = header.split('#').next().unwrap_or("");
    let header_line_end = start + text[start..header_end].trim_end_matches(['\r', '\n']).len();
    if header.contains('+') {
        // Kept trailing lines are content: the end is the last line break before the next
        // token (the parser's end may be that token's start), not counting that break.
        let at = if text[..end].ends_with('\n') {
            end
        } else {
            line_start(text, end)
        };
        let at = at
            - if text[..at].ends_with("\r\n") {
                2
            } else {
                usize::from(text[..at].ends_with('\n'))
            };
        return at.max(header_line_end);
    }
    let body = &text[header_end..end];
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    let width = |l: &str| l.len() - l.trim_start_matches(' ').len();
    // Only spaces indent a block scalar: a tab after them is content.
    let blank = |l: &str| l.trim_matches([' ', '\r', '\n']).is_empty();
    let indent = header
        .chars()
        .find(|c| c.is_ascii_digit() && *c != '0')
        .map(|d| d as usize - '0' as usize)
        .or_else(|| lines.iter().find(|l| !blank(l)).map(|l| width(l)));
    let Some(indent) = indent else {
        return header_line_end;
    };
    let mut at = end;
    for l in lines.iter().rev() {
        let content = l.trim_end_matches(['\r', '\n']);
        if blank(l) && width(content) <= indent {
            at -= l.len();
        } else {
            return at - (l.len() - content.len());
        }
    }
    header_line_end
}

pub(crate) fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        "(document)".into()
    } else {
        path.join(".")
    }
}

/// Names the first place where two meanings differ, for the verification error.
fn describe_difference(expected: &Value, got: &Value) -> String {
    fn walk(e: &Value, g: &Value, path: &mut Vec<String>) -> Option<String> {
        if let (Value::Map(em), Value::Map(gm)) = (e, g) {
            for (k, ev) in &em.0 {
                let key = match k {
                    Value::Str(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                let gv = gm.0.iter().find(|(gk, _)| gk == k).map(|(_, v)| v);
                match gv {
                    None => {
                        return Some(format!("`{}` is missing", [path.join("."), key].join(".")));
                    }
                    Some(gv) if gv != ev => {
                        path.push(key);
                        return walk(ev, gv, path);
                    }
                    _ => {}
                }
            }
            if em.0.len() != gm.0.len() || em != gm {
                return Some(format!(
                    "the mapping at `{}` has other keys or order",
                    path.join(".")
                ));
            }
            return None;
        }
        Some(format!(
            "`{}` should be {e:?} but reads as {g:?}",
            path.join(".")
        ))
    }
    walk(expected, got, &mut Vec::new()).unwrap_or_else(|| "meanings differ".into())
}

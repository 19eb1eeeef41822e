//! Typed errors of the YAML engine, each with the place it concerns.

use std::fmt;

/// A place in the source: byte offset, 1-based line, 1-based column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub offset: usize,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    Syntax(String),
    MultipleDocuments,
    /// A carriage return not followed by a line feed: YAML reads it as a line break, which
    /// line-based editing would not.
    LoneCarriageReturn,
    NotUtf8 {
        offset: usize,
    },
    TooLarge {
        bytes: usize,
        limit: usize,
    },
    /// Aliases that stand for more values than any configuration uses (a "billion laughs").
    AliasExpansion {
        limit: usize,
    },
    /// A tag the YAML 1.1 safe reader refuses.
    UnsafeTag {
        tag: String,
    },
    /// A character YAML 1.1 reads as a line break and YAML 1.2 does not.
    LineBreak {
        name: &'static str,
    },
    /// The path goes through an alias, or through a node whose anchor is aliased elsewhere:
    /// editing it would change the other users too.
    Alias {
        path: String,
    },
    Tag {
        path: String,
        tag: String,
    },
    ComplexKey {
        path: String,
    },
    MergeKey {
        path: String,
    },
    DuplicateKey {
        path: String,
        first_line: usize,
    },
    NotAMapping {
        path: String,
        found: &'static str,
    },
    NotAScalar {
        path: String,
        found: &'static str,
    },
    BlockScalar {
        path: String,
    },
    NotFound {
        path: String,
    },
    /// The key is not at the start of its line (`- key: v`), so its line cannot be removed.
    NotOnOwnLine {
        path: String,
    },
    /// Two edits of one request address the same place (`a` and `a.b`, or a set inside a removal).
    Conflict {
        first: String,
        second: String,
    },
    /// A rename to a key the mapping already has.
    KeyExists {
        path: String,
        key: String,
    },
    /// The result did not mean the original plus the edits: a bug, and nothing is written.
    Verification {
        detail: String,
    },
}

/// An error with its place in the source (line and column are 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub kind: ErrorKind,
    pub line: usize,
    pub col: usize,
}

impl YamlError {
    pub fn new(kind: ErrorKind, pos: Pos) -> Self {
        YamlError {
            kind,
            line: pos.line.max(1),
            col: pos.col.max(1),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            Syntax(m) => write!(f, "not valid YAML: {m}"),
            MultipleDocuments => write!(
                f,
                "more than one YAML document (`---`): the file must hold exactly one"
            ),
            LoneCarriageReturn => write!(
                f,
                "a carriage return without a line feed (an old Mac line end): convert the file's line ends to LF or CRLF first"
            ),
            NotUtf8 { offset } => write!(f, "not UTF-8 text (invalid byte at offset {offset})"),
            TooLarge { bytes, limit } => {
                write!(f, "file is {bytes} bytes, over the {limit}-byte limit")
            }
            UnsafeTag { tag } => write!(
                f,
                "the tag `{tag}` is one a YAML 1.1 safe reader (PyYAML's safe_load) refuses: the \
                 program would not start; remove it"
            ),
            LineBreak { name } => write!(
                f,
                "{name}, which a YAML 1.1 reader (PyYAML) takes for a line break and others do \
                 not: what follows it would be read differently; replace it with a plain line \
                 break or a space"
            ),
            AliasExpansion { limit } => write!(
                f,
                "its aliases stand for more than {limit} values (each alias repeats what its \
                 anchor holds): refused before it fills memory; write the values out"
            ),
            Alias { path } => write!(
                f,
                "`{path}` goes through a YAML anchor or alias; editing it would change every place \
                 that uses the anchor. Write the value out in full there, then run again"
            ),
            Tag { path, tag } => write!(
                f,
                "`{path}` carries the tag `{tag}`; remove the tag or edit this key by hand"
            ),
            ComplexKey { path } => write!(
                f,
                "the mapping at `{path}` has a complex (non-scalar) key; edit this file by hand"
            ),
            MergeKey { path } => write!(
                f,
                "the mapping at `{path}` uses a merge key (`<<`); write its entries out in full, then run again"
            ),
            DuplicateKey { path, first_line } => write!(
                f,
                "`{path}` is defined more than once (first at line {first_line}); remove one of them"
            ),
            NotAMapping { path, found } => {
                write!(f, "`{path}` is a {found}, where a mapping is needed")
            }
            NotAScalar { path, found } => {
                write!(f, "`{path}` is a {found}, where a single value is needed")
            }
            BlockScalar { path } => write!(
                f,
                "`{path}` is a block scalar (`|` or `>`); replace it with a plain value by hand"
            ),
            NotFound { path } => write!(f, "`{path}` is not in the file"),
            NotOnOwnLine { path } => write!(
                f,
                "`{path}` does not start its own line, so it cannot be removed cleanly; remove it by hand"
            ),
            Conflict { first, second } => write!(
                f,
                "the edits of `{first}` and `{second}` contradict each other; make them one at a time"
            ),
            KeyExists { path, key } => write!(
                f,
                "`{path}` cannot be renamed to `{key}`: the mapping already has `{key}`; merge them by hand"
            ),
            Verification { detail } => write!(
                f,
                "internal check failed, nothing was written (please report this): {detail}"
            ),
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.kind)
    }
}

impl std::error::Error for YamlError {}

/// Something the engine did but wants the operator to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

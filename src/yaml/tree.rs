//! The syntax tree: nodes with exact byte spans, built from granit-parser's events.
//!
//! Comments are not nodes: the editor reads them from the source text when it needs to
//! know where an entry's trailing lines end.

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};

use super::error::{ErrorKind, Pos, YamlError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// A node of the tree.
#[derive(Clone, Debug)]
pub struct Node {
    /// Unique within one parse, in document order.
    pub id: usize,
    /// Anchor id defined on this node (0: none).
    pub anchor: usize,
    pub kind: Kind,
    start: Pos,
    end: usize,
    pub tag: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Scalar {
        value: Box<str>,
        style: Style,
    },
    Mapping {
        flow: bool,
        entries: Box<[(Node, Node)]>,
    },
    Sequence {
        flow: bool,
        items: Box<[Node]>,
    },
    Alias {
        target: usize,
    },
}

impl Node {
    fn new(
        id: usize,
        kind: Kind,
        start: Pos,
        end: usize,
        anchor: usize,
        tag: Option<String>,
    ) -> Node {
        Node {
            id,
            anchor,
            kind,
            start,
            end,
            tag,
        }
    }

    /// Where the node's text starts.
    pub fn start(&self) -> Pos {
        self.start
    }

    /// Byte offset just past the node's own text: a scalar's closing quote, a flow
    /// collection's closing bracket, a block collection's last child.
    pub fn end(&self) -> usize {
        self.end
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// An empty plain scalar: a key with no value written after it.
    pub fn is_absent(&self) -> bool {
        matches!(
            self.kind,
            Kind::Scalar {
                style: Style::Plain,
                ..
            }
        ) && self.end == self.start.offset
    }

    pub fn scalar(&self) -> Option<(&str, Style)> {
        match &self.kind {
            Kind::Scalar { value, style } => Some((value, *style)),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar {
                style: Style::Literal | Style::Folded,
                ..
            } => "block scalar",
            Kind::Scalar { .. } => "scalar",
            Kind::Mapping { .. } => "mapping",
            Kind::Sequence { .. } => "sequence",
            Kind::Alias { .. } => "alias",
        }
    }
}

pub(crate) struct Parsed {
    pub root: Option<Node>,
    /// Anchor ids that some alias refers to.
    pub aliased: Vec<usize>,
}

struct Builder<'a> {
    src: &'a str,
    events: Parser<'a, super::input::FastInput<'a>>,
    next_id: usize,
    aliased: Vec<usize>,
    /// Where the previous node's text ended: a block scalar's `|`/`>` header is the first one
    /// after it (the parser's span covers only the content, which may be empty).
    prev_end: usize,
}

fn pos_of(src: &str, span: &Span) -> Pos {
    let offset = span.start.byte_offset().unwrap_or(0).min(src.len());
    Pos {
        offset,
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        // (granit-parser is built without comment events: every event is one of the tree's.)
        match self.events.next() {
            None => Err(YamlError::new(
                ErrorKind::Syntax("unexpected end of input".into()),
                Pos::default(),
            )),
            Some(Err(e)) => {
                let m = e.marker();
                Err(YamlError::new(
                    ErrorKind::Syntax(e.info()),
                    Pos {
                        offset: m.byte_offset().unwrap_or(0),
                        line: m.line(),
                        col: m.col() + 1,
                    },
                ))
            }
            Some(Ok(ev)) => Ok(ev),
        }
    }

    fn end_of(&self, span: &Span) -> usize {
        span.end.byte_offset().unwrap_or(0).min(self.src.len())
    }

    /// The place of a block scalar's header indicator, before its content at `content`.
    fn block_header(&self, content: Pos) -> Pos {
        let from = self.prev_end.min(content.offset);
        let Some(i) = self.src[from..content.offset].find(['|', '>']) else {
            return content;
        };
        let offset = from + i;
        let between = &self.src[offset..content.offset];
        let line = content.line - between.matches('\n').count();
        let line_start = self.src[..offset].rfind('\n').map_or(0, |n| n + 1);
        let col = self.src[line_start..offset]
            .trim_start_matches('\u{feff}')
            .chars()
            .count()
            + 1;
        Pos { offset, line, col }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Node, YamlError> {
        let node = self.node_inner(ev, span)?;
        self.prev_end = node.end();
        Ok(node)
    }

    fn node_inner(&mut self, ev: Event<'a>, span: Span) -> Result<Node, YamlError> {
        let start = pos_of(self.src, &span);
        let id = self.next_id;
        self.next_id += 1;
        let tag_text = |t: &Option<std::borrow::Cow<'_, granit_parser::Tag>>| {
            t.as_ref().map(|t| format!("{}", t.as_ref()))
        };
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let empty = span.start.byte_offset() == span.end.byte_offset();
                let start = match style {
                    Style::Literal | Style::Folded => self.block_header(start),
                    _ => start,
                };
                let kind = Kind::Scalar {
                    // The parser reports a missing value as "~"; keep it empty so that
                    // both schemas read it as null without a special case.
                    value: if empty && style == Style::Plain {
                        "".into()
                    } else {
                        value.as_ref().into()
                    },
                    style,
                };
                Ok(Node::new(
                    id,
                    kind,
                    start,
                    self.end_of(&span),
                    anchor,
                    tag_text(&tag),
                ))
            }
            Event::Alias(target) => {
                self.aliased.push(target);
                let kind = Kind::Alias { target };
                Ok(Node::new(id, kind, start, self.end_of(&span), 0, None))
            }
            Event::MappingStart(style, anchor, tag) => {
                let flow = style == StructureStyle::Flow;
                let mut entries = Vec::new();
                let end = loop {
                    let (ev, sp) = self.next()?;
                    if let Event::MappingEnd = ev {
                        break if flow {
                            self.end_of(&sp)
                        } else {
                            entries
                                .last()
                                .map_or(start.offset, |(_, v): &(Node, Node)| v.end())
                        };
                    }
                    let key = self.node(ev, sp)?;
                    let (ev, sp) = self.next()?;
                    let value = self.node(ev, sp)?;
                    entries.push((key, value));
                };
                let kind = Kind::Mapping {
                    flow,
                    entries: entries.into_boxed_slice(),
                };
                Ok(Node::new(id, kind, start, end, anchor, tag_text(&tag)))
            }
            Event::SequenceStart(style, anchor, tag) => {
                let flow = style == StructureStyle::Flow;
                let mut items: Vec<Node> = Vec::new();
                let end = loop {
                    let (ev, sp) = self.next()?;
                    if let Event::SequenceEnd = ev {
                        break if flow {
                            self.end_of(&sp)
                        } else {
                            items.last().map_or(start.offset, |v| v.end())
                        };
                    }
                    items.push(self.node(ev, sp)?);
                };
                let kind = Kind::Sequence {
                    flow,
                    items: items.into_boxed_slice(),
                };
                Ok(Node::new(id, kind, start, end, anchor, tag_text(&tag)))
            }
            other => Err(YamlError::new(
                ErrorKind::Syntax(format!("unexpected event {other:?}")),
                start,
            )),
        }
    }
}

/// Parses one YAML document. More than one document is refused, as Synapse refuses it.
pub(crate) fn parse(src: &str) -> Result<Parsed, YamlError> {
    let options = granit_parser::options! { emit_comments: false };
    let mut b = Builder {
        src,
        events: Parser::with_options(super::input::FastInput::new(src), options),
        next_id: 0,
        aliased: Vec::new(),
        prev_end: 0,
    };
    let mut root = None;
    let mut documents = 0;
    loop {
        let (ev, span) = b.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::new(
                        ErrorKind::MultipleDocuments,
                        pos_of(src, &span),
                    ));
                }
            }
            ev => {
                let node = b.node(ev, span)?;
                // A document that is only a missing value is an empty file; one with a tag or
                // an anchor is not (found by the fuzzer: `!t` alone lost its tag, which then
                // fell on the mapping an edit appended).
                let bare = node.is_absent() && node.tag.is_none() && node.anchor == 0;
                root = (!bare).then_some(node);
            }
        }
    }
    Ok(Parsed {
        root,
        aliased: b.aliased,
    })
}

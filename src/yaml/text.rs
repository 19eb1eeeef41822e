//! Line arithmetic on the source text.

/// The offset of the start of the line holding `at`.
pub fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset just past the line break of the line holding `at` (the text's end on the last line).
pub fn line_after(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The file's line break: CRLF when its first line ends so, else LF.
pub fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// From `pos` (a line start), moves past the comment lines indented deeper than `indent`
/// (with blank lines between them): they belong to the entry above. Blank lines and comments
/// that lead into what follows stay after the returned offset.
pub fn skip_deeper_comments(text: &str, pos: usize, indent: usize) -> usize {
    let mut good = pos;
    let mut p = pos;
    while p < text.len() {
        let end = line_after(text, p);
        let line = &text[p..end];
        let body = line.trim_start_matches([' ', '\t']);
        let depth = line.len() - body.len();
        if body.trim_end().is_empty() {
            p = end;
            continue;
        }
        if body.starts_with('#') && depth > indent {
            p = end;
            good = p;
            continue;
        }
        break;
    }
    good
}

/// The indentation of the first non-blank line from `pos`, when it is a comment.
pub fn next_comment_indent(text: &str, pos: usize) -> Option<usize> {
    let mut p = pos;
    while p < text.len() {
        let end = line_after(text, p);
        let line = &text[p..end];
        let body = line.trim_start_matches(' ');
        if body.trim_end().is_empty() {
            p = end;
            continue;
        }
        return body.starts_with('#').then_some(line.len() - body.len());
    }
    None
}

/// True when only spaces stand between the line's start and `at`.
pub fn starts_line(text: &str, at: usize) -> bool {
    text[line_start(text, at)..at]
        .trim_start_matches('\u{feff}')
        .chars()
        .all(|c| c == ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let t = "a\r\nbb\nc";
        assert_eq!(newline_of(t), "\r\n");
        assert_eq!(line_start(t, 4), 3);
        assert_eq!(line_after(t, 0), 3);
        assert_eq!(line_after(t, 7), 7);
    }

    #[test]
    fn deeper_comments_belong_above() {
        let t = "a:\n  # child\n\n  # more\n\n# next\nb: 1\n";
        assert_eq!(skip_deeper_comments(t, 3, 0), 23);
        assert_eq!(&t[23..], "\n# next\nb: 1\n");
    }
}

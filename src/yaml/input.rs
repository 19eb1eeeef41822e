//! The parser's input: granit-parser's own string input, with a faster walk through comments.
//!
//! Real `homeserver.yaml` files are mostly comments (the Synapse 1.60 sample: 87% of its
//! lines), and granit-parser skips a comment's text one `char` at a time, testing each for
//! line breaks and printability: two thirds of a parse of such a file. Here printable ASCII,
//! which nearly all comment text is, is skipped a byte at a time first; anything else (a
//! line break, a non-ASCII character, a control character) is left to granit-parser as
//! before, so what is accepted and refused, and every position reported, stays the same.
//! Every other method is granit-parser's own.

use granit_parser::input::{BorrowedInput, Input, SkipTabs, WhitespaceResult};
use granit_parser::{ErrorKind, StrInput};

pub(crate) struct FastInput<'a> {
    /// granit-parser's input over `text[base..]`.
    inner: StrInput<'a>,
    base: usize,
    text: &'a str,
}

impl<'a> FastInput<'a> {
    pub(crate) fn new(text: &'a str) -> FastInput<'a> {
        FastInput {
            inner: StrInput::new(text),
            base: 0,
            text,
        }
    }

    fn offset(&self) -> usize {
        self.base + self.inner.byte_offset().unwrap_or(0)
    }
}

/// How many bytes at the start of `bytes` are tab or space to tilde: printable, and no line
/// break. Whole 16-byte blocks first, each tested without a branch (which compilers turn into
/// vector instructions), then byte by byte.
fn printable_ascii_prefix(bytes: &[u8]) -> usize {
    let ok = |b: &u8| *b == b'\t' || (b' '..=b'~').contains(b);
    let blocks = bytes
        .chunks_exact(16)
        .take_while(|block| block.iter().fold(true, |all, b| all & ok(b)))
        .count()
        * 16;
    blocks + bytes[blocks..].iter().take_while(|b| ok(b)).count()
}

impl<'a> BorrowedInput<'a> for FastInput<'a> {
    #[inline]
    fn slice_borrowed(&self, start: usize, end: usize) -> Option<&'a str> {
        self.text.get(start..end)
    }
}

impl Input for FastInput<'_> {
    #[inline]
    fn skip_while_non_breakz(&mut self) -> usize {
        let at = self.offset();
        let rest = &self.text.as_bytes()[at..];
        let ascii = printable_ascii_prefix(rest);
        if ascii > 0 {
            // granit-parser's input would step over them a char at a time: start a new one
            // after them instead (it keeps nothing but its place and how far it was asked to
            // look ahead).
            let looked = self.inner.buflen();
            self.base = at + ascii;
            self.inner = StrInput::new(&self.text[self.base..]);
            self.inner.lookahead(looked);
        }
        if rest.get(ascii).is_some_and(|&b| b >= 0x80) {
            ascii + self.inner.skip_while_non_breakz()
        } else {
            ascii
        }
    }

    #[inline]
    fn lookahead(&mut self, count: usize) {
        self.inner.lookahead(count)
    }
    #[inline]
    fn buflen(&self) -> usize {
        self.inner.buflen()
    }
    #[inline]
    fn bufmaxlen(&self) -> usize {
        self.inner.bufmaxlen()
    }
    #[inline]
    fn raw_read_ch(&mut self) -> char {
        self.inner.raw_read_ch()
    }
    #[inline]
    fn raw_read_non_breakz_ch(&mut self) -> Option<char> {
        self.inner.raw_read_non_breakz_ch()
    }
    #[inline]
    fn skip(&mut self) {
        self.inner.skip()
    }
    #[inline]
    fn skip_n(&mut self, count: usize) {
        self.inner.skip_n(count)
    }
    #[inline]
    fn peek(&self) -> char {
        self.inner.peek()
    }
    #[inline]
    fn peek_nth(&self, n: usize) -> char {
        self.inner.peek_nth(n)
    }
    #[inline]
    fn byte_offset(&self) -> Option<usize> {
        Some(self.offset())
    }
    #[inline]
    fn slice_bytes(&self, start: usize, end: usize) -> Option<&str> {
        self.text.get(start..end)
    }
    #[inline]
    fn next_2_are(&self, c1: char, c2: char) -> bool {
        self.inner.next_2_are(c1, c2)
    }
    #[inline]
    fn next_3_are(&self, c1: char, c2: char, c3: char) -> bool {
        self.inner.next_3_are(c1, c2, c3)
    }
    #[inline]
    fn next_is_document_indicator(&self) -> bool {
        self.inner.next_is_document_indicator()
    }
    #[inline]
    fn next_is_document_start(&self) -> bool {
        self.inner.next_is_document_start()
    }
    #[inline]
    fn next_is_document_end(&self) -> bool {
        self.inner.next_is_document_end()
    }
    #[inline]
    fn skip_ws_to_eol(
        &mut self,
        skip_tabs: SkipTabs,
    ) -> (usize, Result<WhitespaceResult, ErrorKind>) {
        self.inner.skip_ws_to_eol(skip_tabs)
    }
    #[inline]
    fn skip_ws_to_eol_blanks(&mut self, skip_tabs: SkipTabs) -> (usize, WhitespaceResult) {
        self.inner.skip_ws_to_eol_blanks(skip_tabs)
    }
    #[inline]
    fn next_is_blank_or_break(&self) -> bool {
        self.inner.next_is_blank_or_break()
    }
    #[inline]
    fn next_is_blank_or_breakz(&self) -> bool {
        self.inner.next_is_blank_or_breakz()
    }
    #[inline]
    fn next_is_blank(&self) -> bool {
        self.inner.next_is_blank()
    }
    #[inline]
    fn next_is_break(&self) -> bool {
        self.inner.next_is_break()
    }
    #[inline]
    fn next_is_breakz(&self) -> bool {
        self.inner.next_is_breakz()
    }
    #[inline]
    fn next_is_z(&self) -> bool {
        self.inner.next_is_z()
    }
    #[inline]
    fn next_is_flow(&self) -> bool {
        self.inner.next_is_flow()
    }
    #[inline]
    fn next_is_digit(&self) -> bool {
        self.inner.next_is_digit()
    }
    #[inline]
    fn next_is_alpha(&self) -> bool {
        self.inner.next_is_alpha()
    }
    #[inline]
    fn skip_while_blank(&mut self) -> usize {
        self.inner.skip_while_blank()
    }
    #[inline]
    fn fetch_while_is_alpha(&mut self, out: &mut String) -> usize {
        self.inner.fetch_while_is_alpha(out)
    }
    #[inline]
    fn fetch_while_is_yaml_non_space(&mut self, out: &mut String) -> usize {
        self.inner.fetch_while_is_yaml_non_space(out)
    }
    #[inline]
    fn fetch_block_scalar_line(&mut self, out: &mut String) -> usize {
        self.inner.fetch_block_scalar_line(out)
    }
    #[inline]
    fn take_quoted_scalar_ascii_chunk(&mut self, single: bool) -> &str {
        self.inner.take_quoted_scalar_ascii_chunk(single)
    }
    #[inline]
    fn take_quoted_scalar_chunk(&mut self, single: bool) -> (&str, usize) {
        self.inner.take_quoted_scalar_chunk(single)
    }
    #[inline]
    fn fetch_plain_scalar_chunk(
        &mut self,
        out: &mut String,
        count: usize,
        flow_level_gt_0: bool,
    ) -> (bool, usize) {
        self.inner
            .fetch_plain_scalar_chunk(out, count, flow_level_gt_0)
    }
    #[inline]
    fn skip_plain_scalar_chunk(&mut self, count: usize, flow_level_gt_0: bool) -> (bool, usize) {
        self.inner.skip_plain_scalar_chunk(count, flow_level_gt_0)
    }
}

/// Whether parsing `text` through this input gives exactly the events, errors and positions
/// that granit-parser's own string input gives (for the fuzzer and the tests).
#[doc(hidden)]
pub fn agrees_with_granit(text: &str) -> Result<(), String> {
    let options = || granit_parser::options! { emit_comments: false };
    let theirs = granit_parser::Parser::new_from_str_with_options(text, options());
    let ours = granit_parser::Parser::with_options(FastInput::new(text), options());
    for (i, (a, b)) in theirs.zip(ours).enumerate().take(100_000) {
        let (a, b) = (format!("{a:?}"), format!("{b:?}"));
        if a != b {
            return Err(format!(
                "event {i}: granit-parser gives {a}, this input {b}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Comments full of what ends or breaks them: the same events, errors and positions.
        #[test]
        fn parses_exactly_as_granit_parsers_own_input(
            parts in proptest::collection::vec(prop_oneof![
                Just("# c"), Just("#"), Just(" # x\t y"), Just("\n"), Just("\r\n"), Just("\r"),
                Just("a: 1"), Just("- b"), Just("  "), Just("\t"), Just("é"), Just("\u{85}"),
                Just("\u{2028}"), Just("\u{feff}"), Just("\u{7f}"), Just("\u{1}"), Just("'q"),
                Just("\"d"), Just("|"), Just(":"), Just("{"), Just("}"), Just("~"), Just("😀"),
            ], 0..24)
        ) {
            let text: String = parts.concat();
            prop_assert_eq!(agrees_with_granit(&text), Ok(()));
        }
    }

    #[test]
    fn parses_real_files_exactly_as_granit_parsers_own_input() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["fixtures", "tests/data/corpus", "fuzz/seeds/engine"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if let Ok(text) = std::fs::read_to_string(&path) {
                        assert_eq!(agrees_with_granit(&text), Ok(()), "{}", path.display());
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen >= 20, "only {seen} files");
    }
}

//! Byte scans over whole files, written so that the compiler turns them into vector code:
//! each block of 32 bytes is tested without an early exit, and only a block that holds a
//! match is looked at byte by byte. (The standard library's `memchr` goes a word at a time.)

const BLOCK: usize = 32;

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: u8) -> Option<usize> {
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut at = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |hit, &b| hit | (b == needle)) {
            return block.iter().position(|&b| b == needle).map(|i| at + i);
        }
        at += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| at + i)
}

/// How many times `needle` occurs in `haystack`.
pub fn count(haystack: &[u8], needle: u8) -> usize {
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut n = 0;
    for block in &mut blocks {
        // At most 32 per block: a byte cannot overflow.
        n += block.iter().map(|&b| u8::from(b == needle)).sum::<u8>() as usize;
    }
    n + blocks.remainder().iter().filter(|&&b| b == needle).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn scans_agree_with_the_obvious_ones(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), any::<u8>()], 0..200),
            needle in prop_oneof![Just(b'\n'), Just(b'\r'), any::<u8>()],
        ) {
            prop_assert_eq!(find(&bytes, needle), bytes.iter().position(|&b| b == needle));
            prop_assert_eq!(count(&bytes, needle), bytes.iter().filter(|&&b| b == needle).count());
        }
    }
}

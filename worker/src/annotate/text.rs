//! Text plumbing: a folded copy of a field that keeps its way back to the source offsets,
//! word boundaries, sentences and paragraphs. Everything the annotator finds is first located
//! in the folded text and mapped back to the source only when it is emitted.

use std::borrow::Cow;
use std::ops::Range;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use super::lexicon::ABBREVIATIONS_SET;

/// A field of an article with accents folded to ASCII, hyphens inside words made spaces and
/// exotic spaces made plain, so that "Abdul-Mahdi" matches "Abdul Mahdi" and "Amélie" matches
/// "Amelie". Quote marks are kept as they are: the quote scanner needs them.
pub(crate) struct FoldedText<'a> {
    pub(crate) source: &'a str,
    pub(crate) text: Cow<'a, str>,
    /// Where folded offsets come from, piece by piece in folded order; `None` when the folded
    /// text is the source unchanged. Most of a text is copied as it is: a piece per stretch
    /// copied with one shift, instead of an entry per byte.
    origin: Option<Vec<OriginPiece>>,
}

/// From `folded` on (up to the next piece), folded offsets come from `source` on: shifted
/// alike, or all from `source` for the bytes of one character folded to several bytes.
#[derive(Clone, Copy, Debug)]
struct OriginPiece {
    folded: u32,
    source: u32,
    one_character: bool,
}

/// Builds the pieces as the folded text grows.
struct OriginBuilder {
    pieces: Vec<OriginPiece>,
}

impl OriginBuilder {
    /// Folded bytes from `folded` on come one for one from source bytes from `source` on.
    fn shifted(&mut self, folded: usize, source: usize) {
        let continues = self.pieces.last().is_some_and(|last| {
            !last.one_character && last.source as usize + (folded - last.folded as usize) == source
        });
        if !continues {
            self.pieces.push(OriginPiece {
                folded: folded as u32,
                source: source as u32,
                one_character: false,
            });
        }
    }

    /// The folded bytes from `folded` on all come from the character at `source`.
    fn one_character(&mut self, folded: usize, source: usize) {
        self.pieces.push(OriginPiece {
            folded: folded as u32,
            source: source as u32,
            one_character: true,
        });
    }
}

impl<'a> FoldedText<'a> {
    /// Kept out of line, as [`words`] is.
    #[inline(never)]
    pub(crate) fn new(source: &'a str) -> FoldedText<'a> {
        let bytes = source.as_bytes();
        let mut needs_folding = false;
        let mut from = 0;
        while let Some(at) = position_from(bytes, from, may_fold, chunk_may_fold) {
            if bytes[at] != b'\n' || bytes.get(at + 1).is_some_and(u8::is_ascii_alphanumeric) {
                needs_folding = true;
                break;
            }
            from = at + 1;
        }
        if !needs_folding || source.len() >= u32::MAX as usize {
            return FoldedText {
                source,
                text: Cow::Borrowed(source),
                origin: None,
            };
        }
        let mut text = String::with_capacity(source.len());
        let mut origin = OriginBuilder { pieces: Vec::new() };
        let mut previous: Option<char> = None;
        let mut offset = 0;
        while offset < bytes.len() {
            // ASCII other than '-', '\n', '\t' and '\r' folds to itself: copy such runs whole.
            let run_end =
                position_from(bytes, offset, may_fold, chunk_may_fold).unwrap_or(bytes.len());
            if run_end > offset {
                origin.shifted(text.len(), offset);
                text.push_str(source.get(offset..run_end).unwrap_or(""));
                previous = bytes.get(run_end - 1).map(|&b| char::from(b));
                offset = run_end;
                continue;
            }
            let Some(c) = source.get(offset..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            let after = offset + c.len_utf8();
            let next = char_at(source, after);
            let folded = fold_char(c, previous, next);
            if folded.len_utf8() == 1 {
                origin.shifted(text.len(), offset);
            } else {
                origin.one_character(text.len(), offset);
            }
            text.push(folded);
            previous = Some(c);
            offset = after;
        }
        FoldedText {
            source,
            text: Cow::Owned(text),
            origin: Some(origin.pieces),
        }
    }

    /// The source offset of a folded offset (a character boundary maps to one); the end of
    /// the source from the end of the folded text on.
    pub(crate) fn source_offset(&self, folded: usize) -> usize {
        let Some(pieces) = &self.origin else {
            return folded.min(self.source.len());
        };
        if folded >= self.text.len() {
            return self.source.len();
        }
        let index = pieces.partition_point(|piece| piece.folded as usize <= folded);
        match index.checked_sub(1).and_then(|i| pieces.get(i)) {
            Some(piece) if piece.one_character => piece.source as usize,
            Some(piece) => piece.source as usize + (folded - piece.folded as usize),
            None => self.source.len(),
        }
    }

    /// The source range of a folded range, or `None` if it does not land on char boundaries.
    pub(crate) fn source_range(&self, range: Range<usize>) -> Option<Range<usize>> {
        let start = self.source_offset(range.start);
        let end = self.source_offset(range.end);
        (start <= end && self.source.is_char_boundary(start) && self.source.is_char_boundary(end))
            .then_some(start..end)
    }
}

/// Whether `fold_char` may change the character starting with this byte.
fn may_fold(b: u8) -> bool {
    matches!(b, b'-' | b'\n' | b'\t' | b'\r') || !b.is_ascii()
}

/// Whether eight bytes (little-endian) may hold one [`may_fold`] accepts: a non-ASCII byte,
/// a '-', or a byte below 14 (tab, line feed, carriage return among them).
fn chunk_may_fold(chunk: u64) -> bool {
    chunk & HIGH_BITS != 0 || has_zero_byte(chunk ^ splat(b'-')) || has_byte_below(chunk, 14)
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Eight copies of a byte.
pub(crate) const fn splat(byte: u8) -> u64 {
    LOW_BITS * byte as u64
}

/// Whether one of the eight bytes is zero (may say so wrongly only when one is).
pub(crate) const fn has_zero_byte(chunk: u64) -> bool {
    chunk.wrapping_sub(LOW_BITS) & !chunk & HIGH_BITS != 0
}

/// Whether one of the eight bytes, all ASCII, is below `limit` (at most 128).
const fn has_byte_below(chunk: u64, limit: u8) -> bool {
    chunk.wrapping_sub(splat(limit)) & !chunk & HIGH_BITS != 0
}

/// The first offset from `from` on whose byte `wanted` accepts. Eight bytes at a time are
/// skipped when `chunk_may_hold` rules them out (it must say true for any eight bytes
/// holding a wanted one): text scans for the rare bytes that matter go a word at a time.
/// Kept out of line, as [`words`] is.
#[inline(never)]
pub(crate) fn position_from(
    bytes: &[u8],
    from: usize,
    wanted: impl Fn(u8) -> bool,
    chunk_may_hold: impl Fn(u64) -> bool,
) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut offset = from;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if chunk_may_hold(u64::from_le_bytes(word))
            && let Some(p) = chunk.iter().position(|&b| wanted(b))
        {
            return Some(offset + p);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| wanted(b))
        .map(|p| offset + p)
}

fn fold_char(c: char, previous: Option<char>, next: Option<char>) -> char {
    match c {
        '-' | '\u{2010}' | '\u{2011}'
            if previous.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric) =>
        {
            ' '
        }
        // A line break inside wrapped text ("former Central\nIntelligence Agency") is a
        // space; one after a sentence end or before anything but a word stays a break.
        '\n' if previous.is_some_and(|p| {
            !p.is_whitespace() && !matches!(p, '.' | '!' | '?' | ':' | '"') && p.is_ascii()
        }) && next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '(') =>
        {
            ' '
        }
        '\u{2010}' | '\u{2011}' | '\u{2012}' => '-',
        '\u{00a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\t' | '\r' => ' ',
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' => 'A',
        'ç' | 'č' | 'ć' => 'c',
        'Ç' | 'Č' | 'Ć' => 'C',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' => 'E',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'İ' => 'I',
        'ñ' | 'ń' => 'n',
        'Ñ' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' => 'O',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' => 'U',
        'ý' | 'ÿ' => 'y',
        'Ý' => 'Y',
        'š' | 'ş' | 'ś' => 's',
        'Š' | 'Ş' | 'Ś' => 'S',
        'ž' | 'ź' | 'ż' => 'z',
        'Ž' | 'Ź' | 'Ż' => 'Z',
        'ğ' => 'g',
        'Ğ' => 'G',
        'ł' => 'l',
        'Ł' => 'L',
        'ř' => 'r',
        'Ř' => 'R',
        _ => c,
    }
}

/// The first two bytes every pattern of an automaton starts with, to skip word starts no
/// pattern can match before paying for a search there.
pub(crate) struct StartFilter {
    /// Indexed by a word's first two bytes as they are: for a case-insensitive automaton every
    /// ASCII case of a pattern's pair is set here, so a lookup folds nothing.
    pairs: Box<[bool; 1 << 16]>,
}

impl StartFilter {
    pub(crate) fn new<'p>(patterns: impl Iterator<Item = &'p str>, fold_case: bool) -> StartFilter {
        let mut pairs = Box::new([false; 1 << 16]);
        let cases = |byte: u8| {
            if fold_case {
                [byte.to_ascii_lowercase(), byte.to_ascii_uppercase()]
            } else {
                [byte, byte]
            }
        };
        for pattern in patterns {
            let bytes = pattern.as_bytes();
            let Some(&first) = bytes.first() else {
                continue;
            };
            for first in cases(first) {
                match bytes.get(1) {
                    Some(&second) => {
                        for second in cases(second) {
                            pairs[Self::index(first, second)] = true;
                        }
                    }
                    // A one-byte pattern can start anywhere its byte is.
                    None => {
                        for second in 0..=255u8 {
                            pairs[Self::index(first, second)] = true;
                        }
                    }
                }
            }
        }
        StartFilter { pairs }
    }

    fn index(first: u8, second: u8) -> usize {
        usize::from(first) << 8 | usize::from(second)
    }

    /// Whether a pattern may start at `offset` of `bytes`.
    #[inline(always)]
    pub(crate) fn may_start(&self, bytes: &[u8], offset: usize) -> bool {
        match bytes.get(offset..offset.wrapping_add(2)) {
            Some(&[first, second]) => self.pairs[Self::index(first, second)],
            _ => false,
        }
    }
}

/// A leftmost-longest automaton searched only anchored at chosen offsets (word starts), stepped
/// directly: through `AhoCorasick::try_find` the set-up of each search cost more than the few
/// bytes a search at a word reads. A contiguous NFA, not a DFA: the knowledge base's names made
/// a 23 MB DFA (two thirds of the annotator's memory, half of the instructions building it
/// took) whose transitions missed the cache; an anchored search never follows the NFA's failure
/// transitions, and it annotates as fast (criterion 1.02x, within noise) with 5% more
/// instructions per article.
pub(crate) struct AnchoredMatcher {
    automaton: NFA,
    /// The anchored start state, the same for every search.
    start: StateID,
}

impl AnchoredMatcher {
    pub(crate) fn new<'p>(
        patterns: impl Iterator<Item = &'p str>,
        ascii_case_insensitive: bool,
    ) -> Option<AnchoredMatcher> {
        let automaton = NFA::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(ascii_case_insensitive)
            .build(patterns)
            .ok()?;
        let start = automaton.start_state(Anchored::Yes).ok()?;
        Some(AnchoredMatcher { automaton, start })
    }

    /// The longest pattern starting exactly at `start`: its index and end, as
    /// `AhoCorasick::try_find` finds it for an anchored input. Inlined into the two word
    /// loops: the call itself cost a fifth of a search.
    #[inline(always)]
    pub(crate) fn longest_at(&self, bytes: &[u8], start: usize) -> Option<(usize, usize)> {
        let automaton = &self.automaton;
        let mut state = self.start;
        let mut found = None;
        // A match state an anchored search reaches may also carry a match that began later
        // (a failure-transition copy): only those starting at `start` count.
        let record = |state, end: usize, found: &mut Option<(usize, usize)>| {
            let pattern = automaton.match_pattern(state, 0);
            let length = automaton.pattern_len(pattern);
            if end.checked_sub(length) == Some(start) {
                *found = Some((pattern.as_usize(), end));
            }
        };
        if automaton.is_match(state) {
            record(state, start, &mut found);
        }
        let Some(rest) = bytes.get(start..) else {
            return found;
        };
        for (offset, &byte) in rest.iter().enumerate() {
            state = automaton.next_state(Anchored::Yes, state, byte);
            if automaton.is_special(state) {
                if automaton.is_dead(state) {
                    break;
                }
                if automaton.is_match(state) {
                    record(state, start + offset + 1, &mut found);
                }
            }
        }
        found
    }
}

/// Folds a knowledge-base name the same way as article text.
pub(crate) fn fold_name(name: &str) -> String {
    FoldedText::new(name.trim()).text.into_owned()
}

pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

pub(crate) fn char_before(text: &str, offset: usize) -> Option<char> {
    text.get(..offset).and_then(|head| head.chars().next_back())
}

pub(crate) fn char_at(text: &str, offset: usize) -> Option<char> {
    text.get(offset..).and_then(|tail| tail.chars().next())
}

/// Whether `range` starts and ends at word boundaries of `text`.
pub(crate) fn at_word_boundaries(text: &str, range: &Range<usize>) -> bool {
    !char_before(text, range.start).is_some_and(is_word_char)
        && !char_at(text, range.end).is_some_and(is_word_char)
}

/// A word of a text: a maximal run of letters and digits, with inner apostrophes ("don't").
#[derive(Clone, Copy, Debug)]
pub(crate) struct Word {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The words of `text`, in order, with the [`word_shape`]s of those not starting with an ASCII
/// capital (for [`super::entities::LowercaseWords`]), read while each word's bytes are at hand.
/// Kept out of line, like the other scans of a whole field here (folding, paragraphs,
/// sentences, byte search): whether the compiler inlined them into `prepare` changed with
/// edits elsewhere in the crate, and inlined they cost a few percent more instructions.
///
/// Two passes: [`word_byte_mask`] marks the bytes of word characters eight at a time, then the
/// words are read off the mask's edges. A byte-at-a-time loop mispredicted a branch at nearly
/// every word's end, news words being a handful of bytes of no set length.
#[inline(never)]
pub(crate) fn words(text: &str) -> (Vec<Word>, WordShapes) {
    let bytes = text.as_bytes();
    let mask = word_byte_mask(text);
    let mut words = Vec::with_capacity(text.len() / 5);
    let mut shapes: WordShapes = [0; WORD_SHAPE_WORDS];
    let mut start = 0;
    // Whether the last byte of the block before is a word byte.
    let mut carry = 0u64;
    for (block_index, &block) in mask.iter().enumerate() {
        // A bit at each byte where a word starts or ends (the byte after its last).
        let mut edges = block ^ (block << 1 | carry);
        carry = block >> 63;
        while edges != 0 {
            let bit = edges.trailing_zeros();
            edges &= edges - 1;
            let offset = block_index * 64 + bit as usize;
            if block >> bit & 1 == 1 {
                start = offset;
            } else {
                push_word(bytes, start, offset, &mut words, &mut shapes);
            }
        }
    }
    // The mask has a bit past the text's end, never set: every word has ended above.
    (words, shapes)
}

/// A bit per byte of `text` (bit `i % 64` of entry `i / 64`), set for the bytes of word
/// characters: letters and digits, and apostrophes inside words ("don't"), as [`Word`] has
/// them. One more bit than the text has bytes, clear, so that the last word ends in the mask.
fn word_byte_mask(text: &str) -> Vec<u64> {
    let bytes = text.as_bytes();
    let mut mask = vec![0u64; bytes.len() / 64 + 1];
    // Eight-byte chunks holding a non-ASCII byte or an apostrophe, read again one character
    // at a time below: few in English news.
    let mut unusual_chunks: Vec<usize> = Vec::new();
    let mut mark_chunk = |chunk_index: usize, lanes: [u8; 8]| {
        let lanes = u64::from_le_bytes(lanes);
        if lanes & HIGH_BITS != 0 || has_zero_byte(lanes ^ splat(b'\'')) {
            unusual_chunks.push(chunk_index);
        }
        if let Some(entry) = mask.get_mut(chunk_index / 8) {
            *entry |= ascii_alphanumeric_bits(lanes) << (chunk_index % 8 * 8);
        }
    };
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    let whole_chunks = chunks.len();
    for (chunk_index, chunk) in chunks.enumerate() {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(chunk);
        mark_chunk(chunk_index, lanes);
    }
    if !tail.is_empty() {
        // Padded with zero bytes, which are neither word characters nor unusual.
        let mut lanes = [0u8; 8];
        if let Some(head) = lanes.get_mut(..tail.len()) {
            head.copy_from_slice(tail);
        }
        mark_chunk(whole_chunks, lanes);
    }
    // In text order, so that whether an apostrophe follows a word character is settled.
    for chunk_index in unusual_chunks {
        let chunk_start = chunk_index * 8;
        let chunk = bytes.get(chunk_start..).unwrap_or(&[]);
        for (offset, &byte) in (chunk_start..).zip(chunk.iter().take(8)) {
            // ASCII letters and digits are marked; continuation bytes belong to a character
            // marked from its first byte.
            if byte != b'\'' && byte < 0xC0 {
                continue;
            }
            let Some(c) = char_at(text, offset) else {
                continue;
            };
            let after = offset + c.len_utf8();
            let inner_apostrophe = || {
                matches!(c, '\'' | '\u{2019}')
                    && offset
                        .checked_sub(1)
                        .is_some_and(|before| mask_has(&mask, before))
                    && char_at(text, after).is_some_and(char::is_alphabetic)
            };
            if is_word_char(c) || inner_apostrophe() {
                for marked in offset..after {
                    if let Some(entry) = mask.get_mut(marked / 64) {
                        *entry |= 1 << (marked % 64);
                    }
                }
            }
        }
    }
    mask
}

fn mask_has(mask: &[u64], offset: usize) -> bool {
    mask.get(offset / 64)
        .is_some_and(|entry| entry >> (offset % 64) & 1 == 1)
}

/// A bit per byte of `lanes` (bit `i` for byte `i`, little-endian) that is an ASCII letter or
/// digit.
fn ascii_alphanumeric_bits(lanes: u64) -> u64 {
    let ascii = lanes & !HIGH_BITS;
    // The high bit of each byte: whether its low seven bits are at least `n` (no byte borrows
    // from the next, each being at least 0x80 before the subtraction).
    let at_least = |value: u64, n: u8| ((value | HIGH_BITS) - splat(n)) & HIGH_BITS;
    let digit = at_least(ascii, b'0') & !at_least(ascii, b'9' + 1);
    let folded = ascii | splat(0x20);
    let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
    let high = (digit | letter) & !lanes & HIGH_BITS;
    // Gathers the eight high bits into the top byte, byte `i`'s into bit `56 + i`.
    (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Records the word `start..end` of `bytes`, and its shape unless it starts with an ASCII
/// capital.
#[inline(always)]
fn push_word(
    bytes: &[u8],
    start: usize,
    end: usize,
    words: &mut Vec<Word>,
    shapes: &mut WordShapes,
) {
    words.push(Word { start, end });
    if let Some(word) = bytes.get(start..end)
        && !word.first().is_some_and(u8::is_ascii_uppercase)
    {
        let shape = word_shape(word);
        if let Some(slot) = shapes.get_mut(shape >> 6) {
            *slot |= 1 << (shape & 63);
        }
    }
}

/// Bits of [`word_shape`]: thirteen, so that few of an article's thousand-odd words share a
/// bit with a name asked about, and a table of them (a kilobyte) is still cleared with a few
/// vector stores.
pub(crate) const WORD_SHAPE_BITS: u32 = 13;

/// 64-bit words of a [`WordShapes`].
const WORD_SHAPE_WORDS: usize = 1 << (WORD_SHAPE_BITS - 6);

/// A bit per [`word_shape`] of some words.
pub(crate) type WordShapes = [u64; WORD_SHAPE_WORDS];

/// A [`WORD_SHAPE_BITS`]-bit digest of a word's length, first two bytes and last byte.
pub(crate) fn word_shape(bytes: &[u8]) -> usize {
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return 0;
    };
    let second = bytes.get(1).copied().unwrap_or(0);
    let mixed = (u32::from(first) << 24 | u32::from(second) << 16 | u32::from(last) << 8)
        ^ (bytes.len() as u32);
    (mixed.wrapping_mul(0x9E37_79B1) >> (32 - WORD_SHAPE_BITS)) as usize
}

/// Paragraphs: split at line breaks, except a single line break inside wrapped text
/// (followed by a lower-case letter or a word character after no punctuation), and at runs
/// of three or more spaces after a sentence end.
#[inline(never)]
pub(crate) fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    // Presized for news paragraphs (a few hundred bytes) so that it rarely grows.
    let mut paragraphs = Vec::with_capacity(text.len() / 250 + 1);
    let mut start = 0;
    let mut index = 0;
    // Only a line break or the start of three spaces can end a paragraph: jump from one to the
    // next. Each is searched for again only once the scan has passed it.
    let mut next_newline = memchr::memchr(b'\n', bytes).unwrap_or(usize::MAX);
    let mut next_spaces = memchr::memmem::find(bytes, b"   ").unwrap_or(usize::MAX);
    loop {
        if next_newline < index {
            next_newline = bytes
                .get(index..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
                .map_or(usize::MAX, |p| index + p);
        }
        if next_spaces < index {
            next_spaces = bytes
                .get(index..)
                .and_then(|rest| memchr::memmem::find(rest, b"   "))
                .map_or(usize::MAX, |p| index + p);
        }
        index = next_newline.min(next_spaces);
        let Some(&byte) = bytes.get(index) else {
            break;
        };
        let is_break = match byte {
            b'\n' => {
                let next = bytes.get(index + 1).copied();
                let previous = last_non_space_before(bytes, index);
                let wrapped = next.is_some_and(|n| n.is_ascii_alphanumeric() || n == b'(')
                    && previous.is_some_and(|p| !matches!(p, b'.' | b'!' | b'?' | b':' | b'"'))
                    && previous.is_none_or(|p| p < 0x80);
                !wrapped
            }
            b' ' => {
                bytes.get(index..index + 3) == Some(b"   ")
                    && index > 0
                    && matches!(
                        last_non_space_before(bytes, index),
                        Some(b'.' | b'!' | b'?' | b'"' | 0x9d | 0x99)
                    )
            }
            _ => false,
        };
        if is_break {
            push_trimmed(text, start, index, &mut paragraphs);
            while index < bytes.len() && bytes[index].is_ascii_whitespace() {
                index += 1;
            }
            start = index;
            continue;
        }
        index += 1;
    }
    push_trimmed(text, start, bytes.len(), &mut paragraphs);
    paragraphs
}

fn last_non_space_before(bytes: &[u8], index: usize) -> Option<u8> {
    bytes
        .get(..index)?
        .iter()
        .rev()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .copied()
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<Range<usize>>) {
    let Some(slice) = text.get(start..end) else {
        return;
    };
    let leading = slice.len() - slice.trim_start().len();
    let trimmed = slice.trim();
    if !trimmed.is_empty() {
        out.push(start + leading..start + leading + trimmed.len());
    }
}

/// Whether a character opens a quotation (used to find sentence starts after punctuation).
fn opens_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '\u{201c}' | '\u{2018}' | '\u{201e}' | '(' | '['
    )
}

fn closes_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '\u{201d}' | '\u{2019}' | ')' | ']')
}

/// Sentences of one paragraph: split after `.`, `!` or `?` (and any closing quotes) followed
/// by white space and an upper-case letter, digit or opening quote; not after abbreviations.
#[inline(never)]
pub(crate) fn sentences(text: &str, paragraph: Range<usize>, out: &mut Vec<Range<usize>>) {
    let Some(slice) = text.get(paragraph.clone()) else {
        return;
    };
    let base = paragraph.start;
    let bytes = slice.as_bytes();
    let mut start = 0;
    let mut from = 0;
    while let Some(found) = bytes
        .get(from..)
        .and_then(|rest| memchr::memchr3(b'.', b'!', b'?', rest))
    {
        let offset = from + found;
        let Some(c) = bytes.get(offset).map(|&b| char::from(b)) else {
            break;
        };
        let mut end = offset + 1;
        while let Some(next) = char_at(slice, end) {
            if closes_quote(next) || matches!(next, '.' | '!' | '?') {
                end += next.len_utf8();
            } else {
                break;
            }
        }
        from = end;
        let rest = slice.get(end..).unwrap_or("");
        let after_space = rest.trim_start();
        if after_space.len() == rest.len() {
            // "U.S." or "3.5": no space after the mark. "the area.UK Foreign" lost its space.
            let lost_space = rest.starts_with(|n: char| n.is_uppercase())
                && (c != '.' || lowercase_word_before(slice, offset));
            if !lost_space {
                continue;
            }
        }
        let starts_sentence = after_space
            .chars()
            .next()
            .is_some_and(|n| n.is_uppercase() || n.is_ascii_digit() || opens_quote(n));
        if !starts_sentence || (c == '.' && is_abbreviation_before(slice, offset)) {
            continue;
        }
        push_trimmed(text, base + start, base + end, out);
        start = end;
    }
    push_trimmed(text, base + start, paragraph.end, out);
}

/// Whether a lower-case word of three letters or more ends at `dot`.
fn lowercase_word_before(slice: &str, dot: usize) -> bool {
    let head = slice.get(..dot).unwrap_or("");
    let word: Vec<char> = head
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect();
    word.len() >= 3 && word.iter().all(|c| c.is_lowercase())
}

fn is_abbreviation_before(slice: &str, dot: usize) -> bool {
    let head = slice.get(..dot).unwrap_or("");
    let word_start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| !c.is_alphanumeric())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = head.get(word_start..).unwrap_or("");
    // Single letters are initials ("J. Smith", "U.S.").
    word.chars().count() == 1 || ABBREVIATIONS_SET.contains(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_offsets() {
        let source = "Amélie de Montchalin met Abdul-Mahdi’s aide";
        let folded = FoldedText::new(source);
        assert_eq!(folded.text, "Amelie de Montchalin met Abdul Mahdi’s aide");
        let at = folded.text.find("Abdul Mahdi").unwrap();
        let range = folded.source_range(at..at + "Abdul Mahdi".len()).unwrap();
        assert_eq!(&source[range], "Abdul-Mahdi");
        assert_eq!(&source[folded.source_range(0..6).unwrap()], "Amélie");
    }

    #[test]
    fn splits_sentences_not_abbreviations() {
        let text =
            "Mr. Smith said the U.S. person was hit. He left! \"Now,\" he said. Then 3.5 more.";
        let mut out = Vec::new();
        sentences(text, 0..text.len(), &mut out);
        let parts: Vec<&str> = out.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            parts,
            [
                "Mr. Smith said the U.S. person was hit.",
                "He left!",
                "\"Now,\" he said.",
                "Then 3.5 more."
            ]
        );
    }

    /// The word scan one character at a time, as it was before the byte mask: the reference
    /// the mask is checked against.
    fn words_one_by_one(text: &str) -> Vec<(usize, usize)> {
        let mut words = Vec::new();
        let mut start: Option<usize> = None;
        for (offset, c) in text.char_indices() {
            let after = offset + c.len_utf8();
            if is_word_char(c) {
                start.get_or_insert(offset);
                continue;
            }
            let inner_apostrophe = matches!(c, '\'' | '\u{2019}')
                && start.is_some()
                && char_at(text, after).is_some_and(char::is_alphabetic);
            if !inner_apostrophe && let Some(begin) = start.take() {
                words.push((begin, offset));
            }
        }
        if let Some(begin) = start {
            words.push((begin, text.len()));
        }
        words
    }

    fn word_ranges(text: &str) -> Vec<(usize, usize)> {
        words(text).0.iter().map(|w| (w.start, w.end)).collect()
    }

    #[test]
    fn words_keep_inner_apostrophes_and_letters_of_any_script() {
        let text = "Don't l’Élysée's 'quoted' rock'n'roll 3.5% ’tis Zürich's x' 中国 a''b";
        let found: Vec<&str> = word_ranges(text)
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(
            found,
            [
                "Don't",
                "l’Élysée's",
                "quoted",
                "rock'n'roll",
                "3",
                "5",
                "tis",
                "Zürich's",
                "x",
                "中国",
                "a",
                "b"
            ]
        );
        // Words ending exactly at the end of a 64-byte block and of the text.
        for length in [63, 64, 65, 128] {
            let text = "a".repeat(length);
            assert_eq!(word_ranges(&text), [(0, length)]);
        }
        assert!(word_ranges("").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn words_match_the_scan_one_character_at_a_time(
            text in "([a-zA-Z0-9 '’.,\n\u{e9}\u{2014}\u{4e2d}\u{1f600}\u{0}\u{7f}\u{80}]{0,12}){0,40}"
        ) {
            proptest::prop_assert_eq!(word_ranges(&text), words_one_by_one(&text));
        }
    }

    #[test]
    fn paragraphs_join_wrapped_lines() {
        let text = "One line\nwrapped here.\n    Next para.\n\nThird.";
        let parts: Vec<&str> = paragraphs(text).iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(parts, ["One line\nwrapped here.", "Next para.", "Third."]);
    }
}

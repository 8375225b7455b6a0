//! Identifiers and name normalisation shared by the worker, the store and the services.

/// Longest article id accepted, in bytes.
pub const MAX_ARTICLE_ID_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArticleIdError {
    #[error("article id is empty")]
    Empty,
    #[error("article id is {len} bytes long; the limit is {MAX_ARTICLE_ID_LEN}")]
    TooLong { len: usize },
    #[error(
        "article id {id:?} holds {character:?}: use letters, digits and . _ : - only (no '/', which separates statement ordinals)"
    )]
    BadCharacter { id: String, character: char },
}

/// Checks an article id: 1..=200 bytes of ASCII letters, digits, `.`, `_`, `:` and `-`.
pub fn validate_article_id(id: &str) -> Result<(), ArticleIdError> {
    if id.is_empty() {
        return Err(ArticleIdError::Empty);
    }
    if id.len() > MAX_ARTICLE_ID_LEN {
        return Err(ArticleIdError::TooLong { len: id.len() });
    }
    if let Some(character) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(ArticleIdError::BadCharacter {
            id: id.to_owned(),
            character,
        });
    }
    Ok(())
}

/// A stable 128-bit FNV-1a digest of an article's cleaned title and body, as 32 hex digits.
/// Stable across versions and platforms, so stored hashes stay comparable.
pub fn content_hash(title: &str, body: &str) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    for byte in title.bytes().chain([0u8]).chain(body.bytes()) {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    format!("{hash:032x}")
}

/// Folds a name for matching: lower case, accents and punctuation dropped, hyphens and runs of
/// spaces made single spaces. "Amélie de Montchalin" and "amelie  de-montchalin" fold alike.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.chars() {
        // ASCII letters and digits, most of any name, fold to their ASCII lower case: no
        // folding table and no Unicode case mapping for them.
        if c.is_ascii_alphanumeric() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c.to_ascii_lowercase());
            continue;
        }
        let folded = fold_char(c);
        match folded {
            Some(' ') => pending_space = !out.is_empty(),
            Some(c) => {
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.extend(c.to_lowercase());
            }
            None => {}
        }
    }
    out
}

/// Maps a character to its unaccented form, `' '` for a separator, or `None` to drop it.
fn fold_char(c: char) -> Option<char> {
    Some(match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => c,
        ' ' | '-' | '‐' | '–' | '—' | '_' | '/' | '\t' | '\n' | '\r' => ' ',
        '\'' | '’' | '‘' | '.' | ',' | '"' | '“' | '”' | '(' | ')' => return None,
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' => 'a',
        'ç' | 'Ç' | 'č' | 'Č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' | 'ı' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' => {
            'o'
        }
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'š' | 'Š' | 'ş' | 'Ş' => 's',
        'ž' | 'Ž' => 'z',
        'ğ' | 'Ğ' => 'g',
        'ß' => 's',
        c if c.is_alphanumeric() => c,
        c if c.is_whitespace() => ' ',
        _ => return None,
    })
}

/// A lower-case, hyphenated id made from a name: "Qasem Soleimani" → "qasem-soleimani".
pub fn slugify(name: &str) -> String {
    // The runs of ASCII letters and digits of the normalised name, joined by single hyphens,
    // in one pass.
    let normalized = normalize_name(name);
    let mut slug = String::with_capacity(normalized.len());
    let mut separated = false;
    for c in normalized.chars() {
        if c.is_ascii_alphanumeric() {
            if separated && !slug.is_empty() {
                slug.push('-');
            }
            separated = false;
            slug.push(c);
        } else {
            separated = true;
        }
    }
    slug
}

/// Values in a [`near_duplicate_signature`].
pub const SIGNATURE_HASHES: usize = 32;
/// Words per shingle: long enough that unrelated texts on one story share few shingles.
const SHINGLE_WORDS: usize = 4;
/// Texts shorter than this many words get no signature: short texts that look alike are often
/// different items (captions, briefs), not copies.
const MIN_SIGNATURE_WORDS: usize = 30;
/// Marks a signature position no shingle fell into.
const EMPTY_BIN: u64 = u64::MAX;

/// A near-duplicate signature of an article body, by one-permutation MinHash: each 4-word
/// shingle (words compared in lower case, punctuation ignored) is hashed once, the hash's top
/// 5 bits pick one of 32 bins and each bin keeps the smallest rest. The share of equal bins of
/// two signatures estimates the Jaccard similarity of the texts' shingle sets
/// ([`signature_similarity`]). One hash per shingle keeps it cheap on a store's write path.
/// Stable across versions and platforms. `None` for texts of fewer than 30 words.
pub fn near_duplicate_signature(text: &str) -> Option<Vec<u64>> {
    let word_hashes = word_hashes(text);
    if word_hashes.len() < MIN_SIGNATURE_WORDS {
        return None;
    }
    let mut signature = vec![EMPTY_BIN; SIGNATURE_HASHES];
    let bin_bits = SIGNATURE_HASHES.trailing_zeros();
    for shingle in word_hashes.windows(SHINGLE_WORDS) {
        let combined = shingle.iter().fold(0u64, |hash, word| mix64(hash ^ word));
        let bin = (combined >> (64 - bin_bits)) as usize;
        let rest = combined & (u64::MAX >> bin_bits);
        if let Some(slot) = signature.get_mut(bin) {
            *slot = (*slot).min(rest);
        }
    }
    Some(signature)
}

/// The FNV-1a hash of each word of `text` (a maximal run of alphanumeric characters) in lower
/// case, in order. One pass, with ASCII (nearly all of a body) classified and lowered without
/// Unicode tables: on the store's write path the per-character Unicode checks were most of the
/// signature's cost. Gives the hashes of splitting at non-alphanumeric characters and lowering
/// each character (`char::to_lowercase`).
fn word_hashes(text: &str) -> Vec<u64> {
    const FNV_OFFSET: u64 = 0xcbf29ce484222325;
    const FNV_PRIME: u64 = 0x100000001b3;
    let step = |hash: u64, c: char| (hash ^ u64::from(u32::from(c))).wrapping_mul(FNV_PRIME);
    let mut hashes = Vec::with_capacity(text.len() / 6);
    let mut hash = FNV_OFFSET;
    let mut in_word = false;
    for c in text.chars() {
        let alphanumeric = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric()
        };
        if !alphanumeric {
            if in_word {
                hashes.push(hash);
                hash = FNV_OFFSET;
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if c.is_ascii() {
            hash = step(hash, c.to_ascii_lowercase());
        } else {
            for lower in c.to_lowercase() {
                hash = step(hash, lower);
            }
        }
    }
    if in_word {
        hashes.push(hash);
    }
    hashes
}

/// The estimated Jaccard similarity, in [0, 1], of the texts two signatures were made from:
/// equal bins among the bins either text filled.
pub fn signature_similarity(a: &[u64], b: &[u64]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut equal, mut filled) = (0u32, 0u32);
    for (x, y) in a.iter().zip(b) {
        if *x == EMPTY_BIN && *y == EMPTY_BIN {
            continue;
        }
        filled += 1;
        equal += u32::from(x == y);
    }
    if filled == 0 {
        return 0.0;
    }
    equal as f32 / filled as f32
}

/// splitmix64's finaliser: spreads every input bit over the output.
fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_ids() {
        assert!(validate_article_id("bbc-business-001").is_ok());
        assert!(validate_article_id("").is_err());
        assert!(validate_article_id("a/b").is_err());
        assert!(validate_article_id(&"x".repeat(201)).is_err());
    }

    #[test]
    fn names_fold_alike() {
        assert_eq!(
            normalize_name("Amélie de Montchalin"),
            "amelie de montchalin"
        );
        assert_eq!(normalize_name("Abdul-Mahdi"), "abdul mahdi");
        assert_eq!(normalize_name("  No. 10 "), "no 10");
        assert_eq!(slugify("Qasem Soleimani"), "qasem-soleimani");
        assert_eq!(slugify("Jean-Yves Le Drian"), "jean-yves-le-drian");
    }

    const STORY: &str = "Iran's foreign minister said on Monday that the country would no longer \
        observe the limits of the 2015 nuclear deal, days after a US drone strike in Baghdad killed \
        the commander of the Quds Force. European leaders urged restraint and called on Tehran to \
        return to full compliance, while officials in Washington warned of further sanctions if \
        the enrichment of uranium resumed at the levels seen before the agreement was signed.";

    #[test]
    fn copies_have_near_equal_signatures_and_other_stories_do_not() {
        let original = near_duplicate_signature(STORY).unwrap();
        assert_eq!(near_duplicate_signature(STORY).unwrap(), original);
        let edited = STORY.replace(
            "European leaders urged restraint",
            "Leaders in Europe pleaded for calm",
        );
        let similarity =
            signature_similarity(&original, &near_duplicate_signature(&edited).unwrap());
        assert!(similarity >= 0.5, "{similarity}");
        let other = "The foreign minister of Iran spoke on Monday about the nuclear deal of 2015 \
            and said the country would stop observing its limits after the strike in Baghdad. \
            Leaders across Europe asked every side for restraint, and the United States threatened \
            new sanctions on the oil sector and on the banks that finance it, officials said.";
        let different = signature_similarity(&original, &near_duplicate_signature(other).unwrap());
        assert!(different < 0.3, "{different}");
        assert_eq!(near_duplicate_signature("Too short to tell."), None);
    }

    #[test]
    fn word_hashes_match_splitting_and_lowering_each_word() {
        // The formulation the one-pass hashing replaced, which signatures stored before it
        // were made with.
        let by_splitting = |text: &str| -> Vec<u64> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .map(|word| {
                    let mut hash: u64 = 0xcbf29ce484222325;
                    for c in word.chars().flat_map(char::to_lowercase) {
                        hash ^= u64::from(u32::from(c));
                        hash = hash.wrapping_mul(0x100000001b3);
                    }
                    hash
                })
                .collect()
        };
        for text in [
            STORY,
            "",
            "  ,, ",
            "word",
            "İstanbul's ÉLYSÉE said: Ωmega-3 ﬁnance 2020/01/03 «Ärger» naïve ΣΟΦΊΑ",
            "trailing\u{a0}nbsp\u{2009}thin space\u{200b}zero-width 東京 ٣ digits",
        ] {
            assert_eq!(word_hashes(text), by_splitting(text), "{text:?}");
        }
    }

    #[test]
    fn content_hash_changes_with_text() {
        assert_eq!(content_hash("a", "b"), content_hash("a", "b"));
        assert_ne!(content_hash("a", "b"), content_hash("ab", ""));
        assert_eq!(content_hash("a", "b").len(), 32);
    }
}

/// A spelling-tolerant skeleton of a folded name: vowels (after the first letter) and repeated
/// letters dropped, letters that sound alike merged, spaces removed. "qasem soleimani",
/// "qassim suleimani" and "kassem soleimany" share the skeleton "ksmslmn".
pub fn phonetic_key(normalized: &str) -> String {
    let mut key = PhoneticKey::with_capacity(normalized.len());
    for c in normalized.chars().filter(|c| !c.is_whitespace()) {
        key.push(c);
    }
    key.key
}

/// `phonetic_key(&normalize_name(name))`: the spelling skeleton of a name as written. An
/// ASCII name goes in one pass over its letters and digits, without the normalised copy (the
/// skeleton ignores the spaces and punctuation normalising would have tidied).
pub fn name_phonetic_key(name: &str) -> String {
    if !name.is_ascii() {
        return phonetic_key(&normalize_name(name));
    }
    // Byte by byte through two tables, the first letter's and the later letters': a name is
    // keyed for each capitalised word run of each article, and a `char` push per letter was
    // a few percent of the annotation.
    let mut key = Vec::with_capacity(name.len());
    let mut previous = 0;
    let mut table = &PHONETIC_FIRST;
    for &byte in name.as_bytes() {
        if !byte.is_ascii_alphanumeric() {
            continue;
        }
        let mapped = table[usize::from(byte.to_ascii_lowercase())];
        table = &PHONETIC_LATER;
        if mapped != 0 {
            if mapped != previous {
                key.push(mapped);
            }
            previous = mapped;
        }
    }
    // Only ASCII letters and digits were pushed.
    String::from_utf8(key).unwrap_or_default()
}

/// [`phonetic_letter`] of each ASCII byte as a name's first letter and as a later one (0 for
/// a letter dropped).
static PHONETIC_FIRST: [u8; 256] = phonetic_table(true);
static PHONETIC_LATER: [u8; 256] = phonetic_table(false);

const fn phonetic_table(first: bool) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 128 {
        table[byte] = match phonetic_letter(byte as u8 as char, first) {
            Some(mapped) => mapped as u8,
            None => 0,
        };
        byte += 1;
    }
    table
}

/// The skeleton letter of a letter of a folded name: `None` for a vowel, 'h' or 'w' after
/// the first letter, letters that sound alike made one.
const fn phonetic_letter(c: char, first: bool) -> Option<char> {
    match c {
        'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'h' | 'w' if !first => None,
        'a' | 'e' | 'i' | 'o' | 'u' | 'y' => Some('a'),
        'q' | 'c' | 'k' | 'g' => Some('k'),
        'z' | 's' => Some('s'),
        'v' | 'f' | 'p' => Some('f'),
        'd' | 't' => Some('t'),
        'j' => Some('j'),
        c => Some(c),
    }
}

/// A [`phonetic_key`] under construction, fed the non-space characters of a folded name.
struct PhoneticKey {
    key: String,
    previous: Option<char>,
    index: usize,
}

impl PhoneticKey {
    fn with_capacity(capacity: usize) -> PhoneticKey {
        PhoneticKey {
            key: String::with_capacity(capacity),
            previous: None,
            index: 0,
        }
    }

    fn push(&mut self, c: char) {
        let mapped = phonetic_letter(c, self.index == 0);
        self.index += 1;
        if let Some(mapped) = mapped {
            if self.previous != Some(mapped) {
                self.key.push(mapped);
            }
            self.previous = Some(mapped);
        }
    }
}

/// Similarity of two folded names in [0, 1] (normalised Levenshtein on characters).
pub fn name_similarity(a: &str, b: &str) -> f32 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    1.0 - row[b.len()] as f32 / longest as f32
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn spelling_variants_share_a_skeleton() {
        let key = |s: &str| phonetic_key(&normalize_name(s));
        assert_eq!(key("Qasem Soleimani"), key("Qassim Suleimani"));
        assert_eq!(key("Soleimani"), key("Soleimany"));
        assert_ne!(key("Soleimani"), key("Johnson"));
        for name in [
            "Qasem Soleimani",
            "Jean-Yves Le Drian",
            "O'Neill",
            "Amélie",
            "  a.b  ",
        ] {
            assert_eq!(name_phonetic_key(name), key(name), "{name}");
        }
        // Every name of up to four characters over letters the rules treat apart, and digits,
        // spaces and punctuation.
        let alphabet: Vec<char> = "aehwyqcksdtjfbA1 -'.".chars().collect();
        let mut names = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = names
                .iter()
                .flat_map(|name| alphabet.iter().map(move |c| format!("{name}{c}")))
                .collect();
            for name in &longer {
                assert_eq!(name_phonetic_key(name), key(name), "{name:?}");
            }
            names = longer;
        }
        assert!(name_similarity("soleimany", "soleimani") > 0.85);
        assert!(name_similarity("abc", "xyz") < 0.1);
    }
}

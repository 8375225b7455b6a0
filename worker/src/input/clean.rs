//! Text cleaning shared by both input formats: character normalisation, paragraph assembly
//! (including re-flowing hard-wrapped newswire text) and removal of site furniture.
//!
//! The cleaned body is what later stages compute byte offsets into, so cleaning only removes
//! furniture and normalises whitespace; words, quotes and punctuation are kept exactly.

use std::borrow::Cow;

/// How a furniture pattern is compared with a line (ASCII case-insensitively, after trimming).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    /// The whole line, ignoring trailing punctuation such as ":" or "?".
    Line,
    /// The start of a short line (see [`MAX_PREFIX_FURNITURE_CHARS`]).
    Prefix,
}

/// One kind of site furniture.
struct Furniture {
    /// Lower-case ASCII.
    pattern: &'static str,
    matches: Match,
    /// Marks the start of a comment section or "more stories" block: what follows it is dropped
    /// too when it is all short.
    opens_tail: bool,
}

const fn line(pattern: &'static str) -> Furniture {
    Furniture {
        pattern,
        matches: Match::Line,
        opens_tail: false,
    }
}

const fn prefix(pattern: &'static str) -> Furniture {
    Furniture {
        pattern,
        matches: Match::Prefix,
        opens_tail: false,
    }
}

const fn tail_line(pattern: &'static str) -> Furniture {
    Furniture {
        pattern,
        matches: Match::Line,
        opens_tail: true,
    }
}

const fn tail_prefix(pattern: &'static str) -> Furniture {
    Furniture {
        pattern,
        matches: Match::Prefix,
        opens_tail: true,
    }
}

/// A prefix pattern only drops a line at most this long, so that a real paragraph which happens
/// to start like furniture ("Thank you for ...", a long quote) is kept.
const MAX_PREFIX_FURNITURE_CHARS: usize = 160;

/// No whole-line furniture pattern is longer than this.
const MAX_LINE_FURNITURE_BYTES: usize = 40;

/// Lines that news sites wrap around an article: comment widgets, sharing and sign-up prompts,
/// cookie notices, advert labels, wire sign-offs and bare agency credits.
const FURNITURE: &[Furniture] = &[
    // Comment widgets.
    tail_prefix("join our commenting forum"),
    tail_prefix("join the conversation"),
    tail_prefix("join the discussion"),
    tail_line("comments"),
    tail_line("show comments"),
    tail_line("view comments"),
    tail_line("hide comments"),
    tail_line("leave a comment"),
    tail_line("post a comment"),
    tail_line("add a comment"),
    tail_line("do you like this article"),
    tail_line("was this article helpful"),
    tail_line("did you find this article useful"),
    tail_prefix("comment policy"),
    prefix("join thought-provoking conversations"),
    prefix("please refresh the page"),
    prefix("please refresh your browser"),
    prefix("you must be logged in"),
    prefix("log in to comment"),
    prefix("sign in to comment"),
    // "More stories" blocks.
    tail_line("related articles"),
    tail_line("related stories"),
    tail_line("related content"),
    tail_line("related topics"),
    tail_line("more on this story"),
    tail_line("more from this section"),
    tail_line("you may also like"),
    tail_line("you might also like"),
    tail_line("recommended for you"),
    tail_line("most read"),
    tail_line("most popular"),
    tail_line("top stories"),
    tail_line("trending now"),
    // Sharing, following, signing up.
    line("share"),
    line("share this"),
    prefix("share this article"),
    prefix("share this story"),
    prefix("share this page"),
    prefix("share on facebook"),
    prefix("share on twitter"),
    prefix("share via"),
    line("tweet"),
    line("email"),
    line("print"),
    line("whatsapp"),
    prefix("follow us on"),
    prefix("follow us:"),
    prefix("like us on facebook"),
    prefix("sign up to"),
    prefix("sign up for"),
    prefix("subscribe to our"),
    prefix("subscribe now"),
    line("subscribe"),
    prefix("get our newsletter"),
    prefix("get the latest"),
    prefix("our newsletter"),
    prefix("newsletter"),
    prefix("enter your email"),
    prefix("you can unsubscribe"),
    prefix("thank you for registering"),
    prefix("thank you for subscribing"),
    prefix("thank you for signing up"),
    prefix("thanks for signing up"),
    prefix("thank you for reading"),
    prefix("thank you for your feedback"),
    prefix("download our app"),
    prefix("download the app"),
    prefix("support our journalism"),
    // Reading prompts and links.
    prefix("read more:"),
    prefix("read more at"),
    prefix("read more about"),
    line("read more"),
    prefix("read also:"),
    prefix("also read:"),
    prefix("see also:"),
    prefix("related:"),
    prefix("more:"),
    line("continue reading"),
    prefix("continue reading below"),
    prefix("story continues below"),
    prefix("article continues below"),
    prefix("click here"),
    prefix("tap here"),
    line("back to top"),
    line("next article"),
    line("previous article"),
    line("skip to main content"),
    line("watch"),
    line("watch video"),
    line("play video"),
    line("video"),
    line("listen"),
    line("loading"),
    line("breaking news"),
    // Adverts.
    line("advertisement"),
    line("advertising"),
    line("advert"),
    line("sponsored"),
    line("sponsored content"),
    line("promoted content"),
    prefix("advertisement -"),
    // Cookie and consent prompts.
    prefix("we use cookies"),
    prefix("this website uses cookies"),
    prefix("this site uses cookies"),
    prefix("by continuing to use"),
    prefix("by using this site"),
    prefix("accept cookies"),
    prefix("accept all cookies"),
    prefix("cookie policy"),
    prefix("cookie settings"),
    prefix("manage cookies"),
    // Copyright lines.
    prefix("copyright \u{a9}"),
    prefix("\u{a9} "),
    prefix("all rights reserved"),
    // Wire sign-offs and bare picture-agency credits.
    line("reuter"),
    line("reuter^m"),
    line("reuters"),
    line("afp"),
    line("ap"),
    line("pa"),
    line("epa"),
    line("getty images"),
    line("afp/getty images"),
    line("afp via getty images"),
    line("pa wire"),
    line("pa media"),
    line("shutterstock"),
    line("alamy"),
];

/// Labels that introduce a picture credit or caption: "Picture: PA", "Photo: Arbaeen pilgrims".
const CREDIT_LABELS: &[&str] = &[
    "Picture",
    "Pictures",
    "Photo",
    "Photos",
    "Photograph",
    "Photographs",
    "Image",
    "Images",
    "Credit",
    "Photo credit",
    "Image credit",
    "Image source",
    "Photo by",
    "File photo",
];

/// A trailing credit or caption is stripped only when it is at most this long.
const MAX_CREDIT_CHARS: usize = 400;

/// Picture agencies recognised in a bracketed credit such as "[Kenzo Tribouillard/AFP]".
const AGENCIES: &[&str] = &[
    "AFP",
    "AP",
    "PA",
    "EPA",
    "Reuters",
    "Getty",
    "Getty Images",
    "Xinhua",
    "Anadolu",
    "IRNA",
    "Tasnim",
    "Shutterstock",
    "Alamy",
];

/// A comment section or "more stories" block is cut from its marker on only when every
/// paragraph from the marker on is this short, and there are few of them; otherwise only the
/// marker lines themselves are dropped.
const MAX_TAIL_PARAGRAPH_CHARS: usize = 300;
const MAX_TAIL_PARAGRAPHS: usize = 10;

/// Cleans an article body: normalises characters and line ends, re-flows hard-wrapped text,
/// drops site furniture and picture credits, and separates paragraphs with "\n\n".
pub fn clean_body(raw: &str) -> String {
    clean_normalised_body(&normalise(raw))
}

/// Cleans a headline: normalised characters, one line, single spaces.
pub fn clean_title(raw: &str) -> String {
    let normalised = normalise(raw);
    let mut title = String::with_capacity(normalised.len());
    for line in normalised.split('\n') {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        push_collapsed(&mut title, line);
    }
    title
}

/// [`clean_body`] for text that already went through [`normalise`] (normalising twice would
/// decode "&amp;lt;" twice).
pub(crate) fn clean_normalised_body(text: &str) -> String {
    let mut paragraphs = assemble_paragraphs(text);
    let mut furniture: Vec<bool> = Vec::with_capacity(paragraphs.len());
    let mut tail_start = None;
    for paragraph in &paragraphs {
        let found = furniture_match(paragraph);
        if tail_start.is_none() && found.is_some_and(|furniture| furniture.opens_tail) {
            tail_start = Some(furniture.len());
        }
        furniture.push(found.is_some() || is_comment_count(paragraph));
    }
    if let Some(start) = tail_start {
        cut_tail(&mut paragraphs, start);
    }
    let mut kept: Vec<String> = Vec::with_capacity(paragraphs.len());
    for (paragraph, is_furniture_paragraph) in paragraphs.into_iter().zip(furniture) {
        if is_furniture_paragraph {
            continue;
        }
        let cleaned = strip_credits(&paragraph);
        let unchanged = matches!(&cleaned, Cow::Borrowed(text) if text.len() == paragraph.len());
        if cleaned.is_empty() || (!unchanged && is_furniture(&cleaned)) {
            continue;
        }
        // A paragraph repeated at once is a rendering artefact (a caption shown twice).
        if kept.last().is_some_and(|previous| *previous == *cleaned) {
            continue;
        }
        let changed = (!unchanged).then(|| cleaned.into_owned());
        kept.push(changed.unwrap_or(paragraph));
    }
    strip_sign_offs(&mut kept);
    kept.join("\n\n")
}

/// Normalises characters: drops a byte-order mark, zero-width spaces, word joiners, soft
/// hyphens and control characters (zero-width joiners and non-joiners stay: Persian and emoji
/// need them); turns tabs, no-break and other fixed-width spaces into plain spaces and
/// every line end into "\n"; decodes HTML character references ("&amp;", "&#233;"). Afterwards
/// the only whitespace characters are ' ' and '\n'.
pub(crate) fn normalise(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // `text[copied..index]` is copied unchanged once something before `index` must change.
    let mut copied = 0;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if index % NORMALISE_CHUNK == 0
            && let Some(chunk) = bytes.get(index..index + NORMALISE_CHUNK)
            && !chunk
                .iter()
                .fold(false, |any, &byte| any | may_change(byte))
        {
            // Most text has nothing to change for long stretches; skip them a chunk at a time.
            index += NORMALISE_CHUNK;
            continue;
        }
        if !may_change(byte) {
            index += 1;
            continue;
        }
        let rest = text.get(index..).unwrap_or_default();
        let Some(c) = rest.chars().next() else {
            index += 1;
            continue;
        };
        let mut consumed = c.len_utf8();
        let replacement: Replacement = match c {
            '\r' if rest.as_bytes().get(1) == Some(&b'\n') => Replacement::Nothing,
            '\r' | '\u{2028}' | '\u{85}' => Replacement::Char('\n'),
            '\u{2029}' => Replacement::Text("\n\n"),
            '\t' => Replacement::Char(' '),
            '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}' => Replacement::Char(' '),
            '\u{ad}' | '\u{200b}' | '\u{2060}' | '\u{feff}' => Replacement::Nothing,
            '&' => match decode_entity(rest) {
                Some((decoded, length)) => {
                    consumed = length;
                    match decoded {
                        '\u{a0}' => Replacement::Char(' '),
                        '\n' => Replacement::Char(decoded),
                        '\t' => Replacement::Char(' '),
                        c if c.is_control() => Replacement::Nothing,
                        c => Replacement::Char(c),
                    }
                }
                None => Replacement::Keep,
            },
            c if c.is_control() => Replacement::Nothing,
            _ => Replacement::Keep,
        };
        if replacement != Replacement::Keep {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(text.get(copied..index).unwrap_or_default());
            match replacement {
                Replacement::Char(c) => out.push(c),
                Replacement::Text(replacement) => out.push_str(replacement),
                Replacement::Nothing | Replacement::Keep => {}
            }
            copied = index + consumed;
        }
        index += consumed;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(text.get(copied..).unwrap_or_default());
            Cow::Owned(out)
        }
    }
}

/// [`normalise`] checks this many bytes at once (a branch-free loop the compiler vectorises).
const NORMALISE_CHUNK: usize = 32;

/// Whether a byte can start a character that [`normalise`] changes: each such byte is ASCII or
/// a UTF-8 lead byte, so a character starts there.
fn may_change(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\n')
        | (byte == b'\r')
        | (byte == b'&')
        | (byte == 0x7F)
        | (byte == 0xC2)
        | (0xE1..=0xE3).contains(&byte)
        | (byte == 0xEF)
}

/// What [`normalise`] does with a character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replacement {
    Keep,
    Nothing,
    Char(char),
    Text(&'static str),
}

/// Decodes the HTML character reference at the start of `text`; returns the character and the
/// reference's length in bytes (all ASCII).
fn decode_entity(text: &str) -> Option<(char, usize)> {
    let end = text.bytes().take(12).position(|byte| byte == b';')?;
    let name = text.get(1..end)?;
    let decoded = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            if !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            char::from_u32(code)?
        }
    };
    Some((decoded, end + 1))
}

/// Appends `text` with every run of whitespace made one space and no space at either end.
/// After [`normalise`] the only whitespace is ' ' (and '\n', which callers split on), so the text
/// is scanned as bytes and copied a run at a time.
fn push_collapsed(out: &mut String, text: &str) {
    // The common case, a trimmed line with single spaces, takes two vectorised searches.
    let collapsed = !text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  ");
    if collapsed {
        out.push_str(text);
        return;
    }
    let bytes = text.as_bytes();
    let mut segment_start = 0;
    let mut pending_space = false;
    for (index, &byte) in bytes.iter().enumerate() {
        if !byte.is_ascii_whitespace() {
            continue;
        }
        let lone_space = byte == b' '
            && index > segment_start
            && bytes
                .get(index + 1)
                .is_some_and(|next| !next.is_ascii_whitespace());
        if lone_space {
            continue;
        }
        if index > segment_start {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            out.push_str(text.get(segment_start..index).unwrap_or_default());
        }
        pending_space = true;
        segment_start = index + 1;
    }
    if let Some(segment) = text
        .get(segment_start..)
        .filter(|segment| !segment.is_empty())
    {
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(segment);
    }
}

/// Lines of a hard-wrapped newswire story are 35 to 100 characters wide.
const MIN_WRAP_CHARS: usize = 35;
const MAX_WRAP_CHARS: usize = 100;

/// Splits normalised text into paragraphs, each with single spaces. A blank line always
/// separates paragraphs. Other single line breaks separate paragraphs too, unless the text is
/// hard-wrapped (1987 Reuters style: lines under 100 characters, paragraphs marked by
/// indentation), in which case the lines of a paragraph are joined with spaces; table rows stay
/// apart even then.
fn assemble_paragraphs(text: &str) -> Vec<String> {
    let hard_wrapped = is_hard_wrapped(text);
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let mut current_is_tabular = false;
    for line in text.split('\n') {
        let line = line.trim_end();
        let trimmed = line.trim_start();
        let line_is_tabular = hard_wrapped && is_tabular(trimmed);
        let starts_paragraph = trimmed.is_empty()
            || !hard_wrapped
            || trimmed.len() != line.len()
            || line_is_tabular
            || current_is_tabular;
        current_is_tabular = line_is_tabular;
        if starts_paragraph && !current.is_empty() {
            paragraphs.push(std::mem::take(&mut current));
        }
        if trimmed.is_empty() {
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        push_collapsed(&mut current, trimmed);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

/// Whether single line breaks in `text` are wrapping rather than paragraph breaks: most lines
/// followed by another (unindented) line are of wrapping width, and hardly any is longer.
fn is_hard_wrapped(text: &str) -> bool {
    let mut wrap_like = 0usize;
    let mut too_long = 0usize;
    let mut previous: Option<usize> = None;
    for line in text.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            previous = None;
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if let Some(width) = previous
            && !indented
        {
            if width > MAX_WRAP_CHARS {
                too_long += 1;
            } else if width >= MIN_WRAP_CHARS {
                wrap_like += 1;
            }
        }
        // Byte length bounds the character count; count only when it could change the verdict
        // (a wrapped line of non-ASCII text is a little narrower than its bytes).
        let width = match line.len() {
            length if length <= MAX_WRAP_CHARS || length > 4 * MAX_WRAP_CHARS => length,
            _ => line.chars().count(),
        };
        previous = Some(width);
    }
    wrap_like > 0 && wrap_like >= 2 * too_long
}

/// A table row: columns aligned with runs of spaces, or dot leaders ("Total vault cash.....25").
fn is_tabular(line: &str) -> bool {
    let mut run_byte = 0u8;
    let mut run_length = 0;
    for &byte in line.as_bytes() {
        if byte == run_byte {
            run_length += 1;
            if (byte == b' ' && run_length >= 3) || (byte == b'.' && run_length >= 4) {
                return true;
            }
        } else {
            run_byte = byte;
            run_length = 1;
        }
    }
    false
}

/// Cuts a comment section or "more stories" block that starts at paragraph `start` (its
/// marker), when everything from there is a few short paragraphs.
fn cut_tail(paragraphs: &mut Vec<String>, start: usize) {
    let tail = paragraphs.get(start..).unwrap_or_default();
    if tail.len() <= MAX_TAIL_PARAGRAPHS
        && tail
            .iter()
            .all(|p| p.chars().count() <= MAX_TAIL_PARAGRAPH_CHARS)
    {
        paragraphs.truncate(start);
    }
}

/// Whether a whole line or paragraph is site furniture.
pub(crate) fn is_furniture(paragraph: &str) -> bool {
    furniture_match(paragraph).is_some() || is_comment_count(paragraph)
}

fn furniture_match(paragraph: &str) -> Option<&'static Furniture> {
    let text = paragraph.trim();
    if text.is_empty() || text.len() > MAX_PREFIX_FURNITURE_CHARS * 4 {
        return None;
    }
    let bare = text.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '.' | ':' | '?' | '!' | '\u{2026}' | '\u{bb}' | '>' | '|')
    });
    // Most paragraphs are too long to be either kind of furniture.
    if bare.len() > MAX_LINE_FURNITURE_BYTES && text.chars().count() > MAX_PREFIX_FURNITURE_CHARS {
        return None;
    }
    let first_byte = text.as_bytes().first()?.to_ascii_lowercase();
    FURNITURE
        .iter()
        .filter(|furniture| furniture.pattern.as_bytes().first() == Some(&first_byte))
        .find(|furniture| match furniture.matches {
            Match::Line => bare.eq_ignore_ascii_case(furniture.pattern),
            Match::Prefix => {
                starts_with_ignore_case(text, furniture.pattern)
                    && text.chars().count() <= MAX_PREFIX_FURNITURE_CHARS
            }
        })
}

/// "0 Comment(s)", "12 comments", "Comments (3)".
fn is_comment_count(paragraph: &str) -> bool {
    let text = paragraph.trim();
    let without_count = text
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    if without_count.len() < text.len() {
        return ["comment", "comments", "comment(s)"]
            .iter()
            .any(|word| without_count.eq_ignore_ascii_case(word));
    }
    starts_with_ignore_case(text, "comments (")
        && text.ends_with(')')
        && text.len() <= "comments (123456)".len()
}

pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Removes picture credits from a paragraph: "(Photo: AFP)" anywhere, a bracketed agency
/// credit at the end ("[Kenzo Tribouillard/AFP]"), and a trailing "Picture: PA" or
/// "Photo: <caption>" after the last sentence. A paragraph that is all credit becomes empty.
fn strip_credits(paragraph: &str) -> Cow<'_, str> {
    match remove_parenthesised_credits(paragraph.trim()) {
        Cow::Borrowed(text) => Cow::Borrowed(strip_end_credits(text)),
        Cow::Owned(text) => Cow::Owned(strip_end_credits(&text).to_owned()),
    }
}

fn strip_end_credits(mut text: &str) -> &str {
    loop {
        let stripped = strip_trailing_credit(strip_bracketed_credit(text));
        if stripped.len() == text.len() {
            return text;
        }
        text = stripped;
    }
}

/// A parenthesised credit is at most this long: "(Photo: Adnan Abidi / Reuters)".
const MAX_PARENTHESISED_CREDIT_CHARS: usize = 120;

/// Removes every "(Photo: ...)" / "(Picture: ...)" credit, with the space before it.
fn remove_parenthesised_credits(text: &str) -> Cow<'_, str> {
    if !text.contains('(') {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut copied_up_to = 0;
    for (open, _) in text.match_indices('(') {
        if open < copied_up_to {
            continue;
        }
        let Some(inside) = text.get(open + 1..) else {
            continue;
        };
        let Some(close) = inside
            .char_indices()
            .take(MAX_PARENTHESISED_CREDIT_CHARS)
            .find(|&(_, c)| c == ')')
            .map(|(index, _)| open + 1 + index)
        else {
            continue;
        };
        let content = text.get(open + 1..close).unwrap_or_default();
        if !CREDIT_LABELS
            .iter()
            .any(|label| credit_after_label(content, label).is_some())
        {
            continue;
        }
        // Drop the space before the credit; the text after it keeps its own.
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        let before = text.get(copied_up_to..open).unwrap_or_default();
        out.push_str(before.trim_end_matches(' '));
        copied_up_to = close + 1;
        if out.is_empty() {
            // A credit opening the paragraph: drop the space after it instead.
            let after = text.get(copied_up_to..).unwrap_or_default();
            copied_up_to += after.len() - after.trim_start_matches(' ').len();
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(text.get(copied_up_to..).unwrap_or_default());
            let trimmed_len = out.trim_end().len();
            out.truncate(trimmed_len);
            Cow::Owned(out)
        }
    }
}

/// Strips "[Name/AFP]" or "[AFP]" from the end of a caption.
fn strip_bracketed_credit(text: &str) -> &str {
    let Some(inner) = text.strip_suffix(']') else {
        return text;
    };
    let Some(open) = inner.rfind('[') else {
        return text;
    };
    let content = inner.get(open + 1..).unwrap_or_default();
    let agency = content.rsplit('/').next().unwrap_or_default().trim();
    let names_agency = AGENCIES
        .iter()
        .any(|known| agency.eq_ignore_ascii_case(known));
    let looks_like_credit = content.chars().count() <= 60
        && (names_agency
            || CREDIT_LABELS
                .iter()
                .any(|label| credit_after_label(content, label).is_some()));
    if looks_like_credit {
        inner.get(..open).unwrap_or_default().trim_end()
    } else {
        text
    }
}

/// Strips a trailing "Picture: PA" / "Photo: <caption>" that follows a finished sentence (or an
/// editor's initials, as in "... projects. EF/MA Photo: ..."), or makes a paragraph that is all
/// credit empty.
fn strip_trailing_credit(text: &str) -> &str {
    let all_credit = CREDIT_LABELS
        .iter()
        .any(|label| credit_after_label(text, label).is_some())
        && text.chars().count() <= MAX_CREDIT_CHARS;
    if all_credit {
        return "";
    }
    // A credit is one of the last MAX_CREDIT_CHARS characters (at most 4 bytes each), and its
    // label ends in a colon ("Photo by" needs none only when it opens the paragraph): look only
    // there, from the end.
    let mut tail_start = text.len().saturating_sub(4 * (MAX_CREDIT_CHARS + 20));
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    let tail = text.get(tail_start..).unwrap_or_default();
    for (colon, _) in tail.rmatch_indices(':') {
        let label_end = tail_start + colon;
        let head = text.get(..label_end).unwrap_or_default();
        for label in CREDIT_LABELS {
            let Some(position) = head.len().checked_sub(label.len()) else {
                continue;
            };
            let rest = text.get(position..).unwrap_or_default();
            if credit_after_label(rest, label).is_none()
                || rest.chars().count() > MAX_CREDIT_CHARS + label.len()
            {
                continue;
            }
            let before = text.get(..position).unwrap_or_default();
            if before.ends_with(' ') && ends_sentence_or_initials(before.trim_end()) {
                return strip_trailing_initials(before.trim_end());
            }
        }
    }
    text
}

/// The credit text after `label` and its colon ("Photo by" needs no colon); `None` when `text`
/// does not start with the label used as a credit.
fn credit_after_label<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(label).or_else(|| {
        // Also "PICTURE:" and "photo:".
        starts_with_ignore_case(text, label)
            .then(|| text.get(label.len()..))
            .flatten()
    })?;
    let credit = match rest.strip_prefix(':') {
        Some(credit) => credit,
        None if label.ends_with(" by") => rest.strip_prefix(' ')?,
        None => return None,
    };
    let credit = credit.trim();
    (!credit.is_empty()).then_some(credit)
}

fn ends_sentence_or_initials(text: &str) -> bool {
    text.ends_with(['.', '!', '?', '"', '\'', '\u{201d}', '\u{2019}', ')', ']'])
        || trailing_initials_start(text).is_some()
}

/// Strips the editors' initials that close a story ("MH/PA", "RM/MMS/YAW"), whether they end
/// the last paragraph or stand alone after it.
fn strip_sign_offs(paragraphs: &mut Vec<String>) {
    while let Some(last) = paragraphs.last_mut() {
        if is_initials(last, 2) {
            paragraphs.pop();
            continue;
        }
        let kept_len = strip_trailing_initials(last).len();
        last.truncate(kept_len);
        return;
    }
}

fn strip_trailing_initials(text: &str) -> &str {
    match trailing_initials_start(text) {
        Some(start) => text.get(..start).unwrap_or_default().trim_end(),
        None => text,
    }
}

/// Where a closing run of editors' initials starts, after a finished sentence: "... with it.
/// MH/PA", "... economy. MG". A lone group must be 2-4 capitals, so "... said the UN" (no full
/// stop) and "... the US/UK" inside a sentence are kept.
fn trailing_initials_start(text: &str) -> Option<usize> {
    let start = text.rfind(' ')? + 1;
    let token = text.get(start..)?;
    let before = text.get(..start)?.trim_end();
    let after_sentence = before.ends_with(['.', '!', '?', '"', '\u{201d}', '\u{2019}', ')']);
    (after_sentence
        && (is_initials(token, 2) || is_initials(token, 1) && (2..=4).contains(&token.len())))
    .then_some(start)
}

/// Whether `token` is `min_groups` or more (at most 4) slash-separated groups of 1-5 capitals.
fn is_initials(token: &str, min_groups: usize) -> bool {
    let mut groups = 0;
    for group in token.split('/') {
        if !(1..=5).contains(&group.len()) || !group.bytes().all(|b| b.is_ascii_uppercase()) {
            return false;
        }
        groups += 1;
    }
    (min_groups..=4).contains(&groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_line_ends_spaces_and_entities() {
        assert_eq!(normalise("a\r\nb\rc"), "a\nb\nc");
        assert_eq!(normalise("Boris\u{a0}Johnson"), "Boris Johnson");
        assert_eq!(
            normalise("\u{feff}caf&#233; &amp; bar&#x21;"),
            "café & bar!"
        );
        assert_eq!(normalise("a &unknown; b & c"), "a &unknown; b & c");
        assert_eq!(
            normalise("soft\u{ad}hyphen zero\u{200b}width"),
            "softhyphen zerowidth"
        );
        assert_eq!(normalise("می\u{200c}خواهم"), "می\u{200c}خواهم");
        assert_eq!(normalise("bell\u{7}\u{0}"), "bell");
        assert_eq!(normalise("&#0; &#3;x"), " x");
        assert!(matches!(normalise("plain text\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn paragraphs_are_separated_by_one_blank_line() {
        let body = clean_body("One.  \r\n\r\n\r\n\r\nTwo   words.\nThree.\n\n\n");
        assert_eq!(body, "One.\n\nTwo words.\n\nThree.");
    }

    #[test]
    fn hard_wrapped_newswire_text_is_reflowed() {
        let raw = "Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\nJanuary.\n    The dry period means the temporao will be late this year.\n    Arrivals for the week ended February 22 were 155,221 bags\nof 60 kilos.\n REUTER";
        assert_eq!(
            clean_body(raw),
            "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January.\n\nThe dry period means the temporao will be late this year.\n\nArrivals for the week ended February 22 were 155,221 bags of 60 kilos."
        );
    }

    #[test]
    fn newswire_table_rows_stay_apart() {
        let raw = "The department gave stocks as follows, in mln bushels, with comparisons --\n                1986/87            1985/86\n      WHEAT    225     300       678     678\n       CORN  1,800   2,400     2,589   2,589\n REUTER^M";
        let body = clean_body(raw);
        assert_eq!(
            body,
            "The department gave stocks as follows, in mln bushels, with comparisons --\n\n1986/87 1985/86\n\nWHEAT 225 300 678 678\n\nCORN 1,800 2,400 2,589 2,589"
        );
    }

    #[test]
    fn long_lines_are_paragraphs_of_their_own() {
        let first = "A long paragraph that runs on well past the width of any hard-wrapped newswire line, as web text does.";
        let raw = format!("{first}\nOn Sunday Mr Johnson said so.");
        assert_eq!(
            clean_body(&raw),
            format!("{first}\n\nOn Sunday Mr Johnson said so.")
        );
    }

    #[test]
    fn furniture_lines_are_dropped() {
        for furniture in [
            "Advertisement",
            "ADVERTISEMENT",
            "Share this article",
            "Sign up to our daily newsletter",
            "Follow us on Twitter @news",
            "Read more: Iran vows revenge",
            "Click here to subscribe",
            "We use cookies to improve your experience.",
            "Thank you for registering",
            "Picture: PA",
            "(Photo: AFP)",
            "Image: Getty",
            "Credit: Reuters",
            "Photo by John Smith/Reuters",
            "Getty Images",
            "REUTER",
            "12 comments",
        ] {
            let body = clean_body(&format!(
                "Real sentence one.\n\n{furniture}\n\nReal sentence two."
            ));
            assert_eq!(
                body, "Real sentence one.\n\nReal sentence two.",
                "{furniture:?}"
            );
        }
    }

    #[test]
    fn sentences_that_start_like_furniture_are_kept() {
        let kept = [
            "Comments by South Korea's central bank sparked the sell-off.",
            "\"Thank you for your service,\" he said.",
            "Share prices fell sharply on Monday.",
            "Advertisements for package tours have started.",
            "The photo: a key piece of evidence, the court heard.",
        ];
        for sentence in kept {
            assert_eq!(clean_body(sentence), sentence);
        }
        let long = format!(
            "Thank you for {}",
            "the long and detailed reply. ".repeat(8)
        );
        assert_eq!(clean_body(&long), long.trim_end());
    }

    #[test]
    fn trailing_credits_are_stripped_from_captions() {
        assert_eq!(
            clean_body(
                "Boris Johnson calling Soleimani 'a threat to all our interests'. Picture: PA"
            ),
            "Boris Johnson calling Soleimani 'a threat to all our interests'."
        );
        assert_eq!(
            clean_body(
                "Stoltenberg delivers a speech in Brussels on January 6th. [Kenzo Tribouillard/AFP]"
            ),
            "Stoltenberg delivers a speech in Brussels on January 6th."
        );
        assert_eq!(
            clean_body(
                "Protesters in New Delhi, February 27, 2020. (Photo: Adnan Abidi / Reuters)"
            ),
            "Protesters in New Delhi, February 27, 2020."
        );
        assert_eq!(
            clean_body("New Delhi, 2020. (Photo: Adnan Abidi / Reuters) Trump's visit ended."),
            "New Delhi, 2020. Trump's visit ended."
        );
        assert_eq!(clean_body("(Picture: PA) Text (photo: AFP)."), "Text.");
        assert_eq!(clean_body("PICTURE: PA"), "");
        // Brackets that are not a credit stay.
        assert_eq!(
            clean_body("the shared threat from Daesh [the Islamic State group]"),
            "the shared threat from Daesh [the Islamic State group]"
        );
    }

    #[test]
    fn wire_sign_offs_and_trailing_captions_are_stripped() {
        assert_eq!(
            clean_body("The parliament voted in favor of the CFT. MH/PA"),
            "The parliament voted in favor of the CFT."
        );
        assert_eq!(
            clean_body(
                "Projects went ahead. EF/MA Photo: Syrian Ambassador Adnan Hassan Mahmoud (L) speaking."
            ),
            "Projects went ahead."
        );
        assert_eq!(
            clean_body("Pilgrims walked on Ashura. Photo: Arbaeen pilgrims, Karbala. ABU/MMS/YAW"),
            "Pilgrims walked on Ashura."
        );
        assert_eq!(
            clean_body("Cases rose on Friday. MG"),
            "Cases rose on Friday."
        );
        assert_eq!(
            clean_body("He met officials from the UN"),
            "He met officials from the UN"
        );
        assert_eq!(
            clean_body("Ties between the US/UK"),
            "Ties between the US/UK"
        );
        assert_eq!(clean_body("Talks ended.\n\nMH/PA"), "Talks ended.");
        assert_eq!(
            clean_body("It grew 5 pct, it said.\n    REUTER..."),
            "It grew 5 pct, it said."
        );
    }

    #[test]
    fn comment_sections_at_the_end_are_cut() {
        let raw = "Body text.\n\nJoin our commenting forum\n\nJoin thought-provoking conversations, follow other readers\n\n\nThank you for registering\n\nPlease refresh the page or navigate to another page on the site";
        assert_eq!(clean_body(raw), "Body text.");
        let raw = "Body text.\n\nDo you like this article?\n\n0 Comment(s)\nComment Policy * Denotes Required Field 1500 / 1500";
        assert_eq!(clean_body(raw), "Body text.");
        // A marker followed by long paragraphs only loses the marker.
        let long = "A long paragraph that is real text. ".repeat(10);
        let raw = format!("Body text.\n\nComments\n\n{}", long.trim_end());
        assert_eq!(
            clean_body(&raw),
            format!("Body text.\n\n{}", long.trim_end())
        );
    }

    #[test]
    fn repeated_paragraphs_are_kept_once() {
        assert_eq!(
            clean_body("Caption.\n\nCaption.\n\nText."),
            "Caption.\n\nText."
        );
        assert_eq!(clean_body("A.\n\nB.\n\nA."), "A.\n\nB.\n\nA.");
    }

    #[test]
    fn line_patterns_fit_the_length_bound() {
        for furniture in FURNITURE {
            assert!(
                furniture.pattern.len() <= MAX_LINE_FURNITURE_BYTES
                    || furniture.matches == Match::Prefix
            );
            assert_eq!(furniture.pattern, furniture.pattern.to_lowercase());
        }
    }

    #[test]
    fn tables() {
        assert!(is_tabular("WHEAT    225") && is_tabular("Total cash.....25"));
        assert!(!is_tabular("One two.  Three... four"));
    }

    #[test]
    fn titles_are_one_line() {
        assert_eq!(
            clean_title("  Ad sales\n boost\u{a0}Time Warner &amp; AOL "),
            "Ad sales boost Time Warner & AOL"
        );
    }
}

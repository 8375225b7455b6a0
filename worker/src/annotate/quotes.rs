//! A single-pass quote scanner for double and single quotes, straight and curly. An apostrophe
//! inside a word ("don't", "Iran’s") is not a quote mark; a quote still open at the end of a
//! paragraph ends there, and continues when the next paragraph opens with a mark of the same
//! family (the newspaper convention for quotes that run over several paragraphs).

use std::ops::Range;

use super::text::{has_zero_byte, position_from, splat};

/// One quoted passage within a paragraph, in folded offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Quote {
    /// Offset of the opening mark.
    pub(crate) open: usize,
    /// The quoted words, without the marks.
    pub(crate) content: Range<usize>,
    /// Offset just after the closing mark, or the paragraph end when it never closed.
    pub(crate) close: usize,
    /// Whether a closing mark was found.
    pub(crate) closed: bool,
    /// Quotes of one quotation running over several paragraphs share a group number.
    pub(crate) group: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Double,
    Single,
}

fn family(c: char) -> Option<Family> {
    match c {
        '"' | '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{00ab}' | '\u{00bb}' => {
            Some(Family::Double)
        }
        '\'' | '\u{2018}' | '\u{2019}' => Some(Family::Single),
        _ => None,
    }
}

fn is_opening_context(previous: Option<char>, next: Option<char>) -> bool {
    let previous_ok = previous.is_none_or(|p| {
        p.is_whitespace()
            || matches!(p, '(' | '[' | '\u{2014}' | '\u{2013}' | '-' | ':' | '/')
            || family(p).is_some()
    });
    let next_ok = next.is_some_and(|n| !n.is_whitespace());
    previous_ok && next_ok
}

fn is_closing_context(previous: Option<char>, next: Option<char>) -> bool {
    previous.is_some_and(|p| !p.is_whitespace()) && next.is_none_or(|n| !n.is_alphanumeric())
}

/// Whether a byte may start a quote mark: '"', '\'', or the lead byte of '«', '»' (0xC2) or
/// a curly quote (0xE2).
fn may_start_mark(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | 0xC2 | 0xE2)
}

/// Whether eight bytes may hold a byte [`may_start_mark`] accepts.
fn chunk_may_hold_mark(chunk: u64) -> bool {
    chunk & splat(0x80) != 0
        || has_zero_byte(chunk ^ splat(b'"'))
        || has_zero_byte(chunk ^ splat(b'\''))
}

/// Finds the quotes of the given paragraphs of `text`.
pub(crate) fn scan(text: &str, paragraphs: &[Range<usize>]) -> Vec<Quote> {
    let mut quotes = Vec::new();
    let mut group = 0;
    // The family of a quote left open at the end of the previous paragraph.
    let mut carried: Option<Family> = None;
    for paragraph in paragraphs {
        let Some(slice) = text.get(paragraph.clone()) else {
            continue;
        };
        let base = paragraph.start;
        let mut open: Option<(Family, usize, usize)> = None;
        let mut previous: Option<char> = None;
        let bytes = slice.as_bytes();
        let mut first_mark = true;
        let mut cursor = 0;
        while cursor < bytes.len() {
            // Only '"', '\'' and characters led by 0xC2 or 0xE2 can be marks: skip the rest
            // at once, keeping what the scan needs of it (its last character, and whether any
            // of it was not white space).
            let candidate = position_from(bytes, cursor, may_start_mark, chunk_may_hold_mark)
                .unwrap_or(bytes.len());
            if candidate > cursor {
                let skipped = slice.get(cursor..candidate).unwrap_or("");
                if first_mark && !skipped.chars().all(char::is_whitespace) {
                    first_mark = false;
                }
                if let Some(last) = skipped.chars().next_back() {
                    previous = Some(last);
                }
                cursor = candidate;
                continue;
            }
            let Some(c) = slice.get(cursor..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            let offset = cursor;
            cursor += c.len_utf8();
            let next = slice.get(cursor..).and_then(|rest| rest.chars().next());
            let Some(mark_family) = family(c) else {
                previous = Some(c);
                if !c.is_whitespace() {
                    first_mark = false;
                }
                continue;
            };
            let at = base + offset;
            let after = at + c.len_utf8();
            match open {
                Some((open_family, open_at, content_start)) if open_family == mark_family => {
                    let apostrophe = mark_family == Family::Single
                        && previous.is_some_and(char::is_alphanumeric)
                        && next.is_some_and(char::is_alphanumeric);
                    // A mark that can only open ("... 26 weeks. "We are ...") re-opens: the quote
                    // went on into a new sentence without a closing mark, as in BBC style.
                    let reopens = !apostrophe
                        && !matches!(c, '\u{201d}' | '\u{2019}' | '\u{00bb}')
                        && is_opening_context(previous, next)
                        && !is_closing_context(previous, next);
                    let closes = match mark_family {
                        _ if reopens => false,
                        Family::Double => !matches!(c, '\u{201c}' | '\u{201e}'),
                        Family::Single => !apostrophe && is_closing_context(previous, next),
                    };
                    if closes {
                        push(&mut quotes, open_at, content_start..at, after, true, group);
                        open = None;
                    } else if reopens {
                        push(&mut quotes, open_at, content_start..at, at, false, group);
                        open = Some((mark_family, at, after));
                    }
                }
                Some(_) => {
                    // A mark of the other family inside a quote: a nested quote, part of the words.
                }
                None => {
                    let opens = match c {
                        '\u{201d}' | '\u{00bb}' => false,
                        '\u{2019}' | '\'' => {
                            is_opening_context(previous, next)
                                && next.is_some_and(|n| n.is_alphanumeric() || family(n).is_some())
                        }
                        _ => is_opening_context(previous, next),
                    };
                    if opens {
                        let continues = first_mark && carried == Some(mark_family);
                        if !continues {
                            group += 1;
                        }
                        open = Some((mark_family, at, after));
                    }
                }
            }
            first_mark = false;
            previous = Some(c);
        }
        carried = None;
        if let Some((open_family, open_at, content_start)) = open {
            push(
                &mut quotes,
                open_at,
                content_start..paragraph.end,
                paragraph.end,
                false,
                group,
            );
            carried = Some(open_family);
        }
    }
    quotes
}

fn push(
    quotes: &mut Vec<Quote>,
    open: usize,
    content: Range<usize>,
    close: usize,
    closed: bool,
    group: usize,
) {
    if content.start < content.end {
        quotes.push(Quote {
            open,
            content,
            close,
            closed,
            group,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotate::text::paragraphs;

    fn quoted(text: &str) -> Vec<(String, bool, usize)> {
        scan(text, &paragraphs(text))
            .into_iter()
            .map(|q| (text[q.content].to_owned(), q.closed, q.group))
            .collect()
    }

    #[test]
    fn apostrophes_are_not_quotes() {
        let text = "Iran’s envoy said ‘we don’t want war’ and Iran's 'plans' failed.";
        let found = quoted(text);
        assert_eq!(found[0].0, "we don’t want war");
        assert_eq!(found[1].0, "plans");
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn multi_paragraph_quotes_share_a_group() {
        let text = "He said: \"First part.\n\n\"Second part,\" he added.\n\nThen \"other\".";
        let found = quoted(text);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0], ("First part.".to_owned(), false, found[1].2));
        assert_eq!(found[1].0, "Second part,");
        assert_ne!(found[2].2, found[1].2);
    }

    #[test]
    fn a_quote_reopened_in_the_same_paragraph_continues() {
        let found = quoted("She said: \"We doubled it. \"We will extend it.\" She left.");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "We doubled it. ");
        assert_eq!(found[1].0, "We will extend it.");
        assert_eq!(found[0].2, found[1].2);
    }

    #[test]
    fn nested_and_unbalanced() {
        let found = quoted("“He called it ‘a lie’ today,” she said. Then “never closed");
        assert_eq!(found[0].0, "He called it ‘a lie’ today,");
        assert_eq!(found[1].0, "never closed");
        assert!(!found[1].1);
    }
}

//! Dates in article metadata and text: `published_at` timestamps, byline date lines
//! ("Friday 03 January 2020 15:01 GMT") and dates mentioned in the text.

use std::ops::RangeInclusive;

use communique_domain::Date;

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

/// Monday is 0.
const WEEKDAYS: &[(&str, u32)] = &[
    ("monday", 0),
    ("mon", 0),
    ("tuesday", 1),
    ("tues", 1),
    ("tue", 1),
    ("wednesday", 2),
    ("wed", 2),
    ("thursday", 3),
    ("thurs", 3),
    ("thur", 3),
    ("thu", 3),
    ("friday", 4),
    ("fri", 4),
    ("saturday", 5),
    ("sat", 5),
    ("sunday", 6),
    ("sun", 6),
];

const TIME_ZONES: &[&str] = &[
    "gmt", "utc", "z", "bst", "cet", "cest", "eet", "eest", "est", "edt", "cst", "cdt", "mst",
    "mdt", "pst", "pdt", "et", "ct", "pt", "irst", "irdt", "ist", "msk", "ast", "jst",
];

/// Words that may precede a byline date: "Published: ...", "Last updated on ...".
const DATE_LINE_PREFIXES: &[&str] = &[
    "published",
    "updated",
    "last",
    "first",
    "posted",
    "modified",
    "created",
    "date",
    "on",
    "at",
];

/// The years a date inferred from text may have: news is neither ancient nor far future.
const PLAUSIBLE_YEARS: RangeInclusive<i32> = 1900..=2100;

/// A byline date line is short.
const MAX_DATE_LINE_CHARS: usize = 100;

/// Parses a `published_at` value: "2020-01-03", an RFC 3339 timestamp ("2020-01-03T15:01:00Z",
/// "2020-01-03T15:01:00+03:30"), "2020-01-03 15:01:00", the Reuters-21578 forms
/// "1987-02-26T15:01:01" and "26-FEB-1987 15:01:01.79", or a written date such as
/// "Friday 03 January 2020 15:01 GMT". The date is taken as written, without time-zone shifts.
pub(crate) fn parse_published_at(text: &str) -> Option<Date> {
    let text = text.trim();
    parse_iso_timestamp(text).or_else(|| parse_date_phrase(text))
}

fn parse_iso_timestamp(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() >= 10
        && bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| bytes.get(i).is_some_and(u8::is_ascii_digit));
    if !shape_ok {
        return None;
    }
    let date: Date = text.get(..10)?.parse().ok()?;
    let rest = text.get(10..)?;
    if rest.is_empty() {
        return Some(date);
    }
    let time = rest.strip_prefix(['T', 't', ' '])?;
    is_time_with_zone(time).then_some(date)
}

/// "15:01", "15:01:00", "15:01:00.123", each optionally followed by "Z", "+03:30", "-0500",
/// "+03" or " UTC".
fn is_time_with_zone(text: &str) -> bool {
    let bytes = text.as_bytes();
    let two_digits = |at: usize, max: u32| -> bool {
        match (bytes.get(at), bytes.get(at + 1)) {
            (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => {
                u32::from(a - b'0') * 10 + u32::from(b - b'0') <= max
            }
            _ => false,
        }
    };
    if !(two_digits(0, 23) && bytes.get(2) == Some(&b':') && two_digits(3, 59)) {
        return false;
    }
    let mut at = 5;
    if bytes.get(at) == Some(&b':') {
        if !two_digits(at + 1, 60) {
            return false;
        }
        at += 3;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let digits = bytes
                .get(at..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == 0 {
                return false;
            }
            at += digits;
        }
    }
    let zone = text.get(at..).unwrap_or_default();
    match zone.as_bytes().first() {
        None => true,
        Some(b'Z' | b'z') => zone.len() == 1,
        Some(b'+' | b'-') => {
            let offset = zone.get(1..).unwrap_or_default().replace(':', "");
            matches!(offset.len(), 2 | 4) && offset.bytes().all(|b| b.is_ascii_digit())
        }
        Some(b' ') => {
            let name = zone.trim_start();
            name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("gmt")
        }
        Some(_) => false,
    }
}

/// A maximal run of letters and digits, with its byte range in the text.
#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        // ASCII is decided byte by byte; only other characters are decoded.
        let (alphanumeric, width) = if byte.is_ascii() {
            (byte.is_ascii_alphanumeric(), 1)
        } else {
            match text.get(index..).and_then(|rest| rest.chars().next()) {
                Some(c) => (c.is_alphanumeric(), c.len_utf8()),
                None => (false, 1),
            }
        };
        match (alphanumeric, start) {
            (true, None) => start = Some(index),
            (false, Some(begin)) => {
                tokens.extend(text.get(begin..index).map(|t| Token {
                    text: t,
                    start: begin,
                    end: index,
                }));
                start = None;
            }
            _ => {}
        }
        index += width;
    }
    if let Some(begin) = start {
        tokens.extend(text.get(begin..).map(|t| Token {
            text: t,
            start: begin,
            end: text.len(),
        }));
    }
    tokens
}

/// The text between two tokens.
fn gap<'a>(text: &'a str, before: &Token<'_>, after: &Token<'_>) -> &'a str {
    text.get(before.end..after.start).unwrap_or_default()
}

/// Whether a gap holds only `allowed` characters, at most `max_len` bytes, and at most one line
/// break (a hard-wrapped line may split a date; a blank line may not).
fn gap_is(gap: &str, allowed: &[char], max_len: usize) -> bool {
    !gap.is_empty()
        && gap.len() <= max_len
        && gap.chars().all(|c| allowed.contains(&c) || c == '\n')
        && gap.matches('\n').count() <= 1
}

/// Looks a word up in a table of names; the word must be capitalised ("Jan", "JAN"), so that
/// "may" and "sat" as ordinary words are not dates.
fn named_value(word: &str, table: &[(&str, u32)]) -> Option<u32> {
    // Month and weekday names are 3 to 9 ASCII letters.
    if !(3..=9).contains(&word.len())
        || !word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
    {
        return None;
    }
    table
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|&(_, value)| value)
}

/// Whether a word names a month or a weekday ("January", "Jan", "Friday").
pub(crate) fn is_calendar_word(word: &str) -> bool {
    named_value(word, MONTHS).is_some() || named_value(word, WEEKDAYS).is_some()
}

fn month_of(token: &Token<'_>) -> Option<u32> {
    named_value(token.text, MONTHS)
}

fn weekday_of_word(token: &Token<'_>) -> Option<u32> {
    named_value(token.text, WEEKDAYS)
}

/// A day of the month: "3", "03", "3rd", "8th".
fn day_of(token: &Token<'_>) -> Option<u32> {
    let text = token.text;
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let suffix = text.get(digits..)?;
    let suffix_ok = suffix.is_empty()
        || ["st", "nd", "rd", "th"]
            .iter()
            .any(|s| suffix.eq_ignore_ascii_case(s));
    if !(1..=2).contains(&digits) || !suffix_ok {
        return None;
    }
    let day: u32 = text.get(..digits)?.parse().ok()?;
    (1..=31).contains(&day).then_some(day)
}

/// A four-digit year.
fn year_of(token: &Token<'_>) -> Option<i32> {
    let text = token.text;
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The weekday of a date, Monday being 0.
fn weekday(date: Date) -> u32 {
    // 1970-01-01 was a Thursday.
    (date.days_since_epoch() + 3).rem_euclid(7).unsigned_abs()
}

/// A date written in text, with or without its year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mention {
    year: Option<i32>,
    month: u32,
    day: u32,
    weekday: Option<u32>,
    /// The index of the first token after the date.
    next: usize,
}

const WEEKDAY_GAP: &[char] = &[' ', ',', '('];
const MONTH_DAY_GAP: &[char] = &[' ', '.'];
const DAY_YEAR_GAP: &[char] = &[' ', ','];

/// The date written at token `at`: "January 3, 2020", "Jan. 8", "3rd January 2020",
/// "26-FEB-1987", "2020-01-03". A weekday just before it ("Wednesday (January 8th)") is noted.
fn mention_at(text: &str, tokens: &[Token<'_>], at: usize) -> Option<Mention> {
    let first = tokens.get(at)?;
    // Most words are neither a capitalised month nor a number.
    if !first
        .text
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
    {
        return None;
    }
    let weekday = at
        .checked_sub(1)
        .and_then(|before| tokens.get(before))
        .filter(|before| gap_is(gap(text, before, first), WEEKDAY_GAP, 3))
        .and_then(weekday_of_word);
    let year_after = |index: usize, allowed: &[char]| -> Option<i32> {
        let previous = tokens.get(index.checked_sub(1)?)?;
        let token = tokens.get(index)?;
        if !gap_is(gap(text, previous, token), allowed, 3) {
            return None;
        }
        let year = year_of(token)?;
        // "March 3, 1500.5" or "3 May 2020,000" are numbers, not years.
        let continues_number = tokens.get(index + 1).is_some_and(|next| {
            next.text.starts_with(|c: char| c.is_ascii_digit())
                && matches!(gap(text, token, next), "." | ",")
        });
        (!continues_number).then_some(year)
    };
    let mention = |month: u32, day: u32, year_index: usize, allowed: &[char]| -> Mention {
        let year = year_after(year_index, allowed);
        Mention {
            year,
            month,
            day,
            weekday,
            next: if year.is_some() {
                year_index + 1
            } else {
                year_index
            },
        }
    };

    // Month first: "January 3, 2020", "Jan. 8".
    if let Some(month) = month_of(first)
        && let Some(second) = tokens.get(at + 1)
        && gap_is(gap(text, first, second), MONTH_DAY_GAP, 3)
        && let Some(day) = day_of(second)
    {
        return Some(mention(month, day, at + 2, DAY_YEAR_GAP));
    }
    // Day first: "3 January 2020", "8th of January", "26-FEB-1987".
    if let Some(day) = day_of(first)
        && let Some(second) = tokens.get(at + 1)
        && let Some(month) = month_of(second)
    {
        let day_month_gap = gap(text, first, second);
        if day_month_gap == "-" {
            let year = year_after(at + 2, &['-'])?;
            return Some(Mention {
                year: Some(year),
                month,
                day,
                weekday,
                next: at + 3,
            });
        }
        if gap_is(day_month_gap, &[' '], 2) || day_month_gap == " of " {
            return Some(mention(month, day, at + 2, DAY_YEAR_GAP));
        }
    }
    // ISO: "2020-01-03".
    if let Some(year) = year_of(first)
        && let (Some(month), Some(day)) = (tokens.get(at + 1), tokens.get(at + 2))
        && gap(text, first, month) == "-"
        && gap(text, month, day) == "-"
        && month.text.len() == 2
        && day.text.len() == 2
    {
        let month_number: u32 = month.text.parse().ok()?;
        let day_number: u32 = day.text.parse().ok()?;
        return Some(Mention {
            year: Some(year),
            month: month_number,
            day: day_number,
            weekday,
            next: at + 3,
        });
    }
    None
}

/// Whether the token at `at` is a year on its own ("in 2015", "1986/87"), not part of a larger
/// number such as "1,987" or "2020.5".
fn is_standalone_year(text: &str, tokens: &[Token<'_>], at: usize) -> Option<i32> {
    let token = tokens.get(at)?;
    let year = year_of(token)?;
    let joined_to_number = |other: Option<&Token<'_>>, gap_text: &str| {
        other.is_some_and(|other| other.text.starts_with(|c: char| c.is_ascii_digit()))
            && matches!(gap_text, "." | ",")
    };
    let before = at.checked_sub(1).and_then(|i| tokens.get(i));
    let after = tokens.get(at + 1);
    let gap_before = before.map_or("", |b| gap(text, b, token));
    let gap_after = after.map_or("", |a| gap(text, token, a));
    (!joined_to_number(before, gap_before) && !joined_to_number(after, gap_after)).then_some(year)
}

/// What a text says about dates: full dates, dates without a year, and years on their own.
#[derive(Default)]
struct DateMentions {
    full: Vec<Date>,
    partial: Vec<Mention>,
    years: Vec<i32>,
}

/// How far around a number to look for the rest of a date: "Wednesday (January " before
/// "8th", " of September, 2020" after "3rd".
const DATE_WINDOW_BYTES: usize = 32;

/// Every date has a number in it, so only the few words around each number are tokenised.
fn collect_mentions(text: &str, mentions: &mut DateMentions) {
    let bytes = text.as_bytes();
    let mut index = 0;
    // Numbers before this byte were part of a date already recorded ("2020" in "Jan 3, 2020").
    let mut resume = 0;
    while let Some(offset) = bytes
        .get(index..)
        .and_then(|rest| rest.iter().position(u8::is_ascii_digit))
    {
        let start = index + offset;
        let length = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        index = start + length;
        let inside_word = start
            .checked_sub(1)
            .and_then(|before| bytes.get(before))
            .is_some_and(|&byte| is_word_byte(byte));
        if start < resume || inside_word {
            continue;
        }
        let low = window_start(text, start);
        let high = window_end(text, index);
        let Some(window) = text.get(low..high) else {
            continue;
        };
        let tokens = tokenize(window);
        let Some(at) = tokens.iter().position(|token| token.start + low == start) else {
            continue;
        };
        // A month-first date starts one word before the number.
        let mention = at
            .checked_sub(1)
            .and_then(|before| mention_at(window, &tokens, before).map(|mention| (before, mention)))
            .filter(|(_, mention)| mention.next > at)
            .or_else(|| mention_at(window, &tokens, at).map(|mention| (at, mention)));
        if let Some((first, mention)) = mention {
            let full = mention
                .year
                .filter(|year| PLAUSIBLE_YEARS.contains(year))
                .and_then(|year| Date::new(year, mention.month, mention.day));
            let begin = tokens.get(first).map_or(start, |token| low + token.start);
            match (full, mention.year) {
                // A deadline or a calendar's bounds is not the day of the news ("expires on
                // 18 October" neither).
                (Some(_), _) | (None, None)
                    if is_bound_or_calendar_gloss(text.get(..begin).unwrap_or("")) => {}
                (Some(date), _) => mentions.full.push(date),
                // An implausible or impossible year: not a date.
                (None, Some(_)) => {}
                (None, None) => mentions.partial.push(mention),
            }
            let last = mention.next.saturating_sub(1);
            resume = tokens.get(last).map_or(index, |token| low + token.end);
        } else if let Some(year) = is_standalone_year(window, &tokens, at)
            && PLAUSIBLE_YEARS.contains(&year)
            // "by 2020" is a target, not the year of the news.
            && !is_bound_or_calendar_gloss(text.get(..start).unwrap_or(""))
        {
            mentions.years.push(year);
        }
    }
}

/// Words that make the date after them a bound or a schedule rather than the day something
/// happened: "by March 20, 2021", "until", "(starts on March 21, 2025)", "due on".
const BOUND_WORDS: &[&str] = &[
    "ahead",
    "by",
    "until",
    "till",
    "through",
    "before",
    "starts",
    "starting",
    "start",
    "ends",
    "ending",
    "end",
    "begins",
    "beginning",
    "expire",
    "expires",
    "expiring",
    "due",
    "deadline",
    "scheduled",
    "slated",
];

/// Whether the text before a date makes it a bound, a schedule or a calendar's year boundary
/// given as a gloss ("the current Iranian calendar year (March 20, 2021)"), not a day the
/// article reports.
fn is_bound_or_calendar_gloss(before: &str) -> bool {
    let before = before.trim_end();
    // The end of a range: "(September 22, 2019-March 19, 2020)".
    if let Some(start) = before
        .strip_suffix('-')
        .or_else(|| before.strip_suffix('\u{2013}'))
        && start.trim_end().ends_with(|c: char| c.is_ascii_digit())
    {
        return true;
    }
    let (before, in_parenthesis) = match before.strip_suffix('(') {
        Some(rest) => (rest.trim_end(), true),
        None => (before, false),
    };
    let mut words = before
        .rsplit(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase);
    let Some(last) = words.next() else {
        return false;
    };
    if in_parenthesis && matches!(last.as_str(), "year" | "calendar") {
        return true;
    }
    is_bound_before(&last, &words.next().unwrap_or_default())
}

/// Whether the words just before a date (`previous` nearest, lower case) make it a bound or a
/// schedule: "until", "expires on", "ahead of".
pub(crate) fn is_bound_before(previous: &str, before_previous: &str) -> bool {
    BOUND_WORDS.contains(&previous)
        || (matches!(previous, "on" | "of" | "for") && BOUND_WORDS.contains(&before_previous))
}

/// Letters, digits and the bytes of non-ASCII characters (mostly letters) make words.
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || !byte.is_ascii()
}

/// Where the window before a number starts: up to [`DATE_WINDOW_BYTES`] back, at a word start.
fn window_start(text: &str, number_start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut low = number_start.saturating_sub(DATE_WINDOW_BYTES);
    let cut_word = low > 0
        && low
            .checked_sub(1)
            .and_then(|i| bytes.get(i))
            .is_some_and(|&b| is_word_byte(b));
    if cut_word {
        while low < number_start && bytes.get(low).is_some_and(|&b| is_word_byte(b)) {
            low += 1;
        }
    }
    while !text.is_char_boundary(low) {
        low += 1;
    }
    low
}

/// Where the window after a number ends: up to [`DATE_WINDOW_BYTES`] on, at a word end.
fn window_end(text: &str, number_end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut high = (number_end + DATE_WINDOW_BYTES).min(text.len());
    if bytes.get(high).is_some_and(|&b| is_word_byte(b)) {
        while high > number_end
            && high
                .checked_sub(1)
                .and_then(|i| bytes.get(i))
                .is_some_and(|&b| is_word_byte(b))
        {
            high -= 1;
        }
    }
    while !text.is_char_boundary(high) {
        high -= 1;
    }
    high
}

/// Infers an article's date from its title and body, for articles without one in their
/// metadata, date line or byline: the latest full date mentioned ("January 3, 2020",
/// "3 January 2020", "Jan. 8, 2020"); failing that, a day without a year ("Wednesday
/// (January 8th)") placed in the latest year the text mentions, preferring a year in which the
/// weekday matches.
pub fn infer_date(title: &str, body: &str) -> Option<Date> {
    let mut mentions = DateMentions::default();
    collect_mentions(title, &mut mentions);
    collect_mentions(body, &mut mentions);
    if let Some(latest) = mentions.full.iter().max() {
        return Some(*latest);
    }
    let mut years: Vec<i32> = mentions
        .years
        .iter()
        .copied()
        .chain(mentions.full.iter().map(|date| date.year()))
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    mentions
        .partial
        .iter()
        .filter_map(|mention| {
            years.iter().find_map(|&year| {
                let date = Date::new(year, mention.month, mention.day)?;
                mention
                    .weekday
                    .is_none_or(|day| weekday(date) == day)
                    .then_some(date)
            })
        })
        .max()
}

/// Parses a line that holds only a date, as bylines print it: "Friday 03 January 2020 15:01
/// GMT", "Updated: Jan 3, 2020 3:01 p.m. ET", "3 January 2020", "2020-01-03".
pub(crate) fn parse_date_phrase(line: &str) -> Option<Date> {
    let line = line.trim();
    if line.is_empty() || line.chars().count() > MAX_DATE_LINE_CHARS {
        return None;
    }
    let tokens = tokenize(line);
    let mut at = 0;
    while tokens.get(at).is_some_and(|token| {
        DATE_LINE_PREFIXES
            .iter()
            .any(|prefix| token.text.eq_ignore_ascii_case(prefix))
    }) {
        at += 1;
    }
    if tokens.get(at).and_then(weekday_of_word).is_some()
        && tokens.get(at + 1).is_some_and(|next| {
            day_of(next).is_some() || month_of(next).is_some() || year_of(next).is_some()
        })
    {
        at += 1;
    }
    let mention = mention_at(line, &tokens, at)?;
    let date = Date::new(mention.year?, mention.month, mention.day)?;
    if let Some(day) = mention.weekday
        && weekday(date) != day
    {
        return None;
    }
    at = mention.next;
    if tokens
        .get(at)
        .is_some_and(|token| token.text.eq_ignore_ascii_case("at"))
    {
        at += 1;
    }
    at = skip_time(line, &tokens, at);
    // A time zone: "GMT", "ET", or an offset such as "+0330".
    if let Some(token) = tokens.get(at) {
        let is_zone = TIME_ZONES
            .iter()
            .any(|zone| token.text.eq_ignore_ascii_case(zone));
        let is_offset = token.text.bytes().all(|b| b.is_ascii_digit())
            && at
                .checked_sub(1)
                .and_then(|i| tokens.get(i))
                .is_some_and(|before| {
                    gap(line, before, token)
                        .trim_start()
                        .starts_with(['+', '-'])
                });
        if is_zone || is_offset {
            at += 1;
        }
    }
    (at == tokens.len()).then_some(date)
}

/// Skips a time of day at token `at` ("15:01", "3:01pm", "3.01 p.m.", "15:01:01.79");
/// returns the index after it, or `at` when there is none.
fn skip_time(line: &str, tokens: &[Token<'_>], at: usize) -> usize {
    let all_digits = |token: &Token<'_>| token.text.bytes().all(|b| b.is_ascii_digit());
    let (Some(hour), Some(minute)) = (tokens.get(at), tokens.get(at + 1)) else {
        return at;
    };
    let minute_digits = minute.text.bytes().take_while(u8::is_ascii_digit).count();
    if !all_digits(hour)
        || !(1..=2).contains(&hour.text.len())
        || !matches!(gap(line, hour, minute), ":" | ".")
        || minute_digits != 2
    {
        return at;
    }
    let mut next = at + 2;
    match minute.text.get(2..) {
        Some("") => {}
        // "01pm": the meridiem is glued to the minutes.
        Some(suffix) if is_meridiem(suffix) => return next,
        _ => return at,
    }
    if let Some(second) = tokens.get(next)
        && gap(line, minute, second) == ":"
        && second.text.len() == 2
        && all_digits(second)
    {
        next += 1;
        if let Some(fraction) = tokens.get(next)
            && gap(line, second, fraction) == "."
            && all_digits(fraction)
        {
            next += 1;
        }
    }
    // "pm", or "p.m." tokenised as "p" and "m".
    match (tokens.get(next), tokens.get(next + 1)) {
        (Some(first), Some(second))
            if (first.text.eq_ignore_ascii_case("a") || first.text.eq_ignore_ascii_case("p"))
                && second.text.eq_ignore_ascii_case("m") =>
        {
            next + 2
        }
        (Some(word), _) if is_meridiem(word.text) => next + 1,
        _ => next,
    }
}

fn is_meridiem(word: &str) -> bool {
    word.eq_ignore_ascii_case("am") || word.eq_ignore_ascii_case("pm")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn deadlines_and_calendar_glosses_do_not_date_the_article() {
        let body = "Officials met on January 5, 2021. Nine plants will open by the end of the \
                    current Iranian calendar year (March 20, 2021), and more in the year of 1404 \
                    (starts on March 21, 2025). The plan runs until June 1, 2022.";
        assert_eq!(infer_date("", body), Some(date("2021-01-05")));
        // A day without a year, likewise.
        assert_eq!(
            infer_date(
                "",
                "The embargo expires on 18 October, he said in 2020 on 8 May."
            ),
            Some(date("2020-05-08"))
        );
        // A year after such words does not place a day either.
        assert_eq!(
            infer_date(
                "",
                "Ahead of 17 December, when leaders meet, the cost will be 9bn by 2020 and was 5bn in 2004."
            ),
            None
        );
        assert_eq!(
            infer_date(
                "",
                "The decision on 17 December will cost 9bn by 2020; it was 5bn in 2004."
            ),
            Some(date("2004-12-17"))
        );
        // The end of a range.
        assert_eq!(
            infer_date(
                "",
                "It met on 5 March, 2020. In the year (September 22, 2019-March 19, 2020) it grew."
            ),
            Some(date("2020-03-05"))
        );
        // A date after such words but not a bound still counts.
        assert_eq!(
            infer_date("", "It was signed in Vienna on July 14, 2015."),
            Some(date("2015-07-14"))
        );
    }

    #[test]
    fn published_at_forms() {
        for (text, expected) in [
            ("2020-01-03", "2020-01-03"),
            ("2020-01-03T15:01:00Z", "2020-01-03"),
            ("2020-01-03T15:01:00.250+03:30", "2020-01-03"),
            ("2020-01-03T23:30:00-0500", "2020-01-03"),
            ("2020-01-03 15:01:00", "2020-01-03"),
            ("2020-01-03 15:01", "2020-01-03"),
            ("2020-01-03 15:01:00 UTC", "2020-01-03"),
            ("1987-02-26T15:01:01", "1987-02-26"),
            ("26-FEB-1987 15:01:01.79", "1987-02-26"),
            ("Friday 03 January 2020 15:01 GMT", "2020-01-03"),
            ("January 3, 2020", "2020-01-03"),
        ] {
            assert_eq!(parse_published_at(text), Some(date(expected)), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "2020-02-30",
            "2020-01-03T25:00:00Z",
            "2020-01-03T15:01:00 junk",
            "2020-1-3",
            "03/01/2020",
            "12345",
        ] {
            assert_eq!(parse_published_at(bad), None, "{bad}");
        }
    }

    #[test]
    fn byline_date_lines() {
        for (line, expected) in [
            ("Friday 03 January 2020 15:01 GMT", "2020-01-03"),
            ("Updated: Jan 3, 2020 3:01 p.m. ET", "2020-01-03"),
            ("Published on 3rd January 2020, 3:01pm", "2020-01-03"),
            ("3 January 2020", "2020-01-03"),
            ("Fri 3 Jan 2020 15.01 GMT", "2020-01-03"),
            ("2020-01-03", "2020-01-03"),
            ("Last updated: 3 January 2020 at 15:01 +0000", "2020-01-03"),
        ] {
            assert_eq!(parse_date_phrase(line), Some(date(expected)), "{line}");
        }
        for line in [
            "On 3 January 2020 the general was killed",
            "Thursday 03 January 2020",
            "New York",
            "3 January",
            "Who was powerful Iranian general Qassem Soleimani?",
        ] {
            assert_eq!(parse_date_phrase(line), None, "{line}");
        }
    }

    #[test]
    fn infers_the_latest_full_date() {
        assert_eq!(
            infer_date("", "On January 3, 2020 and on 8 January 2020 it happened."),
            Some(date("2020-01-08"))
        );
        assert_eq!(
            infer_date("", "TEHRAN, Jan. 8, 2020 (Reuters) - Iran fired missiles."),
            Some(date("2020-01-08"))
        );
        assert_eq!(
            infer_date("Talks on 2019-12-30", "No other date."),
            Some(date("2019-12-30"))
        );
        assert_eq!(
            infer_date("", "Coupon bonds maturing\nJune 28, 1996, will be set."),
            Some(date("1996-06-28"))
        );
    }

    #[test]
    fn resolves_days_without_a_year() {
        let body = "World leaders on Wednesday (January 8th) condemned the attack. In 2020 and in 2014 \
                    tensions rose; the 2025 plan and the 1979 revolution were mentioned.";
        // January 8th was a Wednesday in 2025, 2020 and 2014: the latest mentioned year wins.
        assert_eq!(infer_date("", body), Some(date("2025-01-08")));
        let body = "On Wednesday (January 8th) leaders met. The 2019 and 2020 figures.";
        // 2020-01-08 was a Wednesday; 2019-01-08 was not.
        assert_eq!(infer_date("", body), Some(date("2020-01-08")));
        let body = "On Tuesday (January 8th) leaders met. The 2019 and 2020 figures.";
        assert_eq!(infer_date("", body), Some(date("2019-01-08")));
        assert_eq!(
            infer_date("", "TEHRAN, Jan. 8 (Reuters) - in 2019."),
            Some(date("2019-01-08"))
        );
    }

    #[test]
    fn ignores_things_that_are_not_dates() {
        assert_eq!(infer_date("", "He may be 25 years old. Mayall said."), None);
        assert_eq!(
            infer_date("", "World leaders on Wednesday (January 8th) met."),
            None
        );
        assert_eq!(infer_date("", "The 2015 nuclear deal."), None);
        assert_eq!(
            infer_date("", "Sales were 1,987 mln on March 3, 1500 units."),
            None
        );
        assert_eq!(infer_date("", "It grew 2020.5 pct on March 3."), None);
        assert_eq!(infer_date("", "February 30, 2020 is no date."), None);
        assert_eq!(infer_date("", "may 5, 2020 in lower case"), None);
    }

    #[test]
    fn dates_at_the_edges_of_the_text_and_of_the_window() {
        assert_eq!(infer_date("", "3 May 2020"), Some(date("2020-05-03")));
        let padding = "é".repeat(40);
        assert_eq!(
            infer_date(
                "",
                &format!("{padding} Wednesday, September 30th, 2020{padding}")
            ),
            Some(date("2020-09-30"))
        );
        assert_eq!(infer_date("", &format!("{padding}January 3, 2020")), None);
        assert_eq!(infer_date("", "Airbus A320 on May 3"), None);
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(date("1970-01-01")), 3);
        assert_eq!(weekday(date("2020-01-08")), 2);
        assert_eq!(weekday(date("2020-01-05")), 6);
    }
}

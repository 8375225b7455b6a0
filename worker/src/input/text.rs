//! One plain-text article file → one [`RawArticle`].
//!
//! The expected shape (see `seeds/`): an optional `date YYYY-MM-DD` line, perhaps some site
//! furniture (section labels, an advert), the headline, perhaps a standfirst and a byline block
//! (author names, a location, a date line), then the body.

use communique_domain::{Date, DateSource, PublishedDate, validate_article_id};

use super::clean::{
    clean_normalised_body, clean_title, is_furniture, normalise, starts_with_ignore_case,
};
use super::dates::{infer_date, is_calendar_word, parse_date_phrase, parse_published_at};
use super::{Origin, RawArticle, Rejection};

/// Site furniture before the headline is looked for in at most this many paragraphs...
const MAX_LEADING_FURNITURE_BLOCKS: usize = 4;
/// ...of at most this many lines in all.
const MAX_LEADING_FURNITURE_LINES: usize = 6;

/// A section label or advert line before the headline is short: "Iraq News", "Security",
/// "Chauffeur Driven Cars".
const MAX_LABEL_WORDS: usize = 4;
const MAX_LABEL_CHARS: usize = 40;

/// Lowercase words a Title Case label or a name may contain.
const TITLE_CASE_CONNECTORS: &[&str] = &[
    "&", "and", "of", "the", "for", "in", "on", "to", "a", "at", "with", "|", "-", "/",
];
const NAME_PARTICLES: &[&str] = &[
    "de", "da", "di", "del", "della", "dos", "du", "van", "von", "der", "den", "ter", "al", "el",
    "bin", "ibn", "la", "le",
];
/// Words that make a byline piece a job title rather than a name: "Political Editor".
const ROLE_WORDS: &[&str] = &[
    "correspondent",
    "editor",
    "reporter",
    "writer",
    "staff",
    "columnist",
    "contributor",
    "analyst",
    "producer",
    "journalist",
];

/// A headline is longer than a label and does not read like a body sentence.
const MIN_HEADLINE_WORDS: usize = 4;
const MAX_HEADLINE_WORDS: usize = 40;
/// A first line longer than this is body text, not a headline.
const MAX_TITLE_CHARS: usize = 300;

/// The byline is looked for in at most this many lines after the headline, and before the first
/// body sentence (a line of this many words or more that ends like a sentence).
const MAX_HEADER_LINES: usize = 12;
const MIN_BODY_SENTENCE_WORDS: usize = 15;
/// A related-video or related-link title printed just after a byline date is short.
const MAX_RELATED_LINK_WORDS: usize = 15;

/// A text with more than this share of control characters is binary.
const MAX_CONTROL_SHARE_PERCENT: usize = 10;

/// Parses one plain-text article (the seeds' style). `stem_id` is the file's stem, used as the
/// article id when it is a valid one.
pub fn parse_text_article(
    origin: Origin,
    stem_id: Option<String>,
    text: &str,
) -> Result<RawArticle, Rejection> {
    if let Some(reason) = binary_content_reason(text) {
        return Err(Rejection::new(origin, reason));
    }
    let normalised = normalise(text);
    let lines: Vec<&str> = normalised.split('\n').map(str::trim_end).collect();
    let Some(mut next) = first_non_blank(&lines, 0) else {
        return Err(Rejection::new(origin, "empty file"));
    };

    let mut published = None;
    if let Some(date_line) = lines.get(next).and_then(|line| parse_date_line(line)) {
        published = date_line.map(|date| PublishedDate {
            date,
            source: DateSource::DateLine,
        });
        next += 1;
    }

    let mut removed = vec![false; lines.len()];
    let mut title = String::new();
    let mut body_start = next;
    if let Some(title_index) = find_title(&lines, next) {
        let line = lines.get(title_index).copied().unwrap_or_default();
        if line.trim().chars().count() <= MAX_TITLE_CHARS {
            title = clean_title(line);
            body_start = title_index + 1;
        } else {
            // No headline: the text opens with body.
            body_start = title_index;
        }
    }

    let byline = read_byline(&lines, body_start);
    for &index in &byline.removed {
        if let Some(flag) = removed.get_mut(index) {
            *flag = true;
        }
    }
    if published.is_none() {
        published = byline.date.map(|date| PublishedDate {
            date,
            source: DateSource::Byline,
        });
    }

    let kept_lines: Vec<&str> = lines
        .iter()
        .enumerate()
        .skip(body_start)
        .filter(|&(index, _)| !removed.get(index).copied().unwrap_or(false))
        .map(|(_, line)| *line)
        .collect();
    let body = clean_normalised_body(&kept_lines.join("\n"));

    if title.is_empty() && body.is_empty() {
        return Err(Rejection::new(
            origin,
            "file has no headline or text once site furniture is removed",
        ));
    }
    if published.is_none() {
        published = infer_date(&title, &body).map(|date| PublishedDate {
            date,
            source: DateSource::Text,
        });
    }
    Ok(RawArticle {
        origin,
        id: stem_id.filter(|id| validate_article_id(id).is_ok()),
        title,
        body,
        url: None,
        source: None,
        authors: byline.authors,
        published,
    })
}

/// Why a text is binary rather than an article, if it is.
pub(crate) fn binary_content_reason(text: &str) -> Option<&'static str> {
    if text.contains('\0') {
        return Some("binary file (NUL bytes)");
    }
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        total += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}') {
            control += 1;
        }
    }
    (control * 100 > total * MAX_CONTROL_SHARE_PERCENT)
        .then_some("binary file (mostly control characters)")
}

fn first_non_blank(lines: &[&str], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&index| lines.get(index).is_some_and(|line| !line.trim().is_empty()))
}

/// A leading `date YYYY-MM-DD` line, possibly indented and followed by other words
/// (" date 2020-01-05 Breaking News"). `Some(None)` is a date line whose date is invalid: it is
/// still dropped from the text, and the date is then looked for elsewhere.
fn parse_date_line(line: &str) -> Option<Option<Date>> {
    let trimmed = line.trim();
    if !starts_with_ignore_case(trimmed, "date") {
        return None;
    }
    let rest = trimmed.get(4..)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    if !rest.starts_with(char::is_whitespace) && !rest.is_empty() && trimmed.get(4..5) != Some(":")
    {
        return None;
    }
    let rest = rest.trim_start();
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // The date is the longest run of leading words that parses: "2020-01-05" or "5 January 2020".
    let words: Vec<&str> = rest.split_whitespace().take(6).collect();
    let date = (1..=words.len())
        .rev()
        .find_map(|count| parse_published_at(&words.get(..count)?.join(" ")));
    Some(date)
}

/// The index of the headline line: the first line after any leading site furniture. Leading
/// short Title Case lines (section labels like "Iraq News", advert lines like "Chauffeur Driven
/// Cars") are furniture when a headline-like line follows them.
fn find_title(lines: &[&str], from: usize) -> Option<usize> {
    let blocks = blocks(lines, from, MAX_LEADING_FURNITURE_BLOCKS + 1);
    let mut label_blocks = 0;
    let mut furniture_blocks = 0;
    let mut label_lines = 0;
    for &(start, end) in blocks.iter().take(MAX_LEADING_FURNITURE_BLOCKS) {
        let block = lines.get(start..end).unwrap_or_default();
        let all_furniture = block.iter().all(|line| is_furniture(line));
        if all_furniture && furniture_blocks == label_blocks {
            furniture_blocks += 1;
            label_blocks += 1;
            continue;
        }
        label_lines += block.len();
        if label_lines > MAX_LEADING_FURNITURE_LINES
            || !block
                .iter()
                .all(|line| is_label(line) || is_furniture(line))
        {
            break;
        }
        label_blocks += 1;
    }
    let headline_after_labels = blocks
        .get(label_blocks)
        .and_then(|&(start, _)| lines.get(start))
        .is_some_and(|line| is_headline_like(line));
    let skipped = if headline_after_labels {
        label_blocks
    } else {
        furniture_blocks
    };
    blocks.get(skipped).map(|&(start, _)| start)
}

/// Up to `max` paragraphs (runs of non-blank lines) from line `from`, as index ranges.
fn blocks(lines: &[&str], from: usize, max: usize) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut index = from;
    while found.len() < max {
        let Some(start) = first_non_blank(lines, index) else {
            break;
        };
        let end = (start..lines.len())
            .find(|&i| lines.get(i).is_none_or(|line| line.trim().is_empty()))
            .unwrap_or(lines.len());
        found.push((start, end));
        index = end;
    }
    found
}

/// A short Title Case line that ends without punctuation: a section label or advert line.
fn is_label(line: &str) -> bool {
    let line = line.trim();
    if line.is_empty()
        || line.chars().count() > MAX_LABEL_CHARS
        || line.ends_with(|c: char| c.is_ascii_punctuation() && c != '&')
        || line.ends_with(['\u{201d}', '\u{2019}'])
    {
        return false;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    words.len() <= MAX_LABEL_WORDS
        && words
            .iter()
            .any(|word| word.chars().any(char::is_alphabetic))
        && words.iter().all(|word| {
            word.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
                || TITLE_CASE_CONNECTORS.contains(word)
        })
}

/// A line that reads like a headline: a few words, not ending in a full stop.
fn is_headline_like(line: &str) -> bool {
    let line = line.trim();
    let words = line.split_whitespace().count();
    (MIN_HEADLINE_WORDS..=MAX_HEADLINE_WORDS).contains(&words)
        && line.chars().count() <= MAX_TITLE_CHARS
        && !line.ends_with('.')
}

/// What the byline block says, and which lines it occupies.
#[derive(Default)]
struct Byline {
    authors: Vec<String>,
    date: Option<Date>,
    removed: Vec<usize>,
}

/// Reads the byline block in the lines after the headline: "By AFP"; or names, locations and a
/// date line in the style of "Clark Mindock / New York / ,Richard Hall / Friday 03 January 2020
/// 15:01 GMT". A related-video title printed right after the date line is dropped too.
fn read_byline(lines: &[&str], from: usize) -> Byline {
    let mut byline = Byline::default();
    let mut zone = Vec::new();
    for index in from..lines.len() {
        let Some(line) = lines.get(index) else { break };
        if line.trim().is_empty() {
            continue;
        }
        if zone.len() >= MAX_HEADER_LINES || is_body_sentence(line) {
            break;
        }
        zone.push(index);
    }
    for (position, &index) in zone.iter().enumerate() {
        if byline.removed.contains(&index) {
            continue;
        }
        let line = lines.get(index).copied().unwrap_or_default();
        if let Some((names, date)) = parse_by_line(line) {
            add_authors(&mut byline.authors, names);
            byline.date = byline.date.or(date);
            byline.removed.push(index);
            continue;
        }
        let Some(date) = parse_date_phrase(line) else {
            continue;
        };
        byline.date = byline.date.or(Some(date));
        byline.removed.push(index);
        // Names and locations just before the date line.
        let names: Vec<usize> = zone
            .get(..position)
            .unwrap_or_default()
            .iter()
            .rev()
            .take_while(|&&before| {
                !byline.removed.contains(&before)
                    && lines.get(before).is_some_and(|line| is_name_line(line))
            })
            .copied()
            .collect();
        let mut expect_author = true;
        for &name_index in names.iter().rev() {
            let line = lines.get(name_index).copied().unwrap_or_default().trim();
            let (joined, name) = strip_name_joiner(line);
            if expect_author || joined {
                add_authors(&mut byline.authors, vec![name.to_owned()]);
            }
            // A name's next unjoined line is its location ("New York").
            expect_author = false;
            byline.removed.push(name_index);
        }
        // A short related-video title in the same block right after the date line.
        let mut after = index + 1;
        while let Some(line) = lines.get(after) {
            if line.trim().is_empty() || !is_related_link(line) {
                break;
            }
            byline.removed.push(after);
            after += 1;
        }
    }
    byline
}

/// A line of body text: long, and ending like a sentence.
fn is_body_sentence(line: &str) -> bool {
    let line = line.trim();
    line.split_whitespace().count() >= MIN_BODY_SENTENCE_WORDS
        && line.ends_with(['.', '!', '?', '"', '\'', '\u{201d}', '\u{2019}', ':'])
}

fn is_related_link(line: &str) -> bool {
    let line = line.trim();
    line.split_whitespace().count() <= MAX_RELATED_LINK_WORDS && !line.ends_with('.')
}

/// "By Clark Mindock and Richard Hall", "By AFP", "By Jane Doe, Political Editor | 3 January
/// 2020": the names, and the date if one follows a '|'.
fn parse_by_line(line: &str) -> Option<(Vec<String>, Option<Date>)> {
    let line = line.trim();
    let rest = ["By ", "BY ", "By: ", "BY: "]
        .iter()
        .find_map(|prefix| line.strip_prefix(prefix))?
        .trim();
    if rest.is_empty() || rest.chars().count() > 120 {
        return None;
    }
    let mut segments = rest.split('|');
    let names_segment = segments.next().unwrap_or_default();
    let date = segments.find_map(parse_date_phrase);
    // "By Clark Mindock in New York": the location is not a name.
    let names_segment = names_segment
        .split(" in ")
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches([',', ';']);
    let pieces: Vec<&str> = names_segment
        .split([',', ';'])
        .flat_map(|piece| piece.split(" and "))
        .flat_map(|piece| piece.split(" & "))
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .collect();
    let mut names = Vec::new();
    for piece in &pieces {
        if is_role(piece) {
            continue;
        }
        let agency = pieces.len() == 1 && is_agency_name(piece);
        if !(is_name(piece) || agency) {
            return None;
        }
        names.push((*piece).to_owned());
    }
    (!names.is_empty()).then_some((names, date))
}

fn is_role(piece: &str) -> bool {
    piece.split_whitespace().any(|word| {
        ROLE_WORDS
            .iter()
            .any(|role| word.trim_end_matches('s').eq_ignore_ascii_case(role))
    })
}

/// A one-word byline: "AFP", "Reuters" (but not "Friday" or "January").
fn is_agency_name(piece: &str) -> bool {
    !piece.contains(' ')
        && piece.chars().count() <= 20
        && piece.chars().next().is_some_and(char::is_uppercase)
        && piece.chars().all(|c| c.is_alphabetic() || c == '-')
        && !is_calendar_word(piece)
}

/// A byline line holding one name, perhaps joined to the previous one (",Richard Hall").
fn is_name_line(line: &str) -> bool {
    is_name(strip_name_joiner(line.trim()).1)
}

/// Strips a leading ",", "&" or "and " that joins a name to the previous one.
fn strip_name_joiner(line: &str) -> (bool, &str) {
    for joiner in [",", "&", "and "] {
        if let Some(rest) = line.strip_prefix(joiner) {
            return (true, rest.trim());
        }
    }
    (false, line)
}

/// Two to five capitalised words ("Clark Mindock", "Jean-Yves Le Drian", "Abu Mahdi al-Muhandis"),
/// allowing lower-case particles ("Amelie de Montchalin").
fn is_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let capitalised = words
        .iter()
        .filter(|word| word.chars().next().is_some_and(char::is_uppercase))
        .count();
    (2..=5).contains(&words.len())
        && text.chars().count() <= 50
        && capitalised >= 2
        && words.iter().all(|word| {
            let letters_only = word
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '\u{2019}' | '.'));
            letters_only
                && (word.chars().next().is_some_and(char::is_uppercase)
                    || NAME_PARTICLES.contains(word)
                    || word.starts_with("al-"))
        })
}

fn add_authors(authors: &mut Vec<String>, names: Vec<String>) {
    for name in names {
        let name = clean_title(&name);
        if !name.is_empty() && !authors.contains(&name) {
            authors.push(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RawArticle {
        parse_text_article(Origin::file("a.txt"), Some("a".to_owned()), text).unwrap()
    }

    fn reason(text: &str) -> String {
        parse_text_article(Origin::file("a.txt"), None, text)
            .unwrap_err()
            .reason
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn date_line_then_headline() {
        let article = parse(
            " date 2020-01-05 Breaking News\n\nBoris Johnson responds to crisis\n\nHe spoke today.",
        );
        assert_eq!(article.title, "Boris Johnson responds to crisis");
        assert_eq!(article.body, "He spoke today.");
        let published = article.published.unwrap();
        assert_eq!(
            (published.date, published.source),
            (date("2020-01-05"), DateSource::DateLine)
        );
        assert_eq!(article.id.as_deref(), Some("a"));
        assert_eq!(article.source, None);
    }

    #[test]
    fn date_line_forms() {
        assert_eq!(
            parse_date_line("date 2020-01-05"),
            Some(Some(date("2020-01-05")))
        );
        assert_eq!(
            parse_date_line("Date: 2020-01-05T10:00:00Z"),
            Some(Some(date("2020-01-05")))
        );
        assert_eq!(
            parse_date_line("date 5 January 2020 Breaking"),
            Some(Some(date("2020-01-05")))
        );
        assert_eq!(parse_date_line("date 2020-02-30"), Some(None));
        assert_eq!(parse_date_line("Date night ruined by storm"), None);
        assert_eq!(parse_date_line("Dates 2020 reviewed"), None);
        assert_eq!(parse_date_line("date"), None);
    }

    #[test]
    fn leading_labels_and_adverts_are_not_the_headline() {
        let article = parse(
            "Armoured & Luxury\nChauffeur Driven Cars\n\nDiscreet Professional Protection\n\nBoris Johnson Speaks To Iraq Prime Minister As Tensions Rise\n\nNo 10 has urged Iraq to let UK troops stay.",
        );
        assert_eq!(
            article.title,
            "Boris Johnson Speaks To Iraq Prime Minister As Tensions Rise"
        );
        assert_eq!(article.body, "No 10 has urged Iraq to let UK troops stay.");
        let article = parse("Iraq News\nSecurity\n\nWorld leaders condemn Iran attacks\n\nText.");
        assert_eq!(article.title, "World leaders condemn Iran attacks");
        let article = parse("Advertisement\n\nIran Vows Revenge\n\nText.");
        assert_eq!(article.title, "Iran Vows Revenge");
    }

    #[test]
    fn a_short_headline_before_the_body_is_kept() {
        let article = parse(
            "Iran Vows Revenge\n\nTehran said on Friday that it would respond to the killing.",
        );
        assert_eq!(article.title, "Iran Vows Revenge");
        let article = parse("Iran vows revenge\n\nTehran reacts to the killing of its general");
        assert_eq!(article.title, "Iran vows revenge");
        assert_eq!(article.body, "Tehran reacts to the killing of its general");
    }

    #[test]
    fn independent_style_byline_block() {
        let text = "Trump claims Soleimani plotted attacks\n\nThe general's death has sparked concerns\n\nClark Mindock\nNew York\n,Richard Hall\nFriday 03 January 2020 15:01 GMT\nWho was powerful Iranian general Qassem Soleimani?\n\nDonald Trump says that the general was caught plotting to kill many Americans, officials said.";
        let article = parse(text);
        assert_eq!(
            article.authors,
            vec!["Clark Mindock".to_owned(), "Richard Hall".to_owned()]
        );
        let published = article.published.unwrap();
        assert_eq!(
            (published.date, published.source),
            (date("2020-01-03"), DateSource::Byline)
        );
        assert_eq!(
            article.body,
            "The general's death has sparked concerns\n\nDonald Trump says that the general was caught plotting to kill many Americans, officials said."
        );
    }

    #[test]
    fn by_lines() {
        let article = parse("World leaders condemn Iran attacks\n\nBy AFP\n\nText.");
        assert_eq!(article.authors, vec!["AFP".to_owned()]);
        assert_eq!(article.body, "Text.");
        let article = parse(
            "Headline about the crisis today\n\nBy Jane Doe and John Smith, Political Editor | 3 January 2020\n\nText.",
        );
        assert_eq!(
            article.authors,
            vec!["Jane Doe".to_owned(), "John Smith".to_owned()]
        );
        assert_eq!(article.published.unwrap().date, date("2020-01-03"));
        let article =
            parse("Headline about the crisis today\n\nBy Clark Mindock in New York\n\nText.");
        assert_eq!(article.authors, vec!["Clark Mindock".to_owned()]);
        // Sentences that start with "By" are body text.
        let article = parse(
            "Headline about the crisis today\n\nBy Friday, ministers will decide.\n\nBy the way.",
        );
        assert!(article.authors.is_empty());
        assert_eq!(
            article.body,
            "By Friday, ministers will decide.\n\nBy the way."
        );
        let article = parse("Headline about the crisis today\n\nBy Monday\n\nText.");
        assert!(article.authors.is_empty());
    }

    #[test]
    fn date_inferred_from_text() {
        let article =
            parse("Leaders meet\n\nWorld leaders on Wednesday (January 8th) met, as in 2020.");
        let published = article.published.unwrap();
        assert_eq!(
            (published.date, published.source),
            (date("2020-01-08"), DateSource::Text)
        );
    }

    #[test]
    fn headline_only_and_body_only_files() {
        let article = parse("Iran fires missiles at US bases\n");
        assert_eq!(article.title, "Iran fires missiles at US bases");
        assert_eq!(article.body, "");
        let long = "word ".repeat(80);
        let article = parse(&long);
        assert_eq!(article.title, "");
        assert_eq!(article.body, long.trim_end());
    }

    #[test]
    fn invalid_stem_is_no_id() {
        let article = parse_text_article(
            Origin::file("a b.txt"),
            Some("a b".to_owned()),
            "Title\n\nText.",
        )
        .unwrap();
        assert_eq!(article.id, None);
    }

    #[test]
    fn bad_texts_are_rejected() {
        assert_eq!(reason(""), "empty file");
        assert_eq!(reason(" \n\t\r\n  "), "empty file");
        assert_eq!(reason("abc\0def"), "binary file (NUL bytes)");
        assert_eq!(
            reason("\u{1}\u{2}\u{3}\u{4}ab"),
            "binary file (mostly control characters)"
        );
        assert_eq!(
            reason("Advertisement\n\nShare this article\n"),
            "file has no headline or text once site furniture is removed"
        );
    }
}

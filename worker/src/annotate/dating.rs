//! Dating an article that gives no full date: days named without a year ("Wednesday (January
//! 8th)", "on 3 January") are placed in the period its officials' titles point to, the weekdays
//! and the other days named choosing the year; without such a day, the middle of that period.

use std::ops::Range;

use communique_domain::Date;

const MONTHS: &[(&str, u32)] = &[
    ("Jan", 1),
    ("January", 1),
    ("Feb", 2),
    ("February", 2),
    ("Mar", 3),
    ("March", 3),
    ("Apr", 4),
    ("April", 4),
    ("May", 5),
    ("June", 6),
    ("July", 7),
    ("Aug", 8),
    ("August", 8),
    ("Sep", 9),
    ("Sept", 9),
    ("September", 9),
    ("Oct", 10),
    ("October", 10),
    ("Nov", 11),
    ("November", 11),
    ("Dec", 12),
    ("December", 12),
];

/// Monday is 0.
const WEEKDAYS: &[(&str, u32)] = &[
    ("Monday", 0),
    ("Tuesday", 1),
    ("Wednesday", 2),
    ("Thursday", 3),
    ("Friday", 4),
    ("Saturday", 5),
    ("Sunday", 6),
];

/// A date the annotator worked out for an article that has none (or a contradicted one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateEstimate {
    /// A day the text names ("Wednesday (January 8th)"), its year from the period the
    /// officials' titles allow.
    NamedDay(Date),
    /// No day named: the middle of the period the officials' titles allow, so only roughly
    /// right (within that period).
    PeriodMiddle(Date),
}

impl DateEstimate {
    pub fn date(self) -> Date {
        match self {
            DateEstimate::NamedDay(date) | DateEstimate::PeriodMiddle(date) => date,
        }
    }
}

/// A day of the year the text names, maybe with its weekday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DayMention {
    month: u32,
    day: u32,
    weekday: Option<u32>,
}

/// Days named without a year that are read at most: a story names a handful.
const MAX_DAY_MENTIONS: usize = 16;

/// How far apart the days a story names may lie to tell of the same time, in days.
const SAME_TIME_DAYS: i32 = 31;

/// The best date for an undated article (`period` in days since the epoch): the latest day it
/// names near the time most of the days it names agree on, else the period's middle.
///
/// A story names days close to the day it was written, so a day named without a year is
/// placed in the year that puts it near the story's other days: each year of the period that
/// a day fits (on its weekday, when one is named) is a candidate time, scored by the days
/// named within a month of it, a day with its weekday counting twice (one year in seven has
/// it). "January 6th" alone fits 2020 and 2021; beside "Wednesday (January 8th)" it is 2020.
/// Where nothing tells the years apart, the candidate nearest the period's middle stands.
pub(crate) fn date_in_period(texts: &[&str], period: &Range<i32>) -> Option<DateEstimate> {
    let mut mentions = Vec::new();
    for text in texts {
        day_mentions(text, &mut mentions);
    }
    mentions.truncate(MAX_DAY_MENTIONS);
    let middle = period.start + (period.end - 1 - period.start) / 2;
    let first_year = Date::from_days_since_epoch(period.start)?.year();
    let last_year = Date::from_days_since_epoch(period.end - 1)?.year();
    // Every day each mention may be, with the mention's weight, in order. One mention's days
    // lie a year apart, so a window of two months holds at most one of each.
    let mut placements: Vec<(i32, u32)> = mentions
        .iter()
        .flat_map(|mention| {
            let weight = if mention.weekday.is_some() { 2 } else { 1 };
            (first_year..=last_year)
                .filter_map(move |year| Date::new(year, mention.month, mention.day))
                .filter(move |date| mention.weekday.is_none_or(|day| weekday(*date) == day))
                .map(|date| date.days_since_epoch())
                .filter(|day| period.contains(day))
                .map(move |day| (day, weight))
        })
        .collect();
    placements.sort_unstable();
    // Each placement as the story's time: the weight of the days within a month of it, read
    // with a window sliding over the sorted days (a period of decades has many).
    let mut best: Option<((u32, std::cmp::Reverse<i32>), i32)> = None;
    let (mut low, mut high, mut weight_in_window) = (0, 0, 0u32);
    for &(time, _) in &placements {
        while let Some(&(day, weight)) = placements.get(high)
            && day <= time + SAME_TIME_DAYS
        {
            weight_in_window += weight;
            high += 1;
        }
        while let Some(&(day, weight)) = placements.get(low)
            && day < time - SAME_TIME_DAYS
        {
            weight_in_window -= weight;
            low += 1;
        }
        // The latest day within the window dates the story.
        let Some(&(latest, _)) = high.checked_sub(1).and_then(|last| placements.get(last)) else {
            continue;
        };
        let key = (weight_in_window, std::cmp::Reverse((time - middle).abs()));
        if best.is_none_or(|(best_key, _)| key >= best_key) {
            best = Some((key, latest));
        }
    }
    let placed = best.map(|(_, latest)| latest);
    match placed.and_then(Date::from_days_since_epoch) {
        Some(date) => Some(DateEstimate::NamedDay(date)),
        None => Date::from_days_since_epoch(middle).map(DateEstimate::PeriodMiddle),
    }
}

/// Monday is 0; 1970-01-01 was a Thursday.
fn weekday(date: Date) -> u32 {
    (date.days_since_epoch() + 3).rem_euclid(7).unsigned_abs()
}

/// "January 8th", "Jan. 8", "8 January", "8th of January", each with a weekday among the
/// three words before ("Wednesday (January 8th)"), and with no year right after.
fn day_mentions(text: &str, out: &mut Vec<DayMention>) {
    let words = alphanumeric_runs(text);
    let month_of = |word: &str| {
        // Every month name starts with one of these capitals: most words need no list search.
        if !matches!(
            word.as_bytes().first(),
            Some(b'J' | b'F' | b'M' | b'A' | b'S' | b'O' | b'N' | b'D')
        ) {
            return None;
        }
        MONTHS.iter().find(|(m, _)| *m == word).map(|&(_, n)| n)
    };
    let day_of = |word: &str| {
        let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = word.get(digits.len()..).unwrap_or("");
        let ordinal = matches!(suffix, "" | "st" | "nd" | "rd" | "th");
        (ordinal && (1..=2).contains(&digits.len()))
            .then(|| digits.parse::<u32>().ok())
            .flatten()
            .filter(|day| (1..=31).contains(day))
    };
    let is_year = |word: &str| word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit());
    for (index, word) in words.iter().enumerate() {
        let Some(month) = month_of(word) else {
            continue;
        };
        let next = words.get(index + 1).copied().unwrap_or("");
        let previous = index.checked_sub(1).and_then(|i| words.get(i)).copied();
        // "January 8th" / "8 January" / "8th of January".
        let (day, first, last) = if let Some(day) = day_of(next) {
            (day, index, index + 1)
        } else if let Some(day) = previous.and_then(day_of) {
            (day, index - 1, index)
        } else if previous == Some("of")
            && let Some(day) = index
                .checked_sub(2)
                .and_then(|i| words.get(i))
                .and_then(|w| day_of(w))
        {
            (day, index - 2, index)
        } else {
            continue;
        };
        // "expires on 18 October", "until May 5": a bound, not a day of the news.
        let lower_at = |back: usize| {
            first
                .checked_sub(back)
                .and_then(|i| words.get(i))
                .map_or(String::new(), |w| w.to_ascii_lowercase())
        };
        if crate::input::is_bound_before(&lower_at(1), &lower_at(2)) {
            continue;
        }
        // "May 5" is a date; "may" alone never reaches here: months are capitalised.
        let after = words.get(last + 1).copied().unwrap_or("");
        if is_year(after) || (after == "of" && words.get(last + 2).is_some_and(|w| is_year(w))) {
            continue;
        }
        let weekday = words
            .get(first.saturating_sub(3)..first)
            .unwrap_or(&[])
            .iter()
            .rev()
            .find_map(|w| WEEKDAYS.iter().find(|(d, _)| d == w).map(|&(_, n)| n));
        out.push(DayMention {
            month,
            day,
            weekday,
        });
    }
}

/// `text.split(|c: char| !c.is_alphanumeric())` without its empty pieces, reading ASCII
/// bytes without decoding them: the split decoded every character of the article.
fn alphanumeric_runs(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut runs = Vec::with_capacity(text.len() / 6);
    let mut start: Option<usize> = None;
    let mut offset = 0;
    while let Some(&byte) = bytes.get(offset) {
        // A run of ASCII letters and digits, most of a text, is passed over at once.
        if byte.is_ascii_alphanumeric() {
            start.get_or_insert(offset);
            offset += 1;
            while bytes.get(offset).is_some_and(u8::is_ascii_alphanumeric) {
                offset += 1;
            }
            continue;
        }
        let (alphanumeric, length) = if byte.is_ascii() {
            (false, 1)
        } else {
            match text.get(offset..).and_then(|rest| rest.chars().next()) {
                Some(c) => (c.is_alphanumeric(), c.len_utf8()),
                None => break,
            }
        };
        if alphanumeric {
            start.get_or_insert(offset);
        } else if let Some(begin) = start.take()
            && let Some(run) = text.get(begin..offset)
        {
            runs.push(run);
        }
        offset += length;
    }
    if let Some(run) = start.and_then(|begin| text.get(begin..)) {
        runs.push(run);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(date: &str) -> i32 {
        date.parse::<Date>().map_or(0, Date::days_since_epoch)
    }

    #[test]
    fn a_weekday_chooses_the_year_inside_the_period() {
        let period = days("2019-12-01")..days("2021-09-15");
        let text = "World leaders on Wednesday (January 8th) condemned the attack.";
        assert_eq!(
            date_in_period(&[text], &period),
            "2020-01-08".parse().ok().map(DateEstimate::NamedDay)
        );
    }

    #[test]
    fn the_days_named_together_choose_the_year() {
        // "January 6th" alone fits 2020 and 2021, and 2021 is nearer the period's middle; the
        // Wednesday, January 8th beside it was in 2020.
        let period = days("2019-12-01")..days("2021-06-15");
        let text = "A speech in Brussels on January 6th. World leaders on Wednesday \
                    (January 8th) condemned the attack.";
        assert_eq!(
            date_in_period(&[text], &period),
            "2020-01-08".parse().ok().map(DateEstimate::NamedDay)
        );
        // Alone, it is placed nearest the middle.
        assert_eq!(
            date_in_period(&["A speech in Brussels on January 6th."], &period),
            "2021-01-06".parse().ok().map(DateEstimate::NamedDay)
        );
    }

    #[test]
    fn a_period_of_centuries_still_places_the_day() {
        let period = days("1000-01-01")..days("3000-01-01");
        let text = "On January 6th talks began; on Wednesday (January 8th) they failed.";
        let placed = date_in_period(&[text], &period);
        let Some(DateEstimate::NamedDay(date)) = placed else {
            panic!("{placed:?}");
        };
        assert_eq!((date.month(), date.day(), weekday(date)), (1, 8, 2));
    }

    #[test]
    fn alphanumeric_runs_split_as_str_split_does() {
        for text in [
            "",
            "a",
            " Jan. 8th, 2020 ",
            "Amélie’s 3rd—day\n(x)",
            "--a--b--",
        ] {
            let split: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            assert_eq!(alphanumeric_runs(text), split, "{text:?}");
        }
    }

    #[test]
    fn days_outside_the_period_or_with_a_year_are_not_used() {
        let period = days("2020-01-01")..days("2020-12-31");
        // 8 January 2021 is outside; "3 March 2015" has its year; the middle is left.
        let text = "On Friday 8 January a vote; the deal of 3 March 2015 stands.";
        assert_eq!(
            date_in_period(&[text], &period),
            Date::from_days_since_epoch(period.start + (period.end - 1 - period.start) / 2)
                .map(DateEstimate::PeriodMiddle)
        );
    }

    #[test]
    fn a_deadline_is_not_the_day_of_the_news() {
        let mut out = Vec::new();
        day_mentions(
            "It expires on 18 October, runs until May 5 and began on 3 March",
            &mut out,
        );
        let days: Vec<(u32, u32)> = out.iter().map(|m| (m.month, m.day)).collect();
        assert_eq!(days, [(3, 3)]);
    }

    #[test]
    fn ordinal_and_of_forms_are_read() {
        let mut out = Vec::new();
        day_mentions("the 8th of January, and Jan. 9, and 10 May", &mut out);
        let days: Vec<(u32, u32)> = out.iter().map(|m| (m.month, m.day)).collect();
        assert_eq!(days, [(1, 8), (1, 9), (5, 10)]);
    }
}

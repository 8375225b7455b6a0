//! A civil calendar date: all the time precision that news roles and filters need.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A proleptic Gregorian calendar date. Ordering is chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {text:?}: expected YYYY-MM-DD with a real month and day")]
pub struct DateError {
    pub text: String,
}

impl Date {
    /// Returns `None` unless the year is in 1..=9999 and the month and day exist.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let month = month as u8;
        if day > u32::from(days_in_month(year, month)) {
            return None;
        }
        Some(Date {
            year,
            month,
            day: day as u8,
        })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// Days since 1970-01-01 (negative before), for compact order-preserving keys.
    pub fn days_since_epoch(self) -> i32 {
        // Howard Hinnant's days_from_civil.
        let y = if self.month <= 2 {
            self.year - 1
        } else {
            self.year
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i32::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i32::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of [`Date::days_since_epoch`]; `None` outside years 1..=9999.
    pub fn from_days_since_epoch(days: i32) -> Option<Date> {
        let z = i64::from(days) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(i32::try_from(year).ok()?, month as u32, day as u32)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Parses `YYYY-MM-DD`.
    fn from_str(text: &str) -> Result<Date, DateError> {
        let error = || DateError {
            text: text.to_owned(),
        };
        let mut parts = text.trim().splitn(3, '-');
        let mut next = || -> Result<u32, DateError> {
            let part = parts.next().ok_or_else(error)?;
            if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error());
            }
            part.parse().map_err(|_| error())
        };
        let (year, month, day) = (next()?, next()?, next()?);
        Date::new(year as i32, month, day).ok_or_else(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let date: Date = "2020-01-03".parse().unwrap();
        assert_eq!(date.to_string(), "2020-01-03");
        assert!("2020-02-30".parse::<Date>().is_err());
        assert!("2020-1".parse::<Date>().is_err());
        assert!("20x0-01-01".parse::<Date>().is_err());
        assert!("2024-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn epoch_days_round_trip_and_order() {
        for text in [
            "1970-01-01",
            "1987-03-04",
            "2000-02-29",
            "2020-01-03",
            "0001-01-01",
        ] {
            let date: Date = text.parse().unwrap();
            assert_eq!(
                Date::from_days_since_epoch(date.days_since_epoch()),
                Some(date)
            );
        }
        assert_eq!("1970-01-01".parse::<Date>().unwrap().days_since_epoch(), 0);
        let a: Date = "2019-12-31".parse().unwrap();
        let b: Date = "2020-01-01".parse().unwrap();
        assert!(a < b && a.days_since_epoch() + 1 == b.days_since_epoch());
    }
}

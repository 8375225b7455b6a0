//! The worker's input side: finds article files, decompresses and decodes them, and turns plain
//! text files and JSON-lines records into [`RawArticle`]s with a cleaned body, or into
//! [`Rejection`]s that say precisely what is wrong with an input and where.
//!
//! Everything streams: [`read_inputs`] holds one text file or one JSON line at a time, never a
//! whole corpus, and never panics on any input.

mod clean;
mod dates;
mod jsonl;
mod reader;
mod text;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use communique_domain::PublishedDate;

pub use clean::{clean_body, clean_title};
pub use dates::infer_date;
pub(crate) use dates::is_bound_before;
pub use jsonl::parse_jsonl_record;
pub use text::parse_text_article;

/// Where an article or a rejection came from: a file path ("-" for stdin) and, for JSONL, the
/// 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub path: String,
    pub line: Option<u64>,
}

impl Origin {
    pub fn file(path: impl Into<String>) -> Origin {
        Origin {
            path: path.into(),
            line: None,
        }
    }

    pub fn line(path: impl Into<String>, line: u64) -> Origin {
        Origin {
            path: path.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// An article as read from its input, before annotation.
#[derive(Clone, Debug, PartialEq)]
pub struct RawArticle {
    pub origin: Origin,
    /// The JSONL `id`, or a text file's stem when that is a valid article id.
    pub id: Option<String>,
    pub title: String,
    /// The cleaned text: paragraphs separated by "\n\n", site furniture removed. Later stages
    /// compute byte offsets into exactly this string.
    pub body: String,
    pub url: Option<String>,
    /// The JSONL `source`; `None` for text files.
    pub source: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<PublishedDate>,
}

/// An input that yields no article, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub origin: Origin,
    /// Lower-case, precise and actionable: "invalid UTF-8 at byte 1234", "empty file", ...
    pub reason: String,
}

impl Rejection {
    pub fn new(origin: Origin, reason: impl Into<String>) -> Rejection {
        Rejection {
            origin,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum InputItem {
    Article(RawArticle),
    Rejected(Rejection),
}

/// How to read a file: `Auto` decides per file from its name and first byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputFormat {
    #[default]
    Auto,
    Text,
    Jsonl,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    pub format: InputFormat,
    /// The most bytes accepted per text file and per JSONL line (after decompression).
    pub max_input_bytes: u64,
}

/// 10 MiB: far above any real article, low enough to keep one input's memory bounded.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 10 * 1024 * 1024;

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: InputFormat::Auto,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// Streams the articles of every path: files, folders (recursive, sorted, hidden files skipped),
/// "-" for stdin. Gzip input (recognised by its magic bytes) is decompressed as it is read.
/// Lazy: holds at most one text file or one JSONL line in memory, and discards the rest of an
/// oversized line instead of buffering it. Ids are unique within one call: a later article
/// under an id already read, with another title or body, is rejected naming the first (only the
/// ids and a hash of each article are kept for that).
pub fn read_inputs(
    paths: &[PathBuf],
    options: &ReadOptions,
) -> impl Iterator<Item = InputItem> + Send + use<> {
    reader::Inputs::new(paths, options.clone())
}

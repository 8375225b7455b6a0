//! PLACEHOLDER until the input module lands.
use std::path::PathBuf;

use communique_domain::PublishedDate;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub path: String,
    pub line: Option<u64>,
}
impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => write!(f, "{}", self.path),
        }
    }
}
#[derive(Clone, Debug)]
pub struct RawArticle {
    pub origin: Origin,
    pub id: Option<String>,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub source: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<PublishedDate>,
}
#[derive(Clone, Debug)]
pub struct Rejection {
    pub origin: Origin,
    pub reason: String,
}
pub enum InputItem {
    Article(RawArticle),
    Rejected(Rejection),
}
#[derive(Clone, Copy, Debug)]
pub enum InputFormat {
    Auto,
    Text,
    Jsonl,
}
#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub format: InputFormat,
    pub max_input_bytes: u64,
}
impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: InputFormat::Auto,
            max_input_bytes: 10 << 20,
        }
    }
}
pub fn read_inputs(
    paths: &[PathBuf],
    _options: &ReadOptions,
) -> impl Iterator<Item = InputItem> + Send {
    let paths = paths.to_vec();
    paths.into_iter().filter_map(|p| {
        let text = std::fs::read_to_string(&p).ok()?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let title = lines.next().unwrap_or_default().to_owned();
        let body = lines.collect::<Vec<_>>().join("\n\n");
        Some(InputItem::Article(RawArticle {
            origin: Origin {
                path: p.display().to_string(),
                line: None,
            },
            id: p.file_stem().map(|s| s.to_string_lossy().into_owned()),
            title,
            body,
            url: None,
            source: None,
            authors: vec![],
            published: None,
        }))
    })
}

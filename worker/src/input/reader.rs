//! Finding, opening and decoding inputs: walks folders, reads stdin, recognises gzip by its
//! magic bytes, tells JSONL from plain text, and reads JSONL a bounded line at a time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, Cursor, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use flate2::bufread::MultiGzDecoder;

use super::jsonl::parse_jsonl_record;
use super::text::parse_text_article;
use super::{InputFormat, InputItem, Origin, RawArticle, ReadOptions, Rejection};

/// Read buffer size: large enough that a 46 MB corpus costs few system calls.
const BUFFER_BYTES: usize = 64 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
const STDIN_PATH: &str = "-";
const JSONL_EXTENSIONS: &[&str] = &[".jsonl", ".ndjson"];
const GZIP_EXTENSION: &str = ".gz";

/// Gzip input at least this large (or of unknown size) is inflated on a helper thread, so that
/// inflating and parsing overlap; smaller files are not worth a thread.
const BACKGROUND_INFLATE_MIN_BYTES: u64 = 1024 * 1024;
/// The helper thread hands over inflated text in chunks of this size, at most this many ahead:
/// memory stays bounded however large the input.
const INFLATE_CHUNK_BYTES: usize = 256 * 1024;
const INFLATE_CHUNKS_AHEAD: usize = 4;

type Input = Box<dyn BufRead + Send>;

/// The iterator behind [`super::read_inputs`].
pub(crate) struct Inputs {
    options: ReadOptions,
    /// Paths still to read, the next one last.
    pending: Vec<Pending>,
    /// Items found but not yet handed out (a folder's unreadable entries).
    queued: VecDeque<InputItem>,
    /// The JSONL stream being read.
    current: Option<JsonlStream>,
    /// Folders already walked (canonical paths), so that a symlink loop ends.
    visited_folders: HashSet<PathBuf>,
    /// Every article id read so far, so that a second article under an id it does not match is
    /// rejected here, in input order, instead of racing the first into the store.
    ids: SeenIds,
}

struct Pending {
    path: PathBuf,
    /// Given by the caller rather than found in a folder: "-" means stdin, and special files
    /// (a FIFO from `<(zcat ...)`) are read.
    named: bool,
}

/// What opening a path gave.
enum Opened {
    Item(InputItem),
    Stream(JsonlStream),
    Nothing,
}

impl Inputs {
    pub(crate) fn new(paths: &[PathBuf], options: ReadOptions) -> Inputs {
        Inputs {
            options,
            pending: paths
                .iter()
                .rev()
                .map(|path| Pending {
                    path: path.clone(),
                    named: true,
                })
                .collect(),
            queued: VecDeque::new(),
            current: None,
            visited_folders: HashSet::new(),
            ids: SeenIds::default(),
        }
    }

    fn open(&mut self, pending: Pending) -> Opened {
        let Pending { path, named } = pending;
        if named && path.as_os_str() == STDIN_PATH {
            let stdin: Input = Box::new(BufReader::with_capacity(BUFFER_BYTES, io::stdin()));
            return self.open_stream(STDIN_PATH.to_owned(), None, stdin, None);
        }
        let display = path.display().to_string();
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) => return reject(Origin::file(display), describe_open_error(&error)),
        };
        if metadata.is_dir() {
            self.walk_folder(&path, &display);
            return Opened::Nothing;
        }
        if !metadata.is_file() && !named {
            return reject(
                Origin::file(display),
                "not a regular file (a FIFO, socket or device); skipped",
            );
        }
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) => return reject(Origin::file(display), describe_open_error(&error)),
        };
        let size = metadata.is_file().then_some(metadata.len());
        let input: Input = Box::new(BufReader::with_capacity(BUFFER_BYTES, file));
        self.open_stream(display, Some(&path), input, size)
    }

    /// Queues a folder's entries: sorted by name, hidden ones skipped.
    fn walk_folder(&mut self, path: &Path, display: &str) {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.visited_folders.insert(canonical) {
            return;
        }
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(error) => {
                self.queued.push_back(InputItem::Rejected(Rejection::new(
                    Origin::file(display),
                    format!("cannot list folder: {}", describe_io_error(&error)),
                )));
                return;
            }
        };
        let mut children = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let name = entry.file_name();
                    if !name.as_encoded_bytes().starts_with(b".") {
                        children.push((name, entry.path()));
                    }
                }
                Err(error) => self.queued.push_back(InputItem::Rejected(Rejection::new(
                    Origin::file(display),
                    format!("cannot list folder: {}", describe_io_error(&error)),
                ))),
            }
        }
        children.sort_by(|a, b| a.0.cmp(&b.0));
        self.pending.extend(
            children
                .into_iter()
                .rev()
                .map(|(_, path)| Pending { path, named: false }),
        );
    }

    /// Decompresses if need be, decides the format, and reads a text file whole or starts a
    /// JSONL stream.
    fn open_stream(
        &self,
        display: String,
        path: Option<&Path>,
        mut input: Input,
        file_size: Option<u64>,
    ) -> Opened {
        let origin = Origin::file(display.clone());
        let mut magic = Vec::with_capacity(GZIP_MAGIC.len());
        if let Err(error) = (&mut input)
            .take(GZIP_MAGIC.len() as u64)
            .read_to_end(&mut magic)
        {
            return reject(
                origin,
                format!("cannot read: {}", describe_io_error(&error)),
            );
        }
        let gzip = magic == GZIP_MAGIC;
        let input: Input = Box::new(Cursor::new(magic).chain(input));
        let mut input: Input = if !gzip {
            input
        } else if file_size.is_none_or(|size| size >= BACKGROUND_INFLATE_MIN_BYTES) {
            BackgroundInflater::start(MultiGzDecoder::new(input))
        } else {
            Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                MultiGzDecoder::new(input),
            ))
        };

        let leading = match skip_leading_blank(&mut input) {
            Ok(leading) => leading,
            Err(error) => return reject(origin, read_error(gzip, &error)),
        };
        let Some(first_byte) = leading.first_byte else {
            let what = if display == STDIN_PATH {
                "empty input"
            } else {
                "empty file"
            };
            return reject(origin, what);
        };
        let name = path.map(file_name_lowercase).unwrap_or_default();
        let format = match self.options.format {
            InputFormat::Auto if has_jsonl_extension(&name) || first_byte == b'{' => {
                InputFormat::Jsonl
            }
            InputFormat::Auto => InputFormat::Text,
            format => format,
        };
        if format == InputFormat::Jsonl {
            return Opened::Stream(JsonlStream {
                path: display,
                input,
                line: leading.newlines,
                buffer: Vec::new(),
                finished: false,
            });
        }
        let stem = path.and_then(article_stem);
        Opened::Item(self.read_text(origin, stem, input, gzip, file_size, leading.bytes))
    }

    fn read_text(
        &self,
        origin: Origin,
        stem: Option<String>,
        input: Input,
        gzip: bool,
        file_size: Option<u64>,
        skipped: u64,
    ) -> InputItem {
        let limit = self.options.max_input_bytes;
        // One bounded read for every kind of input (plain file, decompressed stream, stdin): it
        // stops one byte past the limit, so an oversized input never costs more memory than the
        // limit, even a file that grows while it is read.
        let remaining = limit.saturating_sub(skipped);
        let mut bytes = Vec::new();
        if let Err(error) = input
            .take(remaining.saturating_add(1))
            .read_to_end(&mut bytes)
        {
            return rejected(origin, read_error(gzip, &error));
        }
        if bytes.len() as u64 > remaining {
            let what = if gzip {
                "decompressed file"
            } else if origin.path == STDIN_PATH {
                "input"
            } else {
                "file"
            };
            // A plain file's size is known; of a stream, only that it is over the limit.
            let size = match file_size.filter(|_| !gzip) {
                Some(size) => format!("is {size} bytes"),
                None => format!("is over {limit} bytes"),
            };
            return rejected(
                origin,
                format!(
                    "{what} {size}; the limit is {limit} per text article (raise --max-input-bytes)"
                ),
            );
        }
        if bytes.contains(&0) {
            return rejected(origin, "binary file (NUL bytes)");
        }
        match String::from_utf8(bytes) {
            Ok(text) => match parse_text_article(origin, stem, &text) {
                Ok(article) => InputItem::Article(article),
                Err(rejection) => InputItem::Rejected(rejection),
            },
            Err(error) => {
                let offset = skipped + error.utf8_error().valid_up_to() as u64;
                rejected(origin, format!("invalid UTF-8 at byte {offset}"))
            }
        }
    }
}

impl Iterator for Inputs {
    type Item = InputItem;

    fn next(&mut self) -> Option<InputItem> {
        let item = self.next_unchecked()?;
        Some(match item {
            InputItem::Article(article) => self.ids.check(article),
            rejection @ InputItem::Rejected(_) => rejection,
        })
    }
}

impl Inputs {
    /// The next item, before the duplicate-id check.
    fn next_unchecked(&mut self) -> Option<InputItem> {
        loop {
            if let Some(item) = self.queued.pop_front() {
                return Some(item);
            }
            if let Some(stream) = &mut self.current {
                if let Some(item) = stream.next_item(self.options.max_input_bytes) {
                    return Some(item);
                }
                self.current = None;
            }
            let pending = self.pending.pop()?;
            match self.open(pending) {
                Opened::Item(item) => return Some(item),
                Opened::Stream(stream) => self.current = Some(stream),
                Opened::Nothing => {}
            }
        }
    }
}

/// The ids read so far: where each was first seen and a hash of its title and body. Ids are
/// short, so this stays small next to the articles themselves (tens of bytes per article).
#[derive(Default)]
struct SeenIds {
    first_seen: HashMap<String, FirstSeen>,
    /// The paths of the first occurrences, each stored once however many lines it has.
    paths: Vec<String>,
}

struct FirstSeen {
    content: u64,
    path: usize,
    line: Option<u64>,
}

impl SeenIds {
    /// Passes the first article with an id, and any later one with the same title and body (a
    /// harmless repeat the store reports as unchanged); rejects a later one whose content
    /// differs, naming where the first is, so that which of the two is stored never depends on
    /// which thread annotates faster.
    fn check(&mut self, article: RawArticle) -> InputItem {
        let Some(id) = &article.id else {
            return InputItem::Article(article);
        };
        let content = content_fingerprint(&article);
        match self.first_seen.get(id) {
            Some(first) if first.content == content => InputItem::Article(article),
            Some(first) => {
                let first_origin = Origin {
                    path: self.paths.get(first.path).cloned().unwrap_or_default(),
                    line: first.line,
                };
                rejected(
                    article.origin,
                    format!(
                        "duplicate id {id:?}: {first_origin} has the same id with a different title or body; the first is kept (give each article its own id)"
                    ),
                )
            }
            None => {
                if self.paths.last() != Some(&article.origin.path) {
                    self.paths.push(article.origin.path.clone());
                }
                let first = FirstSeen {
                    content,
                    path: self.paths.len().saturating_sub(1),
                    line: article.origin.line,
                };
                self.first_seen.insert(id.clone(), first);
                InputItem::Article(article)
            }
        }
    }
}

fn content_fingerprint(article: &RawArticle) -> u64 {
    let mut hasher = DefaultHasher::new();
    article.title.hash(&mut hasher);
    article.body.hash(&mut hasher);
    hasher.finish()
}

/// A JSONL file being read one line at a time.
struct JsonlStream {
    path: String,
    input: Input,
    /// The number of the last line read, 1-based.
    line: u64,
    /// The current line's bytes, reused from line to line.
    buffer: Vec<u8>,
    finished: bool,
}

impl JsonlStream {
    fn next_item(&mut self, max_line_bytes: u64) -> Option<InputItem> {
        let max_line_bytes = usize::try_from(max_line_bytes).unwrap_or(usize::MAX);
        while !self.finished {
            let read = read_bounded_line(&mut self.input, &mut self.buffer, max_line_bytes);
            let origin = Origin::line(self.path.clone(), self.line + 1);
            match read {
                Err(error) => {
                    self.finished = true;
                    return Some(rejected(
                        origin,
                        format!("cannot read this line: {}", describe_io_error(&error)),
                    ));
                }
                Ok(LineRead::End) => self.finished = true,
                Ok(LineRead::TooLong(length)) => {
                    self.line += 1;
                    return Some(rejected(
                        origin,
                        format!(
                            "line is {length} bytes; the limit is {max_line_bytes} per JSONL line (raise --max-input-bytes)"
                        ),
                    ));
                }
                Ok(LineRead::Line) => {
                    self.line += 1;
                    let mut bytes = self.buffer.as_slice();
                    if self.line == 1 {
                        bytes = bytes.strip_prefix(&UTF8_BOM).unwrap_or(bytes);
                    }
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(match std::str::from_utf8(bytes) {
                        Ok(line) => match parse_jsonl_record(origin, line) {
                            Ok(article) => InputItem::Article(article),
                            Err(rejection) => InputItem::Rejected(rejection),
                        },
                        Err(error) => rejected(
                            origin,
                            format!("invalid UTF-8 at byte {} of the line", error.valid_up_to()),
                        ),
                    });
                }
            }
        }
        None
    }
}

/// Inflates gzip data on a helper thread and hands it over a chunk at a time.
struct BackgroundInflater {
    chunks: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    position: usize,
}

impl BackgroundInflater {
    /// Starts the helper thread; if no thread can be started, inflates in this one instead.
    fn start(decoder: MultiGzDecoder<Input>) -> Input {
        let (sender, chunks) = sync_channel(INFLATE_CHUNKS_AHEAD);
        // The decoder moves to the thread only if the thread starts; keep a way back otherwise.
        let (decoder_sender, decoder_receiver) = sync_channel::<MultiGzDecoder<Input>>(1);
        let spawned = thread::Builder::new()
            .name("input-inflate".to_owned())
            .spawn(move || {
                let Ok(mut decoder) = decoder_receiver.recv() else {
                    return;
                };
                loop {
                    let mut chunk = vec![0; INFLATE_CHUNK_BYTES];
                    let result = fill_chunk(&mut decoder, &mut chunk).map(|length| {
                        chunk.truncate(length);
                        chunk
                    });
                    let finished = !matches!(&result, Ok(chunk) if !chunk.is_empty());
                    // A closed channel means the reader was dropped: stop.
                    if sender.send(result).is_err() || finished {
                        return;
                    }
                }
            });
        match spawned {
            Ok(_) => match decoder_sender.send(decoder) {
                Ok(()) => Box::new(BackgroundInflater {
                    chunks,
                    chunk: Vec::new(),
                    position: 0,
                }),
                Err(returned) => Box::new(BufReader::with_capacity(BUFFER_BYTES, returned.0)),
            },
            Err(_) => Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder)),
        }
    }
}

/// Reads until `chunk` is full or the input ends; returns the length read.
fn fill_chunk(input: &mut impl Read, chunk: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = chunk.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match input.read(rest) {
            Ok(0) => break,
            Ok(length) => filled += length,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

impl Read for BackgroundInflater {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let length = available.len().min(buffer.len());
        if let (Some(target), Some(source)) = (buffer.get_mut(..length), available.get(..length)) {
            target.copy_from_slice(source);
        }
        self.consume(length);
        Ok(length)
    }
}

impl BufRead for BackgroundInflater {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.position >= self.chunk.len() {
            // After the last chunk, or an error, the channel is closed: that reads as the end.
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.position = 0;
                }
                Ok(Err(error)) => return Err(error),
                Err(_) => {
                    self.chunk.clear();
                    self.position = 0;
                }
            }
        }
        Ok(self.chunk.get(self.position..).unwrap_or_default())
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.chunk.len());
    }
}

enum LineRead {
    /// A line is in the buffer, without its line end.
    Line,
    /// The line was longer than the limit; it was skipped, and this was its length.
    TooLong(u64),
    End,
}

/// Reads one line into `line` (without "\n" or "\r\n"), keeping at most `max` bytes: the rest of
/// a longer line is read and dropped, so a 100 MB line costs no more memory than the limit.
fn read_bounded_line(input: &mut Input, line: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
    line.clear();
    let limit = (max as u64).saturating_add(1);
    let read = (&mut *input).take(limit).read_until(b'\n', line)? as u64;
    if read == 0 {
        return Ok(LineRead::End);
    }
    let mut length = read;
    if line.last() == Some(&b'\n') {
        line.pop();
        length -= 1;
    } else if read == limit {
        // Over the limit with no line end yet: skip to it.
        line.clear();
        return Ok(LineRead::TooLong(read + skip_rest_of_line(input)?));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
        length -= 1;
    }
    if length > max as u64 {
        line.clear();
        return Ok(LineRead::TooLong(length));
    }
    Ok(LineRead::Line)
}

/// Consumes the rest of a line and its line end; returns the length of the rest.
fn skip_rest_of_line(input: &mut Input) -> io::Result<u64> {
    let mut skipped = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(skipped);
        }
        match available.iter().position(|&byte| byte == b'\n') {
            Some(end) => {
                input.consume(end + 1);
                return Ok(skipped + end as u64);
            }
            None => {
                let length = available.len();
                input.consume(length);
                skipped += length as u64;
            }
        }
    }
}

/// What precedes an input's first significant byte.
struct Leading {
    first_byte: Option<u8>,
    /// Bytes skipped: whitespace and a byte-order mark.
    bytes: u64,
    /// Line ends skipped, so that JSONL line numbers stay right.
    newlines: u64,
}

/// Consumes leading whitespace and a byte-order mark, and peeks at the first other byte.
fn skip_leading_blank(input: &mut Input) -> io::Result<Leading> {
    let mut leading = Leading {
        first_byte: None,
        bytes: 0,
        newlines: 0,
    };
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(leading);
        }
        let mut skip = 0;
        for &byte in available {
            let in_bom =
                leading.bytes + (skip as u64) < UTF8_BOM.len() as u64 && UTF8_BOM.contains(&byte);
            if !(byte.is_ascii_whitespace() || in_bom) {
                leading.first_byte = Some(byte);
                break;
            }
            if byte == b'\n' {
                leading.newlines += 1;
            }
            skip += 1;
        }
        input.consume(skip);
        leading.bytes += skip as u64;
        if leading.first_byte.is_some() {
            return Ok(leading);
        }
    }
}

fn file_name_lowercase(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

fn has_jsonl_extension(name: &str) -> bool {
    let name = name.strip_suffix(GZIP_EXTENSION).unwrap_or(name);
    JSONL_EXTENSIONS
        .iter()
        .any(|extension| name.ends_with(extension))
}

/// A text file's stem, without ".gz" and its extension: "000_d9314bceb94995f8" for
/// "000_d9314bceb94995f8.txt". The article parser keeps it only if it is a valid article id.
fn article_stem(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let name = match name.len().checked_sub(GZIP_EXTENSION.len()) {
        Some(end) if name.get(end..)?.eq_ignore_ascii_case(GZIP_EXTENSION) => name.get(..end)?,
        _ => name,
    };
    let stem = match name.rfind('.') {
        Some(0) | None => name,
        Some(dot) => name.get(..dot)?,
    };
    (!stem.is_empty()).then(|| stem.to_owned())
}

fn reject(origin: Origin, reason: impl Into<String>) -> Opened {
    Opened::Item(rejected(origin, reason))
}

fn rejected(origin: Origin, reason: impl Into<String>) -> InputItem {
    InputItem::Rejected(Rejection::new(origin, reason))
}

fn describe_open_error(error: &io::Error) -> String {
    match error.kind() {
        ErrorKind::NotFound => "path does not exist".to_owned(),
        _ => format!("cannot open: {}", describe_io_error(error)),
    }
}

fn read_error(gzip: bool, error: &io::Error) -> String {
    if gzip {
        format!("cannot decompress gzip data: {}", describe_io_error(error))
    } else {
        format!("cannot read: {}", describe_io_error(error))
    }
}

/// An I/O error's message, starting lower-case like every rejection reason.
fn describe_io_error(error: &io::Error) -> String {
    let message = match error.kind() {
        ErrorKind::PermissionDenied => return "permission denied".to_owned(),
        ErrorKind::IsADirectory => return "is a folder".to_owned(),
        _ => error.to_string(),
    };
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", error.kind()).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::input::read_inputs;

    fn read_all(paths: &[PathBuf], options: ReadOptions) -> Vec<InputItem> {
        read_inputs(paths, &options).collect()
    }

    fn reasons(items: &[InputItem]) -> Vec<String> {
        items
            .iter()
            .filter_map(|item| match item {
                InputItem::Rejected(rejection) => Some(rejection.to_string()),
                InputItem::Article(_) => None,
            })
            .collect()
    }

    fn titles(items: &[InputItem]) -> Vec<String> {
        items
            .iter()
            .filter_map(|item| match item {
                InputItem::Article(article) => Some(article.title.clone()),
                InputItem::Rejected(_) => None,
            })
            .collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn boxed(bytes: Vec<u8>) -> Input {
        Box::new(Cursor::new(bytes))
    }

    #[test]
    fn bounded_lines() {
        let mut input: Input = Box::new(BufReader::with_capacity(
            4,
            Cursor::new(b"ab\r\n0123456789\nlast".to_vec()),
        ));
        let mut line = Vec::new();
        assert!(matches!(
            read_bounded_line(&mut input, &mut line, 5),
            Ok(LineRead::Line)
        ));
        assert_eq!(line, b"ab");
        assert!(matches!(
            read_bounded_line(&mut input, &mut line, 5),
            Ok(LineRead::TooLong(10))
        ));
        assert!(line.capacity() <= 16);
        assert!(matches!(
            read_bounded_line(&mut input, &mut line, 5),
            Ok(LineRead::Line)
        ));
        assert_eq!(line, b"last");
        assert!(matches!(
            read_bounded_line(&mut input, &mut line, 5),
            Ok(LineRead::End)
        ));
    }

    #[test]
    fn leading_blank_and_bom_are_skipped() {
        let mut input = boxed(b"\xEF\xBB\xBF \n\n {".to_vec());
        let leading = skip_leading_blank(&mut input).unwrap();
        assert_eq!(
            (leading.first_byte, leading.bytes, leading.newlines),
            (Some(b'{'), 7, 2)
        );
        let mut input = boxed(b" \t\n".to_vec());
        assert_eq!(skip_leading_blank(&mut input).unwrap().first_byte, None);
    }

    #[test]
    fn stems() {
        assert_eq!(
            article_stem(Path::new("/a/000_d93.txt")).as_deref(),
            Some("000_d93")
        );
        assert_eq!(article_stem(Path::new("x.txt.GZ")).as_deref(), Some("x"));
        assert_eq!(
            article_stem(Path::new(".hidden")).as_deref(),
            Some(".hidden")
        );
        assert_eq!(article_stem(Path::new("noext")).as_deref(), Some("noext"));
        assert!(has_jsonl_extension("a.jsonl.gz") && has_jsonl_extension("b.ndjson"));
        assert!(!has_jsonl_extension("a.json"));
    }

    #[test]
    fn folders_are_walked_sorted_and_hidden_files_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("sub")).unwrap();
        fs::create_dir(root.join(".git")).unwrap();
        fs::write(root.join("b.txt"), "Second headline here\n\nText.").unwrap();
        fs::write(root.join("a.txt"), "First headline here\n\nText.").unwrap();
        fs::write(root.join("sub/c.txt"), "Third headline here\n\nText.").unwrap();
        fs::write(root.join(".hidden.txt"), "Hidden headline\n\nText.").unwrap();
        fs::write(root.join(".git/d.txt"), "Hidden folder\n\nText.").unwrap();
        let items = read_all(&[root.to_path_buf()], ReadOptions::default());
        assert_eq!(
            titles(&items),
            [
                "First headline here",
                "Second headline here",
                "Third headline here"
            ]
        );
        let InputItem::Article(first) = &items[0] else {
            panic!("expected an article")
        };
        assert_eq!(first.id.as_deref(), Some("a"));
        assert_eq!(first.origin.path, root.join("a.txt").display().to_string());
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "A headline here\n\nText.").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        let items = read_all(&[dir.path().to_path_buf()], ReadOptions::default());
        assert_eq!(titles(&items), ["A headline here"]);
    }

    #[test]
    fn jsonl_is_detected_by_extension_or_first_byte() {
        let dir = tempfile::tempdir().unwrap();
        let record = "{\"id\": \"r1\", \"title\": \"Record one\"}\n";
        let jsonl = dir.path().join("a.jsonl");
        fs::write(&jsonl, format!("\n\n{record}\n  \n[1]\n")).unwrap();
        let by_content = dir.path().join("b.txt");
        fs::write(&by_content, record).unwrap();
        let items = read_all(&[jsonl.clone(), by_content.clone()], ReadOptions::default());
        assert_eq!(titles(&items), ["Record one", "Record one"]);
        let InputItem::Article(article) = &items[0] else {
            panic!("expected an article")
        };
        assert_eq!(article.origin, Origin::line(jsonl.display().to_string(), 3));
        assert_eq!(
            reasons(&items),
            [format!(
                "{}:6: record is an array, not a JSON object",
                jsonl.display()
            )]
        );
        // The flag overrides detection.
        let text = ReadOptions {
            format: InputFormat::Text,
            ..ReadOptions::default()
        };
        let items = read_all(std::slice::from_ref(&by_content), text);
        assert_eq!(titles(&items), [record.trim_end()]);
        let plain = dir.path().join("c.txt");
        fs::write(&plain, "Headline\n\nBody.").unwrap();
        let jsonl_flag = ReadOptions {
            format: InputFormat::Jsonl,
            ..ReadOptions::default()
        };
        let items = read_all(std::slice::from_ref(&plain), jsonl_flag);
        assert_eq!(
            reasons(&items),
            [
                format!(
                    "{}:1: malformed JSON: expected value at column 1",
                    plain.display()
                ),
                format!(
                    "{}:3: malformed JSON: expected value at column 1",
                    plain.display()
                ),
            ]
        );
    }

    #[test]
    fn gzip_is_detected_by_magic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("corpus.jsonl.gz");
        fs::write(&jsonl, gzip(b"{\"title\": \"Zipped record\"}\n")).unwrap();
        let no_extension = dir.path().join("article");
        fs::write(&no_extension, gzip(b"Zipped text headline\n\nBody.")).unwrap();
        let items = read_all(&[jsonl, no_extension], ReadOptions::default());
        assert_eq!(titles(&items), ["Zipped record", "Zipped text headline"]);
        let InputItem::Article(text) = &items[1] else {
            panic!("expected an article")
        };
        assert_eq!(text.id.as_deref(), Some("article"));
    }

    #[test]
    fn large_gzip_is_inflated_on_a_helper_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl.gz");
        let lines: String = (0..40_000)
            .map(|n| {
                format!("{{\"id\": \"r{n}\", \"title\": \"Record {n}\", \"body\": \"{n:0>64}\"}}\n")
            })
            .collect();
        let compressed = gzip(lines.as_bytes());
        assert!(lines.len() as u64 > BACKGROUND_INFLATE_MIN_BYTES);
        fs::write(&path, &compressed).unwrap();
        let items = read_all(std::slice::from_ref(&path), ReadOptions::default());
        assert_eq!(items.len(), 40_000);
        assert!(reasons(&items).is_empty());
        let InputItem::Article(last) = &items[39_999] else {
            panic!("expected an article")
        };
        assert_eq!(
            last.origin,
            Origin::line(path.display().to_string(), 40_000)
        );
        // Stopping early lets the helper thread end.
        let first: Vec<InputItem> =
            read_inputs(std::slice::from_ref(&path), &ReadOptions::default())
                .take(3)
                .collect();
        assert_eq!(first.len(), 3);
        // Damage inflates to garbage lines (each rejected) until the checksum fails, which ends
        // the file with a read error; the lines before the damage are intact.
        let mut damaged = compressed.clone();
        let middle = damaged.len() / 2;
        damaged[middle..middle + 64].fill(0xAA);
        fs::write(&path, &damaged).unwrap();
        let items = read_all(&[path], ReadOptions::default());
        assert!(
            items[..1000]
                .iter()
                .all(|item| matches!(item, InputItem::Article(_)))
        );
        let last = reasons(&items).pop().unwrap_or_default();
        assert!(
            last.contains("cannot read this line: corrupt gzip stream"),
            "{last}"
        );
    }

    #[test]
    fn corrupt_gzip_is_a_rejection() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = gzip(&b"{\"title\": \"Zipped record\"}\n".repeat(1000));
        let cut = bytes.len() / 2;
        bytes.truncate(cut);
        let path = dir.path().join("cut.jsonl.gz");
        fs::write(&path, &bytes).unwrap();
        let items = read_all(std::slice::from_ref(&path), ReadOptions::default());
        let rejected = reasons(&items);
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert!(
            rejected[0].contains("cannot read this line"),
            "{rejected:?}"
        );
        assert!(titles(&items).len() > 10);
        let garbage = dir.path().join("garbage.gz");
        fs::write(&garbage, [0x1f, 0x8b, 1, 2, 3]).unwrap();
        let rejected = reasons(&read_all(
            std::slice::from_ref(&garbage),
            ReadOptions::default(),
        ));
        assert_eq!(rejected.len(), 1);
        assert!(
            rejected[0].starts_with(&format!(
                "{}: cannot decompress gzip data",
                garbage.display()
            )),
            "{rejected:?}"
        );
    }

    #[test]
    fn bad_files_are_rejected_and_the_batch_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("1-empty.txt"), "").unwrap();
        fs::write(root.join("2-blank.txt"), " \n\t\n").unwrap();
        fs::write(root.join("3-binary.txt"), b"Headline\0\x01\x02").unwrap();
        fs::write(root.join("4-latin1.txt"), b"Headline\n\ncaf\xe9").unwrap();
        fs::write(root.join("5-controls.txt"), "\u{1}\u{2}\u{3}\u{4}\u{5}abc").unwrap();
        fs::write(root.join("6-good.txt"), "A good headline\n\nBody.").unwrap();
        fs::write(root.join("7-empty.jsonl"), "\n\n").unwrap();
        let missing = root.join("missing.txt");
        let mut paths = vec![root.to_path_buf(), missing.clone()];
        paths.push(root.join("6-good.txt"));
        let items = read_all(&paths, ReadOptions::default());
        let at = |name: &str| root.join(name).display().to_string();
        assert_eq!(
            reasons(&items),
            [
                format!("{}: empty file", at("1-empty.txt")),
                format!("{}: empty file", at("2-blank.txt")),
                format!("{}: binary file (NUL bytes)", at("3-binary.txt")),
                format!("{}: invalid UTF-8 at byte 13", at("4-latin1.txt")),
                format!(
                    "{}: binary file (mostly control characters)",
                    at("5-controls.txt")
                ),
                format!("{}: empty file", at("7-empty.jsonl")),
                format!("{}: path does not exist", missing.display()),
            ]
        );
        assert_eq!(titles(&items), ["A good headline", "A good headline"]);
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_files_are_rejected() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.txt");
        fs::write(&path, "Headline\n\nBody.").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&path).is_ok() {
            // Running as root: permissions do not apply.
            return;
        }
        let rejected = reasons(&read_all(
            std::slice::from_ref(&path),
            ReadOptions::default(),
        ));
        assert_eq!(
            rejected,
            [format!(
                "{}: cannot open: permission denied",
                path.display()
            )]
        );
    }

    #[test]
    fn size_limits() {
        let dir = tempfile::tempdir().unwrap();
        let options = ReadOptions {
            max_input_bytes: 100,
            ..ReadOptions::default()
        };
        let big_text = dir.path().join("big.txt");
        fs::write(&big_text, format!("Headline\n\n{}", "word ".repeat(40))).unwrap();
        let big_gzip = dir.path().join("big.txt.gz");
        fs::write(
            &big_gzip,
            gzip(format!("Headline\n\n{}", "word ".repeat(40)).as_bytes()),
        )
        .unwrap();
        let lines = dir.path().join("lines.jsonl");
        let long_line = format!("{{\"title\": \"{}\"}}", "x".repeat(300));
        fs::write(
            &lines,
            format!("{{\"title\": \"short\"}}\n{long_line}\n{{\"title\": \"after\"}}"),
        )
        .unwrap();
        let items = read_all(
            &[big_text.clone(), big_gzip.clone(), lines.clone()],
            options,
        );
        assert_eq!(
            reasons(&items),
            [
                format!(
                    "{}: file is 210 bytes; the limit is 100 per text article (raise --max-input-bytes)",
                    big_text.display()
                ),
                format!(
                    "{}: decompressed file is over 100 bytes; the limit is 100 per text article (raise --max-input-bytes)",
                    big_gzip.display()
                ),
                format!(
                    "{}:2: line is {} bytes; the limit is 100 per JSONL line (raise --max-input-bytes)",
                    lines.display(),
                    long_line.len()
                ),
            ]
        );
        assert_eq!(titles(&items), ["short", "after"]);
    }

    #[test]
    fn a_huge_single_line_is_skipped_without_holding_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.jsonl");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"{\"title\": \"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            file.write_all(&chunk).unwrap();
        }
        file.write_all(b"\"}\n{\"title\": \"next\"}\n").unwrap();
        drop(file);
        let items = read_all(std::slice::from_ref(&path), ReadOptions::default());
        assert_eq!(
            reasons(&items),
            [format!(
                "{}:1: line is {} bytes; the limit is 10485760 per JSONL line (raise --max-input-bytes)",
                path.display(),
                100 * (1 << 20) + 13
            )]
        );
        assert_eq!(titles(&items), ["next"]);
    }

    #[test]
    fn invalid_utf8_in_a_jsonl_line_rejects_that_line_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.jsonl");
        let mut bytes = b"{\"title\": \"one\"}\n{\"title\": \"caf".to_vec();
        bytes.extend_from_slice(b"\xe9\"}\n{\"title\": \"three\"}\r\n");
        fs::write(&path, bytes).unwrap();
        let items = read_all(std::slice::from_ref(&path), ReadOptions::default());
        assert_eq!(titles(&items), ["one", "three"]);
        assert_eq!(
            reasons(&items),
            [format!(
                "{}:2: invalid UTF-8 at byte 14 of the line",
                path.display()
            )]
        );
    }

    #[test]
    fn the_iterator_is_send_and_static() {
        fn assert_send<T: Send + 'static>(_: &T) {}
        let paths = vec![PathBuf::from("nothing-here")];
        let inputs = read_inputs(&paths, &ReadOptions::default());
        drop(paths);
        assert_send(&inputs);
    }
}

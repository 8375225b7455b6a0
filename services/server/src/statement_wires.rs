//! The bytes written for each evidence statement already served (`answer.rs` keeps its
//! `pb::Evidence.statement` field), reused while the store still shares that statement. A
//! CompareStances page is up to 20 rows x 3 evidence statements of about 15 fields each;
//! writing them was two thirds of the page's own work (callgrind: about 98k of the 233k
//! instructions of an `Iran` page, hello being 60k), and a stored statement never changes.
//!
//! Entries are keyed by the address of the store's shared statement (`Arc<StoredStatement>`)
//! and hold a reference to it, so no other statement can take that address while the entry
//! lives: a re-ingest that changes a statement gives the store a new shared value, hence a new
//! key, and the old entry is dropped when the entries are next cleared. Holding them is bounded
//! by `max_bytes` of encodings; past it every entry is dropped at once (no per-entry
//! bookkeeping on the read path), and the statements served next are encoded again.
//!
//! One read lock per answer, not per statement: with two runtime threads the lock word moves
//! between cores on each acquisition. The statements an answer had to encode are added after
//! it is written, under one write lock.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use communique_domain::query::StoredStatement;
use foldhash::fast::FixedState;

/// Encodings held at most, in bytes: the statements of about 100,000 evidence cells. Each
/// entry also keeps its statement alive, about as large again, for as long as it is held.
pub const DEFAULT_MAX_BYTES: usize = 32 << 20;

pub struct StatementWires {
    known: RwLock<Known>,
    max_bytes: usize,
}

#[derive(Default)]
struct Known {
    by_address: HashMap<usize, Wire, FixedState>,
    bytes: usize,
}

struct Wire {
    /// Keeps the statement at its address while its encoding is held.
    statement: Arc<StoredStatement>,
    bytes: Box<[u8]>,
}

impl StatementWires {
    pub fn new(max_bytes: usize) -> StatementWires {
        StatementWires {
            known: RwLock::new(Known::default()),
            max_bytes,
        }
    }

    /// Runs `write` with a [`WireLookup`] that finds every statement encoded before and encodes
    /// the others with `encode`; those are remembered once `write` returns.
    pub fn answer<R>(
        &self,
        encode: fn(&StoredStatement, &mut Vec<u8>),
        write: impl FnOnce(&mut WireLookup<'_>) -> R,
    ) -> R {
        // A panic while holding the lock cannot leave a half-made entry (entries are built
        // before they are inserted), so a poisoned lock still holds good encodings.
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        let mut lookup = WireLookup {
            known,
            fresh: Vec::new(),
            encode,
        };
        let answer = write(&mut lookup);
        let WireLookup { known, fresh, .. } = lookup;
        drop(known);
        if !fresh.is_empty() {
            self.remember(fresh);
        }
        answer
    }

    fn remember(&self, fresh: Vec<Wire>) {
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        for wire in fresh {
            if wire.bytes.len() > self.max_bytes {
                continue;
            }
            if known.bytes + wire.bytes.len() > self.max_bytes {
                *known = Known::default();
            }
            let address = Arc::as_ptr(&wire.statement) as usize;
            let len = wire.bytes.len();
            if known.by_address.insert(address, wire).is_none() {
                known.bytes += len;
            }
        }
    }

    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        (known.by_address.len(), known.bytes)
    }
}

/// The encodings known when an answer began, and those it made.
pub struct WireLookup<'a> {
    known: RwLockReadGuard<'a, Known>,
    fresh: Vec<Wire>,
    encode: fn(&StoredStatement, &mut Vec<u8>),
}

impl WireLookup<'_> {
    /// Appends what `encode` writes for the statement.
    pub fn write(&mut self, statement: &Arc<StoredStatement>, buf: &mut Vec<u8>) {
        let address = Arc::as_ptr(statement) as usize;
        if let Some(wire) = self.known.by_address.get(&address) {
            buf.extend_from_slice(&wire.bytes);
            return;
        }
        let mut bytes = Vec::new();
        (self.encode)(statement, &mut bytes);
        buf.extend_from_slice(&bytes);
        self.fresh.push(Wire {
            statement: Arc::clone(statement),
            bytes: bytes.into_boxed_slice(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use communique_domain::{Act, Span, Speaker, Statement, StatementKind, TextField};

    fn statement(text: &str) -> Arc<StoredStatement> {
        Arc::new(StoredStatement {
            article_id: "a1".into(),
            published: None,
            statement: Statement {
                ordinal: 0,
                text: text.into(),
                kind: StatementKind::Direct,
                speaker: Speaker {
                    entity_id: None,
                    name: String::new(),
                },
                governments: Vec::new(),
                targets: Vec::new(),
                act: Act::Assert,
                span: Span {
                    field: TextField::Body,
                    start: 0,
                    end: 0,
                },
            },
        })
    }

    /// The text's bytes: enough to tell which statement was encoded.
    fn encode_text(statement: &StoredStatement, buf: &mut Vec<u8>) {
        buf.extend_from_slice(statement.statement.text.as_bytes());
    }

    fn written(wires: &StatementWires, statements: &[&Arc<StoredStatement>]) -> Vec<u8> {
        wires.answer(encode_text, |lookup| {
            let mut buf = Vec::new();
            for statement in statements {
                lookup.write(statement, &mut buf);
            }
            buf
        })
    }

    #[test]
    fn a_statement_is_encoded_once_and_then_reused() {
        static ENCODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        fn counting(statement: &StoredStatement, buf: &mut Vec<u8>) {
            ENCODED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            encode_text(statement, buf);
        }
        let wires = StatementWires::new(1 << 20);
        let (a, b) = (statement("abc"), statement("de"));
        let first = wires.answer(counting, |lookup| {
            let mut buf = Vec::new();
            lookup.write(&a, &mut buf);
            lookup.write(&b, &mut buf);
            lookup.write(&a, &mut buf);
            buf
        });
        assert_eq!(first, b"abcdeabc");
        assert_eq!(ENCODED.load(std::sync::atomic::Ordering::Relaxed), 3);
        assert_eq!(wires.held(), (2, 5));
        assert_eq!(written(&wires, &[&b, &a]), b"deabc");
        let again = wires.answer(counting, |lookup| {
            let mut buf = Vec::new();
            lookup.write(&b, &mut buf);
            buf
        });
        assert_eq!(again, b"de");
        assert_eq!(ENCODED.load(std::sync::atomic::Ordering::Relaxed), 3);
    }

    #[test]
    fn a_replaced_statement_is_encoded_anew() {
        let wires = StatementWires::new(1 << 20);
        let old = statement("before");
        assert_eq!(written(&wires, &[&old]), b"before");
        // The store replaces the statement: a new shared value, while the entry still holds
        // the old one, so the new one cannot have the old address.
        let new = statement("after");
        assert_eq!(written(&wires, &[&new]), b"after");
        assert_eq!(wires.held(), (2, 11));
    }

    #[test]
    fn past_the_limit_the_entries_are_dropped_and_answers_stay_right() {
        let wires = StatementWires::new(8);
        let (a, b, c) = (
            statement("aaaa"),
            statement("bbbbb"),
            statement("cccccccccc"),
        );
        assert_eq!(written(&wires, &[&a]), b"aaaa");
        assert_eq!(wires.held(), (1, 4));
        assert_eq!(written(&wires, &[&b]), b"bbbbb");
        assert_eq!(wires.held(), (1, 5));
        // Larger than the whole limit: served, never held.
        assert_eq!(written(&wires, &[&c, &a]), b"ccccccccccaaaa");
        assert_eq!(wires.held(), (1, 4));
    }
}

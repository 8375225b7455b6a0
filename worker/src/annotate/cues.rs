//! One case-insensitive automaton over the whole vocabulary of the lexicon: speech verbs,
//! stance cues, negators, victim markers, pronouns and clause breaks, matched in one pass.

use super::{HashMap, HashMapExt};

use super::lexicon::{
    CLAUSE_BREAKS, NEGATORS, PRONOUNS, SPEECH_VERBS, STANCE_CUES, VICTIM_MARKERS, VerbForm,
};
use super::text::{AnchoredMatcher, StartFilter, Word, at_word_boundaries, fold_name};

/// What a phrase of the vocabulary is; one phrase may be several things ("condemned").
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CueEntry {
    pub(crate) speech: Option<VerbForm>,
    /// Index into [`STANCE_CUES`].
    pub(crate) stance: Option<usize>,
    pub(crate) negator: bool,
    pub(crate) victim: bool,
    /// Index into [`PRONOUNS`].
    pub(crate) pronoun: Option<usize>,
    pub(crate) clause_break: bool,
}

/// A vocabulary match in folded offsets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CueMatch {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) entry: CueEntry,
}

pub(crate) struct CueMatcher {
    automaton: Option<AnchoredMatcher>,
    /// The byte pairs a phrase can start with, either case.
    starts: StartFilter,
    entries: Vec<CueEntry>,
}

impl CueMatcher {
    pub(crate) fn new() -> CueMatcher {
        let mut entries: HashMap<String, CueEntry> = HashMap::new();
        let mut add = |phrase: &str, update: &dyn Fn(&mut CueEntry)| {
            let folded = fold_name(phrase).to_lowercase();
            for variant in [folded.clone(), folded.replace('\'', "\u{2019}")] {
                update(entries.entry(variant).or_default());
            }
        };
        for &(phrase, form) in SPEECH_VERBS {
            add(phrase, &|e| e.speech = Some(form));
        }
        for (index, cue) in STANCE_CUES.iter().enumerate() {
            add(cue.phrase, &|e| e.stance = Some(index));
        }
        for phrase in NEGATORS {
            add(phrase, &|e| e.negator = true);
        }
        for phrase in VICTIM_MARKERS {
            add(phrase, &|e| e.victim = true);
        }
        for (index, phrase) in PRONOUNS.iter().enumerate() {
            add(phrase, &|e| e.pronoun = Some(index));
        }
        for phrase in CLAUSE_BREAKS {
            add(phrase, &|e| e.clause_break = true);
        }
        let mut list: Vec<(String, CueEntry)> = entries.into_iter().collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let starts = StartFilter::new(list.iter().map(|(p, _)| p.as_str()), true);
        let automaton = AnchoredMatcher::new(list.iter().map(|(p, _)| p.as_str()), true);
        CueMatcher {
            automaton,
            starts,
            entries: list.into_iter().map(|(_, e)| e).collect(),
        }
    }

    pub(crate) fn scan(&self, text: &str, words: &[Word]) -> Vec<CueMatch> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let mut matches = Vec::with_capacity(text.len() / 40);
        let bytes = text.as_bytes();
        let mut resume = 0;
        // Every phrase starts a word: anchored searches at word starts only.
        for word in words {
            if word.start < resume || !self.starts.may_start(bytes, word.start) {
                continue;
            }
            let Some((pattern, end)) = automaton.longest_at(bytes, word.start) else {
                continue;
            };
            let range = word.start..end;
            // "continued:" carries its colon; its boundary is checked on the word.
            let word_end = if text.get(range.clone()).is_some_and(|s| s.ends_with(':')) {
                range.end - 1
            } else {
                range.end
            };
            if !at_word_boundaries(text, &(range.start..word_end)) {
                continue;
            }
            if let Some(entry) = self.entries.get(pattern) {
                resume = range.end;
                matches.push(CueMatch {
                    start: range.start,
                    end: word_end,
                    entry: *entry,
                });
            }
        }
        matches
    }
}

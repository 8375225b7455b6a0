//! Statements and their speakers. Quotes are attributed from the words before them
//! ("X said: '…'", "X said the talks 'failed'") or after them ("'…,' he said", "'…,' said X");
//! quotes that run over paragraphs, or follow a quote by the same speaker, inherit its speaker;
//! sentences with a speech verb and no quote become reported (indirect) statements.
//!
//! A speaker is a known or article-introduced entity (a person, an organisation, or a state
//! named by its capital or seat of government), a group of people speaking jointly, or a
//! description of an unnamed one ("a No 10 spokesman"), which speaks for the government its
//! words name when it is an official one.

use super::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem;

use communique_domain::{
    Act, Affiliation, Date, EntityKind, Government, Speaker, StatementKind, TextField,
};

use super::cues::CueMatch;
use super::entities::{
    Anchor, EntityRef, Found, contains_not_in_office, contains_official_role, contains_phrase,
    preceded_by_not_in_office,
};
use super::lexicon::{
    ADVERBIAL_OPENERS, AUDIENCE_NOUNS, AUXILIARY_WORDS_SET, BODY_ANAPHOR_HEADS,
    CLAUSE_OPENING_PREPOSITIONS, CLAUSE_WORDS, COMPANY_ANAPHOR_HEADS, DESCRIPTION_HEADS_SET,
    DESCRIPTION_OBJECT_PREPOSITIONS, INTRO_WORDS_SET, LEADING_CONJUNCTIONS, OBJECT_PREPOSITIONS,
    OBJECT_PREPOSITIONS_SET, OFFICIAL_ROLE_NOUNS_SET, OUTLET_NOUNS, PERSON_HEADS_SET, PRONOUNS,
    REPORTING_ADVERBIAL_OPENERS, SCENE_PARTICIPLES, SCENE_PAST_PARTICIPLES, TITLE_WORDS_SET,
    UNNAMED_ROLE_HEADS, VerbForm, contains_word,
};
use super::quotes::Quote;
use super::text::{Word, at_word_boundaries};
use super::{Context, Field, cues_within, entity_identity, entity_kind, salience};

/// Who spoke, before it is turned into a [`Speaker`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SpeakerRef {
    Entity {
        entity: EntityRef,
        anchor: Anchor,
        /// "former foreign secretary X": the text says the person is out of office.
        out_of_office: bool,
    },
    Group(Vec<SpeakerRef>),
    Description {
        text: String,
        governments: Vec<String>,
        head: String,
    },
}

impl SpeakerRef {
    fn is_person(&self, context: &Context<'_>) -> bool {
        match self {
            SpeakerRef::Entity { entity, .. } => {
                entity_kind(context, *entity).is_some_and(|k| k == EntityKind::Person)
            }
            _ => false,
        }
    }
}

/// A statement before its offsets are mapped back to the source.
pub(crate) struct Draft {
    pub(crate) field: usize,
    pub(crate) range: Range<usize>,
    pub(crate) kind: StatementKind,
    pub(crate) speaker: SpeakerRef,
    /// The words that name the speaker: not targets of the statement.
    pub(crate) speaker_region: Range<usize>,
    /// The speech verb that introduced the statement.
    pub(crate) verb: Option<CueMatch>,
    pub(crate) targets: Vec<(EntityRef, f32)>,
    pub(crate) act: Act,
}

/// How a quote is attributed.
#[derive(Clone, Debug)]
struct Attribution {
    speaker: SpeakerRef,
    speaker_region: Range<usize>,
    verb: Option<CueMatch>,
    /// `None`: the quote is the statement. `Some(range)`: the quote sits inside reported
    /// speech and the whole reported clause is the statement.
    clause: Option<Range<usize>>,
}

/// Who the pronouns of the next sentences can refer to.
#[derive(Default)]
struct Memory {
    person: Option<SpeakerRef>,
    /// The sentence the person was last the subject or speaker in.
    person_sentence: usize,
    /// The last person or one-person description ("a No 10 spokesman"): "he", "she".
    singular: Option<SpeakerRef>,
    group: Option<SpeakerRef>,
    thing: Option<SpeakerRef>,
    descriptions: Vec<SpeakerRef>,
    /// The attribution of the last quote, the paragraph it ended in, and whether it never closed.
    last_quote: Option<(Attribution, usize, bool)>,
    /// The index of the sentence being read.
    sentence: usize,
}

impl Memory {
    fn note(&mut self, context: &Context<'_>, speaker: &SpeakerRef) {
        match speaker {
            SpeakerRef::Group(_) => self.group = Some(speaker.clone()),
            SpeakerRef::Description { head, .. } => {
                self.descriptions.push(speaker.clone());
                if PERSON_HEADS_SET.contains(head) {
                    self.singular = Some(speaker.clone());
                } else {
                    self.thing = Some(speaker.clone());
                }
            }
            SpeakerRef::Entity { .. } if speaker.is_person(context) => {
                self.person = Some(speaker.clone());
                self.person_sentence = self.sentence;
                self.singular = Some(speaker.clone());
            }
            SpeakerRef::Entity { .. } => self.thing = Some(speaker.clone()),
        }
    }
}

/// Speech verbs that only report: the statement is what follows them.
fn is_neutral_verb(field: &Field<'_>, verb: &CueMatch) -> bool {
    let word = field.lower.get(verb.start..verb.end).unwrap_or("");
    matches!(
        word,
        "said"
            | "says"
            | "say"
            | "saying"
            | "told"
            | "tells"
            | "added"
            | "adds"
            | "adding"
            | "wrote"
            | "writes"
            | "tweeted"
            | "tweets"
            | "noted"
            | "notes"
            | "noting"
            | "according to"
            | "continued:"
            | "announced"
            | "announces"
            | "stressed"
            | "stresses"
            | "stressing"
            | "insisted"
            | "insists"
            | "insisting"
            | "claimed"
            | "claims"
            | "claiming"
            | "argued"
            | "argues"
            | "explained"
            | "declared"
            | "asserted"
            | "suggested"
            | "reiterated"
            | "emphasised"
            | "emphasized"
            | "confirmed"
            | "responded"
            | "replied"
            | "pointed out"
            | "acknowledged"
            | "admitted"
            | "predicted"
    )
}

pub(crate) fn find_statements(
    context: &Context<'_>,
    field: &Field<'_>,
    field_index: usize,
    drafts: &mut Vec<Draft>,
) {
    let quotes = &field.quotes;
    let verbs: Vec<CueMatch> = field
        .cues
        .iter()
        .filter(|c| c.entry.speech.is_some())
        .filter(|c| !inside_quote_content(quotes, c))
        .copied()
        .collect();
    let mut attributions: Vec<Option<Attribution>> = vec![None; quotes.len()];
    let mut absorbed = vec![false; quotes.len()];
    let mut memory = Memory::default();
    let mut quote_cursor = 0;
    for (sentence_index, sentence) in field.sentences.iter().enumerate() {
        memory.sentence = sentence_index;
        let mut said_something = false;
        let first_quote = quote_cursor;
        while quote_cursor < quotes.len() && quotes[quote_cursor].open < sentence.end {
            quote_cursor += 1;
        }
        let mut used_verbs: Vec<usize> = Vec::new();
        for quote_index in first_quote..quote_cursor {
            if absorbed[quote_index] {
                continue;
            }
            let quote = &quotes[quote_index];
            let mut attribution = attribute_quote(context, field, sentence, quote, &verbs, &memory);
            if attribution.is_none() {
                attribution = inherit(field, sentence, quotes, quote_index, &attributions, &memory);
            }
            let Some(attribution) = attribution else {
                continue;
            };
            if let Some(clause) = &attribution.clause {
                for (other, q) in quotes.iter().enumerate() {
                    if clause.start <= q.open && q.open < clause.end {
                        absorbed[other] = true;
                    }
                }
            }
            let paragraph = paragraph_of(field, quote.content.end);
            memory.last_quote = Some((attribution.clone(), paragraph, !quote.closed));
            if let Some(verb) = &attribution.verb {
                used_verbs.push(verb.start);
            }
            memory.note(context, &attribution.speaker);
            said_something = true;
            attributions[quote_index] = Some(attribution);
        }
        // `quotes.iter().any(|q| q.open < sentence.end && q.close > sentence.start)`: the
        // quotes opening before the sentence's end are the first `quote_cursor`, and of those
        // the last closes latest (quotes come in text order, none overlapping).
        let sentence_has_quote = quote_cursor
            .checked_sub(1)
            .and_then(|last| quotes.get(last))
            .is_some_and(|q| q.close > sentence.start);
        if !sentence_has_quote
            && let Some(draft) =
                reported_statement(context, field, field_index, sentence, &verbs, &memory)
        {
            memory.note(context, &draft.speaker);
            said_something = true;
            drafts.push(draft);
        }
        if !said_something {
            note_sentence_subject(context, field, sentence, &mut memory);
        }
    }
    // A quote whose group got its speaker only later (attribution after the last paragraph).
    for index in 0..quotes.len() {
        if attributions[index].is_none() && !absorbed[index] {
            let group = quotes[index].group;
            let later = (index + 1..quotes.len())
                .take_while(|&j| quotes[j].group == group)
                .find_map(|j| attributions[j].clone().filter(|a| a.clause.is_none()));
            attributions[index] = later;
        }
    }
    for (quote, attribution) in quotes.iter().zip(attributions) {
        let Some(attribution) = attribution else {
            continue;
        };
        match &attribution.clause {
            Some(clause) => {
                if drafts
                    .iter()
                    .any(|d| d.field == field_index && d.range == *clause)
                {
                    continue;
                }
                drafts.push(Draft {
                    field: field_index,
                    range: clause.clone(),
                    kind: StatementKind::Indirect,
                    speaker: attribution.speaker.clone(),
                    speaker_region: attribution.speaker_region.clone(),
                    verb: attribution.verb,
                    targets: Vec::new(),
                    act: Act::Assert,
                });
            }
            None => {
                for piece in quote_sentences(field, quote) {
                    drafts.push(Draft {
                        field: field_index,
                        range: piece,
                        kind: StatementKind::Direct,
                        speaker: attribution.speaker.clone(),
                        speaker_region: attribution.speaker_region.clone(),
                        verb: attribution.verb,
                        targets: Vec::new(),
                        act: Act::Assert,
                    });
                }
            }
        }
    }
}

/// Whether a cue lies inside the words of a quote: `quotes.iter().any(|q| q.content.start <=
/// cue.start && cue.end <= q.content.end)`, asking only the last quote whose words start at
/// or before the cue (quotes come in text order, none overlapping).
fn inside_quote_content(quotes: &[Quote], cue: &CueMatch) -> bool {
    let before = quotes.partition_point(|q| q.content.start <= cue.start);
    before
        .checked_sub(1)
        .and_then(|last| quotes.get(last))
        .is_some_and(|q| cue.end <= q.content.end)
}

fn paragraph_of(field: &Field<'_>, offset: usize) -> usize {
    field.paragraphs.partition_point(|p| p.end < offset)
}

/// The sentences of a direct quote, each trimmed of spaces and dangling commas.
fn quote_sentences(field: &Field<'_>, quote: &Quote) -> Vec<Range<usize>> {
    let text = field.text();
    let mut pieces = Vec::new();
    let first = field
        .sentences
        .partition_point(|s| s.end <= quote.content.start);
    for sentence in field.sentences.get(first..).unwrap_or(&[]) {
        if sentence.start >= quote.content.end {
            break;
        }
        let start = sentence.start.max(quote.content.start);
        let end = sentence.end.min(quote.content.end);
        if let Some(range) = trim_range(text, start..end)
            && text
                .get(range.clone())
                .is_some_and(|s| s.chars().filter(|c| c.is_alphanumeric()).nth(1).is_some())
        {
            pieces.push(range);
        }
    }
    pieces
}

/// Trims white space, quote marks and trailing commas from both ends of a range.
fn trim_range(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let slice = text.get(range.clone())?;
    let is_trim = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' | '\''
            )
    };
    let trimmed_start =
        slice.trim_start_matches(|c: char| is_trim(c) || matches!(c, ',' | ':' | ';'));
    let start = range.start + (slice.len() - trimmed_start.len());
    let trimmed = trimmed_start.trim_end_matches(|c: char| is_trim(c) || c == ',');
    let end = start + trimmed.len();
    (start < end).then_some(start..end)
}

fn words_in<'w>(field: &'w Field<'_>, range: &Range<usize>) -> &'w [Word] {
    let first = field.words_before(range.start);
    let last = field.words_before(range.end);
    field.words.get(first..last.max(first)).unwrap_or(&[])
}

fn word_text<'t>(field: &'t Field<'_>, word: &Word) -> &'t str {
    field.text().get(word.start..word.end).unwrap_or("")
}

/// `word_text(field, word).to_ascii_lowercase()` without allocating.
fn lower_word_text<'t>(field: &'t Field<'_>, word: &Word) -> &'t str {
    field.lower.get(word.start..word.end).unwrap_or("")
}

fn sentence_of<'s>(field: &'s Field<'_>, offset: usize) -> Option<&'s Range<usize>> {
    let index = field.sentences.partition_point(|s| s.end <= offset);
    field.sentences.get(index)
}

fn attribute_quote(
    context: &Context<'_>,
    field: &Field<'_>,
    sentence: &Range<usize>,
    quote: &Quote,
    verbs: &[CueMatch],
    memory: &Memory,
) -> Option<Attribution> {
    let text = field.text();
    let pre = sentence.start.min(quote.open)..quote.open;
    let quote_at_start = !text
        .get(pre.clone())
        .unwrap_or("")
        .chars()
        .any(char::is_alphanumeric);
    let close_sentence = sentence_of(field, quote.close.saturating_sub(1))
        .cloned()
        .unwrap_or(sentence.clone());
    // The first quote opening at or after this one's close (quotes come in text order).
    let next_open = field
        .quotes
        .get(field.quotes.partition_point(|q| q.open < quote.close))
        .map_or(usize::MAX, |q| q.open);
    let post = quote.close..close_sentence.end.max(quote.close).min(next_open);
    let post_verb = cues_within(verbs, post.start, post.end)
        .next()
        .filter(|v| words_in(field, &(post.start..v.start)).len() <= 12)
        .copied();
    let pre_verb = cues_within(verbs, pre.start, pre.end)
        .rfind(|v| {
            !field
                .quotes
                .iter()
                .any(|q| q.open <= v.start && v.end <= q.close)
        })
        .copied();

    let from_post = |clause: Option<Range<usize>>| -> Option<Attribution> {
        let verb = post_verb?;
        let (speaker, region) = post_speaker(context, field, &post, &verb, memory)?;
        Some(Attribution {
            speaker,
            speaker_region: region,
            verb: Some(verb),
            clause,
        })
    };
    // "..., Mr Thomas said." closing the sentence names the speaker of all of it.
    let final_attribution = post_verb.is_some_and(|v| {
        v.entry.speech == Some(VerbForm::Finite)
            && text
                .get(post.start..v.start)
                .is_some_and(|s| s.trim_start().starts_with(','))
            && words_in(field, &(v.end..close_sentence.end.max(v.end))).len() <= 6
    });
    if quote_at_start || pre_verb.is_none() || final_attribution {
        let clause = (!quote_at_start).then_some(sentence.start..quote.close);
        let clause = clause.and_then(|c| trim_range(text, c));
        if let Some(attribution) = from_post(if quote_at_start { None } else { clause }) {
            return Some(attribution);
        }
    }
    let verb = pre_verb?;
    let (speaker, region, passive) = subject_of(context, field, sentence, &verb, memory)?;
    let gap = text.get(verb.end..quote.open).unwrap_or("").trim();
    let rest_of_sentence = text
        .get(quote.close..close_sentence.end.max(quote.close))
        .unwrap_or("");
    // A quote left open (at its paragraph's end, or where the next sentence reopens it,
    // "... once were. "What the book says ...") runs to the end of what was said.
    let ends_clause = !quote.closed
        || !rest_of_sentence.chars().any(char::is_alphanumeric)
        || post_verb.is_some_and(|v| words_in(field, &(quote.close..v.start)).len() <= 3);
    let direct = !passive && (gap.is_empty() || gap.ends_with(':') || gap == ",") && ends_clause;
    let clause = if direct {
        None
    } else if passive {
        trim_range(text, sentence.clone())
    } else {
        clause_after(field, &verb, sentence)
    };
    Some(Attribution {
        speaker,
        speaker_region: region,
        verb: Some(verb),
        clause,
    })
}

/// The reported clause of a speech verb: from the verb on for verbs that carry a stance
/// ("condemned the attack"), after it for verbs that only report ("said that ...").
fn clause_after(
    field: &Field<'_>,
    verb: &CueMatch,
    sentence: &Range<usize>,
) -> Option<Range<usize>> {
    let text = field.text();
    let mut start = if is_neutral_verb(field, verb) {
        verb.end
    } else {
        verb.start
    };
    if start == verb.end {
        let rest = text.get(start..sentence.end.max(start)).unwrap_or("");
        // "said on Tuesday that ...", "told reporters that ...": the clause follows "that".
        let that = complementizer_end(field, verb, start..sentence.end.max(start));
        let trimmed_rest = rest.trim_start();
        let skipped = rest.len() - trimmed_rest.len();
        if let Some(after_that) = that {
            start = after_that;
        } else if trimmed_rest.starts_with(": ") || trimmed_rest.starts_with(", ") {
            start += skipped + 2;
        } else if let Some(addressee_end) = addressee_end(field, verb, start + skipped) {
            // "told Reuters the firm lost ...": the clause follows whom it was told.
            start = addressee_end;
        }
    }
    let end = sentence.end.max(start);
    let range = trim_range(text, start..end)?;
    let trimmed_end = text.get(range.clone()).map_or(range.end, |s| {
        range.start + s.trim_end_matches(['.', ',', ';']).len()
    });
    let trimmed_end = range.start + source_tail_start(text.get(range.start..trimmed_end)?);
    (range.start < trimmed_end).then_some(range.start..trimmed_end)
}

/// Where a closing mention of the source starts in what was said, or its length when it has
/// none: "..., according to Mehr news agency", "..., IRNA reported". The speaker said the
/// words before it; the outlet only passed them on.
fn source_tail_start(said: &str) -> usize {
    const TAIL_WORDS: usize = 8;
    let Some(comma) = said.rfind(", ") else {
        return said.len();
    };
    let tail = said.get(comma + 2..).unwrap_or("");
    let words: Vec<&str> = tail.split_whitespace().collect();
    let according = tail.starts_with("according to ");
    let reported = words.len() <= 5
        && words.last() == Some(&"reported")
        && words
            .first()
            .is_some_and(|w| w.starts_with(|c: char| c.is_uppercase()) || *w == "the");
    let quote_free = !tail.contains(['"', '\u{201c}', '\u{201d}']);
    if (according || reported) && words.len() <= TAIL_WORDS && quote_free {
        comma
    } else {
        said.len()
    }
}

/// Where the "that" opening a reporting verb's clause ends. Near the verb, any "that" ("said on
/// Tuesday that"); further, up to twelve words, only after an addressee or adverbials unbroken
/// by punctuation or a clause of their own ("told US TV network Fox News on Sunday that", "said in an interview with CNN
/// on Sunday that"): past a comma, or after an object, a "that" more often opens a later
/// clause ("said the deal, which ... that").
fn complementizer_end(
    field: &Field<'_>,
    verb: &CueMatch,
    after_verb: Range<usize>,
) -> Option<usize> {
    const NEAR_WORDS: usize = 6;
    const FAR_WORDS: usize = 12;
    let words = words_in(field, &after_verb);
    let is_that = |word: &&Word| lower_word_text(field, word) == "that";
    if let Some(that) = words.iter().take(NEAR_WORDS).find(is_that) {
        return Some(that.end);
    }
    let verb_word = field.lower.get(verb.start..verb.end).unwrap_or("");
    let takes_addressee = matches!(verb_word, "told" | "tells");
    let opens_adverbial = words.first().is_some_and(|first| {
        contains_word(REPORTING_ADVERBIAL_OPENERS, lower_word_text(field, first))
    });
    if !(takes_addressee || opens_adverbial) {
        return None;
    }
    let text = field.text();
    let mut previous_end = after_verb.start;
    let mut previous: Option<&str> = None;
    for word in words.iter().take(FAR_WORDS) {
        let gap = text.get(previous_end..word.start).unwrap_or(",");
        if gap.contains([
            ',', ';', ':', '"', '\u{201c}', '\u{201d}', '(', ')', '!', '?',
        ]) {
            return None;
        }
        let lower = lower_word_text(field, word);
        if lower == "that" {
            return Some(word.end);
        }
        // "said in a statement on Sunday the agreement that Iran signed was dead": a noun
        // phrase not after a preposition (or the verb) is the object, the "that" its own.
        let opens_object = matches!(
            word_text(field, word),
            "a" | "an" | "the" | "his" | "her" | "its" | "their"
        ) && previous.is_some_and(|p| {
            !OBJECT_PREPOSITIONS_SET.contains(p) && p != "during" && !p.ends_with("ing")
        });
        if contains_word(CLAUSE_WORDS, lower) || opens_object {
            return None;
        }
        previous_end = word.end;
        previous = Some(lower);
    }
    None
}

/// Where the addressee of "told" / "tells" ends when a name or a plural audience follows the
/// verb ("told Reuters", "told the BBC", "told reporters").
fn addressee_end(field: &Field<'_>, verb: &CueMatch, from: usize) -> Option<usize> {
    const AUDIENCE_WORDS: usize = 5;
    let text = field.text();
    let verb_word = field.lower.get(verb.start..verb.end)?;
    if !matches!(verb_word, "told" | "tells") {
        return None;
    }
    let rest = text.get(from..)?;
    let after_article = rest.strip_prefix("the ").map_or(from, |_| from + 4);
    if let Some(found) = field.found.iter().find(|f| f.start == after_article) {
        return Some(found.end);
    }
    // "told reporters", "told his monthly press conference", "told Labour members": a few
    // words unbroken by punctuation ending in an audience, not followed by "of" ("told members
    // of the committee" may go on past where this could tell).
    // An outlet ("told the newspaper workers had not been paid") or a pronoun ("told him
    // reporters were barred") ends it before an audience noun could: that one is the subject.
    let words = words_in(field, &(from..text.len()));
    let mut previous_end = from;
    for (index, word) in words.iter().enumerate().take(AUDIENCE_WORDS) {
        if text
            .get(previous_end..word.start)
            .is_none_or(|gap| gap.trim() != "")
        {
            return None;
        }
        let lower = lower_word_text(field, word);
        let next = words.get(index + 1).map(|w| lower_word_text(field, w));
        if index == 0 && matches!(lower, "him" | "her" | "them" | "us" | "me" | "you") {
            return Some(word.end);
        }
        if contains_word(OUTLET_NOUNS, lower) {
            // "a local radio station", "a radio interviewer": to the last noun.
            return match next {
                Some(n) if contains_word(OUTLET_NOUNS, n) || n == "interviewer" => {
                    words.get(index + 1).map(|w| w.end)
                }
                _ => Some(word.end),
            };
        }
        if contains_word(AUDIENCE_NOUNS, lower) {
            return (next != Some("of")).then_some(word.end);
        }
        if contains_word(CLAUSE_WORDS, lower) {
            return None;
        }
        previous_end = word.end;
    }
    None
}

/// A speaker after a quote: "'…,' he said", "'…,' said Iran's leader, Ali Khamenei".
fn post_speaker(
    context: &Context<'_>,
    field: &Field<'_>,
    post: &Range<usize>,
    verb: &CueMatch,
    memory: &Memory,
) -> Option<(SpeakerRef, Range<usize>)> {
    let text = field.text();
    let before = post.start..verb.start;
    let has_words = text
        .get(before.clone())
        .unwrap_or("")
        .chars()
        .any(char::is_alphanumeric);
    if has_words && verb.entry.speech != Some(VerbForm::AccordingTo) {
        let region = strip_auxiliaries(field, before);
        return speaker_in(context, field, &region, memory).map(|s| (s, region));
    }
    // Inverted: "said X" or "according to X", up to the end of the sentence.
    let after_end = text
        .get(verb.end..post.end.max(verb.end))
        .and_then(|rest| rest.find(['.', ';', '(']).map(|i| verb.end + i))
        .unwrap_or(post.end);
    let region = verb.end..after_end.max(verb.end);
    speaker_in(context, field, &region, memory).map(|s| (s, region))
}

/// Removes trailing auxiliaries and adverbs ("has also", "had previously") from a region.
fn strip_auxiliaries(field: &Field<'_>, region: Range<usize>) -> Range<usize> {
    let stripped = strip_trailing_auxiliaries(field, region.clone());
    // "The ministry issued a statement saying ...": the subject is who issued it.
    match issued_document_start(field, &stripped) {
        Some(verb_start) => strip_trailing_auxiliaries(field, region.start..verb_start),
        None => stripped,
    }
}

fn strip_trailing_auxiliaries(field: &Field<'_>, region: Range<usize>) -> Range<usize> {
    let words = words_in(field, &region);
    let mut end = region.end;
    for word in words.iter().rev() {
        let w = lower_word_text(field, word);
        if AUXILIARY_WORDS_SET.contains(w) || (w.ends_with("ly") && w.len() > 4) {
            end = word.start;
        } else {
            break;
        }
    }
    region.start..end
}

/// Where "issued a statement", "released a joint report" starts when a region ends with it.
fn issued_document_start(field: &Field<'_>, region: &Range<usize>) -> Option<usize> {
    let words = words_in(field, region);
    let mut lower = words
        .iter()
        .rev()
        .map(|w| (w.start, lower_word_text(field, w)));
    let (_, noun) = lower.next()?;
    if !matches!(
        noun,
        "statement" | "report" | "communique" | "communiqué" | "message" | "letter"
    ) {
        return None;
    }
    let (_, mut determiner) = lower.next()?;
    if matches!(
        determiner,
        "joint" | "written" | "brief" | "short" | "separate"
    ) {
        determiner = lower.next()?.1;
    }
    if !matches!(determiner, "a" | "an" | "its" | "their" | "his" | "her") {
        return None;
    }
    let (verb_start, verb) = lower.next()?;
    matches!(
        verb,
        "issued" | "released" | "published" | "sent" | "posted" | "made" | "issues" | "releases"
    )
    .then_some(verb_start)
}

/// The subject of a speech verb inside a sentence. Returns the speaker, the words that name
/// it, and whether the verb is passive ("was described by X as ...").
fn subject_of(
    context: &Context<'_>,
    field: &Field<'_>,
    sentence: &Range<usize>,
    verb: &CueMatch,
    memory: &Memory,
) -> Option<(SpeakerRef, Range<usize>, bool)> {
    let text = field.text();
    if verb.entry.speech == Some(VerbForm::AccordingTo) {
        let rest = text.get(verb.end..sentence.end.max(verb.end)).unwrap_or("");
        let end = rest
            .find([',', '.', ';'])
            .map_or(sentence.end, |i| verb.end + i);
        let region = verb.end..end;
        return speaker_in(context, field, &region, memory).map(|s| (s, region, false));
    }
    // "X said ..., adding ...": a participle shares the subject of the sentence's verb.
    if verb.entry.speech == Some(VerbForm::Participle)
        && let Some(main) = field
            .cues_within(sentence.start, verb.start)
            .find(|c| matches!(c.entry.speech, Some(VerbForm::Finite)))
        && let Some(found) = subject_of(context, field, sentence, main, memory)
    {
        return Some(found);
    }
    let region = strip_auxiliaries(field, sentence.start..verb.start);
    let words = words_in(field, &region);
    let last_word = words.last().map(|w| lower_word_text(field, w));
    // Passive: "was once described by X as".
    let before_verb = words_in(field, &(sentence.start..verb.start));
    let passive = before_verb.iter().rev().take(3).any(|w| {
        matches!(
            word_text(field, w),
            "was" | "were" | "been" | "is" | "are" | "be"
        )
    }) && text
        .get(verb.start..verb.end)
        .is_some_and(|v| v.ends_with("ed") || v == "told");
    // Headlines drop the auxiliary and put the active in the present ("Zarif warns US"):
    // "Zarif warned over remarks", "Blair told to double aid" are passives.
    let headline_passive = field.id == TextField::Title
        && text
            .get(verb.start..verb.end)
            .is_some_and(|v| v.ends_with("ed") || v == "told")
        && text.get(verb.end..).is_some_and(|rest| {
            [
                " over ",
                " to ",
                " for ",
                " on ",
                " about ",
                " by ",
                " after ",
                " against ",
            ]
            .iter()
            .any(|preposition| rest.starts_with(preposition))
        });
    let passive = passive || headline_passive;
    if passive {
        let rest = text.get(verb.end..sentence.end.max(verb.end)).unwrap_or("");
        if let Some(after_by) = rest.strip_prefix(" by ") {
            let stop = after_by
                .find([',', '.', ';', '"', '\u{201c}', '\u{2018}'])
                .unwrap_or(after_by.len());
            let stop = after_by
                .get(..stop)
                .and_then(|s| s.find(" as ").or(Some(s.len())))
                .unwrap_or(stop);
            let start = verb.end + 4;
            let agent = start..start + stop;
            return speaker_in(context, field, &agent, memory).map(|s| (s, agent, true));
        }
        // "On Iranian state television, the killing was described as ...".
        let intro_end = text
            .get(sentence.start..verb.start)
            .and_then(|s| s.find(',').map(|i| sentence.start + i))?;
        let intro = sentence.start..intro_end;
        let speaker = speaker_in(context, field, &intro, memory)?;
        return Some((speaker, intro, true));
    }
    // "Mr Trump, who told ...": the antecedent of the relative pronoun.
    if matches!(last_word, Some("who")) {
        let who = words.last()?;
        let antecedent = field
            .found
            .iter()
            .rfind(|f| f.end <= who.start && f.start >= sentence.start)?;
        let speaker = entity_speaker(field, antecedent);
        return Some((speaker, antecedent.start..antecedent.end, false));
    }
    let clause = clause_start(field, sentence, &region, verb.entry.speech);
    let subject = clause..region.end.max(clause);
    speaker_in(context, field, &subject, memory).map(|s| (s, subject, false))
}

/// Where the clause holding a subject starts: after the last clause boundary before it and
/// after an introductory phrase ("In a joint statement, ...").
/// `head.rfind([';', ':', '\u{2013}', '\u{2014}', '\u{201d}', '"'])`, by bytes: the three
/// ASCII marks with memrchr3, the three led by 0xE2 (E2 80 93/94/9D) by their lead byte.
fn last_clause_mark(head: &str) -> Option<usize> {
    let bytes = head.as_bytes();
    let ascii = memchr::memrchr3(b';', b':', b'"', bytes);
    let mut end = bytes.len();
    let mut wide = None;
    while let Some(lead) = bytes.get(..end).and_then(|b| memchr::memrchr(0xE2, b)) {
        if ascii.is_some_and(|a| a > lead) {
            break;
        }
        if matches!(
            bytes.get(lead + 1..lead + 3),
            Some([0x80, 0x93 | 0x94 | 0x9d])
        ) {
            wide = Some(lead);
            break;
        }
        end = lead;
    }
    ascii.max(wide)
}

fn clause_start(
    field: &Field<'_>,
    sentence: &Range<usize>,
    region: &Range<usize>,
    form: Option<VerbForm>,
) -> usize {
    let text = field.text();
    let head = text.get(region.clone()).unwrap_or("");
    let mut start = region.start;
    if let Some(boundary) = last_clause_mark(head) {
        let boundary_char_len = head[boundary..].chars().next().map_or(1, char::len_utf8);
        if form != Some(VerbForm::Participle) {
            start = region.start + boundary + boundary_char_len;
        }
    }
    // Quotes that end inside the region bound the clause too: the last one to end there
    // (quotes come in text order, none overlapping, so their ends are in order as well).
    let ended = field.quotes.partition_point(|q| q.close <= region.end);
    if let Some(quote) = ended.checked_sub(1).and_then(|last| field.quotes.get(last))
        && quote.close > start
        && quote.close >= sentence.start
    {
        start = quote.close;
    }
    let words = words_in(field, &(start..region.end));
    if let Some(first) = words.first() {
        let first_word = lower_word_text(field, first);
        if INTRO_WORDS_SET.contains(first_word)
            && let Some(comma) = text.get(first.end..region.end).and_then(|s| s.find(','))
        {
            start = first.end + comma + 1;
        }
    }
    start
}

fn entity_speaker(field: &Field<'_>, found: &Found) -> SpeakerRef {
    SpeakerRef::Entity {
        entity: found.entity,
        anchor: found.anchor,
        out_of_office: preceded_by_not_in_office(field, found.start),
    }
}

fn is_possessive(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or("");
    rest.starts_with("'s") || rest.starts_with("\u{2019}s") || rest.starts_with("s'")
}

/// Whether a mention is the object of a preposition ("ambassador to the UK").
fn is_object(field: &Field<'_>, found: &Found, region_start: usize) -> bool {
    is_object_of(field, found, region_start, OBJECT_PREPOSITIONS)
}

/// Inside a description "in", "of", "for", "at" and "from" say whose official it is.
fn is_description_object(field: &Field<'_>, found: &Found, region_start: usize) -> bool {
    is_object_of(field, found, region_start, DESCRIPTION_OBJECT_PREPOSITIONS)
}

fn is_object_of(
    field: &Field<'_>,
    found: &Found,
    region_start: usize,
    prepositions: &[&str],
) -> bool {
    let words = words_in(field, &(region_start..found.start));
    for (index, word) in words.iter().enumerate().rev() {
        let w = word_text(field, word);
        let lower = lower_word_text(field, word);
        if matches!(lower, "the" | "a" | "an") || TITLE_WORDS_SET.contains(w) {
            continue;
        }
        // "Secretary of State Mike Pompeo": "of" inside a title.
        let in_title = lower == "of"
            && index
                .checked_sub(1)
                .and_then(|i| words.get(i))
                .is_some_and(|before| {
                    let before = word_text(field, before);
                    TITLE_WORDS_SET.contains(before)
                        || PERSON_HEADS_SET.contains(&before.to_ascii_lowercase())
                });
        if in_title {
            continue;
        }
        if field
            .found
            .iter()
            .any(|f| f.start <= word.start && word.end <= f.end)
        {
            continue;
        }
        return contains_word(prepositions, lower);
    }
    false
}

/// Whether a mention after "after" or "before" is the subject of the clause they open, not
/// their object: nothing but the verb follows it ("It came after Donald Trump said", where
/// "after the talks, Trump said" is read past its comma).
fn opens_subordinate_clause(field: &Field<'_>, found: &Found, region: &Range<usize>) -> bool {
    field
        .text()
        .get(found.end..region.end)
        .is_some_and(|gap| gap.trim().is_empty())
        && is_object_of(field, found, region.start, CLAUSE_OPENING_PREPOSITIONS)
}

fn is_person_mention(context: &Context<'_>, found: &Found) -> bool {
    entity_kind(context, found.entity).is_some_and(|kind| kind == EntityKind::Person)
}

/// Ranges of relative clauses (", who will raise ...,") inside a region: the people they
/// name are not the subject.
/// Searchers for the relative-clause markers, built once: a `str::find` builds its searcher on
/// every call, and this runs for every speaker region.
static RELATIVE_MARKERS: LazyLock<[memmem::Finder<'static>; 4]> =
    LazyLock::new(|| [", who ", ", which ", ", whose ", " who "].map(memmem::Finder::new));

/// What every relative-clause marker holds: a region without it has no relative clause, and
/// most regions are turned away by this one search instead of four.
static RELATIVE_MARKER_CORE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(" wh"));

/// Builds the relative-clause searchers now, with the annotator, not in the first article.
pub(crate) fn build_relative_markers() {
    LazyLock::force(&RELATIVE_MARKERS);
    LazyLock::force(&RELATIVE_MARKER_CORE);
}

fn relative_clauses(text: &str, region: &Range<usize>) -> Vec<Range<usize>> {
    let slice = text.get(region.clone()).unwrap_or("");
    let mut clauses = Vec::new();
    if RELATIVE_MARKER_CORE.find(slice.as_bytes()).is_none() {
        return clauses;
    }
    for marker in RELATIVE_MARKERS.iter() {
        let marker_len = marker.needle().len();
        let mut from = 0;
        while let Some(found) = slice
            .get(from..)
            .and_then(|rest| marker.find(rest.as_bytes()))
        {
            let start = from + found;
            let end = slice
                .get(start + marker_len..)
                .and_then(|rest| rest.find(',').map(|c| start + marker_len + c))
                .unwrap_or(slice.len());
            clauses.push(region.start + start..region.start + end);
            from = start + marker_len;
        }
    }
    clauses
}

/// The speaker named by a region of text: people (jointly when listed together), a
/// spokesperson of someone, a pronoun, an official body or state, or a description.
/// What [`speaker_in`] asks of a region's words in lower case, read in one pass instead of
/// collected into a list per region.
struct LowerWords<'t> {
    count: usize,
    first: Option<&'t str>,
    last: Option<&'t str>,
    /// Whether one is "a", "an" or "unnamed".
    indefinite: bool,
}

impl<'t> LowerWords<'t> {
    fn read(words: impl Iterator<Item = &'t str>) -> LowerWords<'t> {
        let mut read = LowerWords {
            count: 0,
            first: None,
            last: None,
            indefinite: false,
        };
        for word in words {
            read.count += 1;
            read.first = read.first.or(Some(word));
            read.last = Some(word);
            read.indefinite |= matches!(word, "a" | "an" | "unnamed");
        }
        read
    }
}

fn speaker_in(
    context: &Context<'_>,
    field: &Field<'_>,
    region: &Range<usize>,
    memory: &Memory,
) -> Option<SpeakerRef> {
    let text = field.text();
    let mut start = region.start;
    // Skip leading conjunctions and prepositions ("But ...", "On Iranian state television").
    for word in words_in(field, region) {
        let w = lower_word_text(field, word);
        if contains_word(LEADING_CONJUNCTIONS, w) || OBJECT_PREPOSITIONS_SET.contains(w) {
            start = word.end;
        } else {
            break;
        }
    }
    let mut region = start..region.end.max(start);
    if let Some(subject) = subject_after_adverbial_clause(field, &region) {
        region = subject..region.end;
    }
    // "Press TV quoted the Hezbollah chief as saying": the one quoted speaks.
    if let Some(quoting) = words_in(field, &region).iter().find(|w| {
        matches!(
            word_text(field, w),
            "quoted" | "quoting" | "quotes" | "cited" | "citing"
        )
    }) {
        let after = quoting.end..region.end;
        let end = text
            .get(after.clone())
            .and_then(|s| s.find(" as ").map(|i| after.start + i))
            .unwrap_or(after.end);
        region = after.start..end;
    }
    let words = words_in(field, &region);
    if words.is_empty() {
        return None;
    }
    let relative = relative_clauses(text, &region);
    let in_relative = |f: &Found| {
        relative
            .iter()
            .any(|r| r.start <= f.start && f.end <= r.end)
    };
    let mentions: Vec<&Found> = field
        .found_within(region.start, region.end)
        .filter(|f| !in_relative(f))
        .collect();
    // People, not as objects and not as possessives ("Merkel's spokesman"); read one by one,
    // most regions name none or one.
    let mut people = mentions
        .iter()
        .copied()
        .filter(|f| is_person_mention(context, f))
        .filter(|f| {
            !is_object(field, f, region.start) || opens_subordinate_clause(field, f, &region)
        })
        .filter(|f| !is_possessive(text, f.end));
    if let Some(first) = people.next() {
        let mut group = vec![entity_speaker(field, first)];
        let mut previous_end = first.end;
        for next in people {
            if !joins_list(field, previous_end..next.start) {
                break;
            }
            let speaker = entity_speaker(field, next);
            if !group.contains(&speaker) {
                group.push(speaker);
            }
            previous_end = next.end;
        }
        return Some(if group.len() == 1 {
            group.swap_remove(0)
        } else {
            SpeakerRef::Group(group)
        });
    }
    let lower_words = LowerWords::read(
        words
            .iter()
            .filter(|w| {
                !relative
                    .iter()
                    .any(|r| r.start <= w.start && w.end <= r.end)
            })
            .map(|w| lower_word_text(field, w)),
    );
    if lower_words.count > 14 {
        return None;
    }
    let head_word = description_head(field, words, &mentions, &relative);
    let head = head_word.map(|w| word_text(field, &w).to_ascii_lowercase());
    // A pronoun subject.
    if let Some(first) = lower_words.first
        && let Some(pronoun) = PRONOUNS.iter().position(|p| *p == first)
    {
        return match PRONOUNS.get(pronoun).copied() {
            Some("he" | "she") => memory.singular.clone().or_else(|| memory.person.clone()),
            Some("they") => memory
                .group
                .clone()
                .or_else(|| memory.descriptions.last().cloned())
                .or_else(|| memory.thing.clone()),
            Some("it") => memory.thing.clone(),
            _ => None,
        };
    }
    let has_the = lower_words.first == Some("the");
    // "the three leaders": the group that spoke last.
    if has_the
        && head.as_deref() == Some("leaders")
        && mentions.is_empty()
        && let Some(group) = &memory.group
    {
        return Some(group.clone());
    }
    // "the spokesman": the spokesperson described last.
    if has_the
        && let Some(head) = &head
        && contains_word(UNNAMED_ROLE_HEADS, head)
        && lower_words.count <= 3
        && let Some(described) = memory
            .descriptions
            .iter()
            .rev()
            .find(|d| matches!(d, SpeakerRef::Description { head: h, .. } if h == head))
    {
        return Some(described.clone());
    }
    // "the prime minister", "the US President": the person holding that role.
    if has_the && let Some(person) = role_anaphor(context, field, &region, memory) {
        return Some(person);
    }
    // "Abolfazl Amouei, spokesperson for the committee, said ... The official added": with no
    // unnamed official described before, the person just named, unless the article called
    // them a former official. News calls a person "the official" only once it has given
    // their post, often in words no title is read from ("Koudeie, who heads the
    // organisation"): asking for a title left 650 such statements across the corpus with the
    // bare description, nearly all of them the person just named.
    if has_the
        && lower_words.count == 2
        && head.as_deref() == Some("official")
        && memory.sentence <= memory.person_sentence + 3
        && let Some(person @ SpeakerRef::Entity { entity, .. }) = &memory.person
        && context.titles.get(entity).is_none_or(|t| !t.out_of_office)
    {
        return Some(person.clone());
    }
    // "The Ministry of Defence adviser said": the person just spoken of.
    if has_the
        && let Some(head) = &head
        && lower_words.last == Some(head.as_str())
        && !lower_words.indefinite
        && PERSON_HEADS_SET.contains(head)
        && !contains_word(UNNAMED_ROLE_HEADS, head)
        && memory.sentence <= memory.person_sentence + 3
        && let Some(person) = &memory.person
        && may_be_described_as(
            context,
            person,
            government_named(context, field, &region).as_deref(),
            field.lowercase(region.clone()).and_then(|l| role_named(&l)),
        )
    {
        return Some(person.clone());
    }
    // "The company said": the company the article is about.
    if has_the
        && lower_words.count == 2
        && let Some(head) = &head
        && (contains_word(COMPANY_ANAPHOR_HEADS, head) || contains_word(BODY_ANAPHOR_HEADS, head))
        && let Some(organisation) =
            organisation_spoken_of(context, field, region.start, memory, head)
    {
        return Some(organisation);
    }
    // "said the American": a person of that country, the one just spoken of; not the state.
    if has_the
        && lower_words.count == 2
        && let [found] = mentions.as_slice()
        && found.anchor == Anchor::Demonym
    {
        // The last person named, not as an object, within the two sentences before.
        let sentence = field.sentences.partition_point(|s| s.end <= region.start);
        let window_start = field
            .sentences
            .get(sentence.saturating_sub(2))
            .map_or(0, |s| s.start);
        if let Some(person) = field
            .found
            .iter()
            .rev()
            .filter(|f| f.end <= found.start && f.start >= window_start)
            .find(|f| is_person_mention(context, f) && !is_object(field, f, window_start))
        {
            return Some(entity_speaker(field, person));
        }
        let demonym = text.get(found.start..found.end).unwrap_or("");
        return Some(SpeakerRef::Description {
            text: format!("the {demonym}"),
            governments: Vec::new(),
            head: demonym.to_lowercase(),
        });
    }
    if let (Some(head), Some(head_word)) = (head, head_word) {
        let name = description_name(field, &region, &head_word, &mentions);
        let mut governments = description_governments(context, field, &region, &mentions, &head);
        if governments.is_empty() {
            governments = governments_from_earlier_sentence(context, field, &region, &head);
        }
        return Some(SpeakerRef::Description {
            text: tidy_description(text.get(name).unwrap_or("")),
            governments,
            head,
        });
    }
    // A state, body or seat of government: "Tehran warned", "The Pentagon said".
    let found = mentions.iter().find(|f| {
        (!is_object(field, f, region.start) || opens_subordinate_clause(field, f, &region))
            && !f.modifier
    })?;
    // "Iranian MP Ali Najafi Khoshroodi said", "Russian Dmitriy Bogdanov claimed": a demonym
    // before capitalised words it does not name describes someone the text names in words
    // not found; the state is not speaking.
    if found.anchor == Anchor::Demonym
        && let Some(named_end) = unfound_name_after(field, found, &region)
    {
        let described = region.start..named_end;
        // Its head: an official word in it ("Iranian FM Zarif", "the German Air Force"), else
        // its last word.
        let described_words = words_in(field, &described);
        let head = described_words
            .iter()
            .map(|w| lower_word_text(field, w))
            .find(|w| OFFICIAL_ROLE_NOUNS_SET.contains(w))
            .or_else(|| described_words.last().map(|w| lower_word_text(field, w)))
            .unwrap_or_default()
            .to_owned();
        let governments = description_governments(context, field, &described, &mentions, &head);
        return Some(SpeakerRef::Description {
            text: tidy_description(text.get(described).unwrap_or("")),
            governments,
            head,
        });
    }
    Some(described_or_named_speaker(context, field, found))
}

/// The organisation "the company" or "the commission" stands for: the one that spoke last,
/// else the one the field names most often before `before` (news names its company in the
/// opening sentence and calls it "the company" from then on), the later one on a tie. "The
/// company" and "the firm" are no organ of a government (not the Securities and Exchange
/// Commission of a filing); "the bank", "the commission" and the like are one named by the
/// word.
fn organisation_spoken_of(
    context: &Context<'_>,
    field: &Field<'_>,
    before: usize,
    memory: &Memory,
    head: &str,
) -> Option<SpeakerRef> {
    let company = contains_word(COMPANY_ANAPHOR_HEADS, head);
    let stands_for = |entity: EntityRef| {
        let kind = entity_kind(context, entity);
        if company {
            kind == Some(EntityKind::Organization)
                && !matches!(entity, EntityRef::Kb(index)
                    if context.index.entity(index).is_some_and(|kb| kb.government.is_some()))
        } else {
            matches!(
                kind,
                Some(EntityKind::Organization | EntityKind::IntergovernmentalOrganization)
            ) && entity_identity(context, entity).is_some_and(|(_, name, _)| {
                // Its head word: "Bundesbank", "European Commission", "Bank of Japan", not
                // the Securities and Exchange Commission for "the exchange".
                let name = name.to_lowercase();
                name.ends_with(head)
                    || name
                        .strip_prefix(head)
                        .is_some_and(|rest| rest.starts_with(" of "))
            })
        }
    };
    if let Some(thing @ SpeakerRef::Entity { entity, .. }) = &memory.thing
        && stands_for(*entity)
    {
        return Some(thing.clone());
    }
    field
        .found_within(0, before)
        .filter(|found| stands_for(found.entity))
        .max_by_key(|found| salience(context, found.entity))
        .map(|found| entity_speaker(field, found))
}

/// Where the capitalised words right after `found` end, within `region`, when no mention covers
/// the first of them.
fn unfound_name_after(field: &Field<'_>, found: &Found, region: &Range<usize>) -> Option<usize> {
    let text = field.text();
    let first = field.words_before(found.end);
    let mut previous_end = found.end;
    let mut named_end = None;
    for word in field.words.get(first..).unwrap_or(&[]) {
        let capitalised = word_text(field, word).starts_with(|c: char| c.is_uppercase());
        if word.end > region.end || text.get(previous_end..word.start) != Some(" ") || !capitalised
        {
            break;
        }
        if named_end.is_none() && field.found_within(word.start, word.end).next().is_some() {
            return None;
        }
        named_end = Some(word.end);
        previous_end = word.end;
    }
    named_end
}

/// Whether words open with a participle that sets a scene: "Pointing to the sanctions",
/// "Asked about the report", "Broadcast live on national TV". Such a phrase is neither a
/// speaker nor what one said.
fn opens_with_participle(field: &Field<'_>, words: &[Word]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    let first_text = word_text(field, first);
    let participle = (first_text.len() > 5 && first_text.ends_with("ing"))
        || (first_text.len() > 4 && first_text.ends_with("ed") && first_text != "Indeed")
        || matches!(first_text, "Given" | "Seen" | "Shown" | "Written")
        || contains_word(SCENE_PAST_PARTICIPLES, lower_word_text(field, first));
    participle
        && first_text.starts_with(|c: char| c.is_ascii_uppercase())
        // Not a name: "Mohammed bin Salman", "Beijing" (mentions are sorted by start).
        && field
            .found
            .partition_point(|f| f.start <= first.start)
            .checked_sub(1)
            .and_then(|last| field.found.get(last))
            .is_none_or(|f| f.end < first.end)
        // A name the name finder missed may end in "-ed" too: "Saeed said" is no participle.
        && words.get(1).is_some_and(|w| {
            word_text(field, w).starts_with(|c: char| c.is_lowercase())
                && !field
                    .cues_within(w.start, w.end)
                    .any(|c| c.entry.speech.is_some())
        })
}

/// Where the subject starts after a clause that only sets the scene: "Pointing to the
/// sanctions, the official said", "Earlier on Monday, US military sources said", or the tail
/// of a sentence the region began inside ("... 000 tonnes of US soybeans, a committee
/// spokesman said"). Such a clause names no speaker, and the states it names are not the
/// speaker's ("Underlining ties with Bern, the Iranian president said" is not Switzerland
/// speaking). The subject after the last comma must read as one: a determiner first (or a
/// capital, after a clause that is not a fragment), or a few words ending in a description's
/// head ("banking sources").
fn subject_after_adverbial_clause(field: &Field<'_>, region: &Range<usize>) -> Option<usize> {
    let text = field.text();
    let comma = text.get(region.clone())?.rfind(", ")?;
    // "..., said the spokesman Abbas Mousavi, a former envoy": after the verb, a comma adds
    // to the speaker.
    let after_verb = field
        .cues_within(region.start.saturating_sub(24), region.start)
        .next_back()
        .is_some_and(|cue| {
            cue.entry.speech.is_some()
                && text
                    .get(cue.end..region.start)
                    .is_some_and(|gap| gap.trim().is_empty())
        });
    if after_verb {
        return None;
    }
    // `speaker_in` has skipped the leading conjunctions ("But pointing to ...").
    let words = words_in(field, region);
    let first = words.first()?;
    let first_text = word_text(field, first);
    let first_lower = lower_word_text(field, first);
    let participle = opens_with_participle(field, words);
    let fragment = first_text.starts_with(|c: char| c.is_lowercase() || c.is_ascii_digit());
    if !(participle || fragment || contains_word(ADVERBIAL_OPENERS, first_lower)) {
        return None;
    }
    let subject = region.start + comma + 2;
    // "Moreover, Britain, France and Germany said": a list of names, not a clause and a subject.
    let listed = |at: usize| field.found.iter().any(|f| f.start <= at && at <= f.end);
    if listed(region.start + comma) && listed(subject) {
        return None;
    }
    let subject_words = words_in(field, &(subject..region.end));
    let (head, last) = (subject_words.first()?, subject_words.last()?);
    let head_text = word_text(field, head);
    // After a fragment only a description: a capital there is as often a list's last names
    // ("... producers of Australia, Chile and the United States") as a subject.
    let reads_as_subject = (!fragment && head_text.starts_with(|c: char| c.is_uppercase()))
        || matches!(
            lower_word_text(field, head),
            "the" | "a" | "an" | "another" | "two" | "three" | "several" | "some" | "other"
        )
        || (subject_words.len() <= 3
            && DESCRIPTION_HEADS_SET.contains(lower_word_text(field, last)));
    (reads_as_subject && subject_words.len() <= 10).then_some(subject)
}

/// The speaker a mention names; but a body the text only describes, a demonym and common
/// nouns ("the Iraqi military said", "Iranian state television"), is an unnamed speaker like
/// "a No 10 spokesman": it speaks for the state it is of, and the article names no entity.
fn described_or_named_speaker(
    context: &Context<'_>,
    field: &Field<'_>,
    found: &Found,
) -> SpeakerRef {
    let named = entity_speaker(field, found);
    let slice = field.text().get(found.start..found.end).unwrap_or("");
    if found.anchor != Anchor::Name || !context.index.is_state_description(slice) {
        return named;
    }
    let mut governments = Vec::new();
    collect_governments(context, &named, &mut governments);
    SpeakerRef::Description {
        text: tidy_description(slice),
        governments,
        head: slice.rsplit(' ').next().unwrap_or("").to_ascii_lowercase(),
    }
}

/// Head nouns that also modify a later one: "the chief Iranian diplomat", "the official Iraqi
/// news agency", "a government trade official".
const MODIFYING_HEADS: &[&str] = &["chief", "government", "official"];

/// The head noun of a description: the last of the first run of head nouns not inside a name
/// ("A UK government spokesman", "The Ministry of Defence adviser"), or a later head that one
/// of [`MODIFYING_HEADS`] modifies.
fn description_head(
    field: &Field<'_>,
    words: &[Word],
    mentions: &[&Found],
    excluded: &[Range<usize>],
) -> Option<Word> {
    let mut head: Option<Word> = None;
    // A head that also modifies ("chief", "official") may give way to a later one: "the chief
    // Russian diplomat" is a diplomat, "the official Iraqi news agency" an agency. Up to two
    // words may stand between them, next to each other, none a preposition, an article, a
    // speech verb or a possessive ("the UN secretary general's report" is the secretary
    // general).
    let mut modifiers = 0;
    let mut previous: Option<&Word> = None;
    for word in words {
        let lower = lower_word_text(field, word);
        // Asked only after a head that may give way: most descriptions have none.
        let joined = |previous: Option<&Word>| {
            previous.is_none_or(|p| {
                field.text().get(p.end..word.start) == Some(" ")
                    && !word_text(field, p).ends_with("'s")
                    && !word_text(field, p).ends_with("\u{2019}s")
            }) && !field
                .cues_within(word.start, word.end)
                .any(|c| c.entry.speech.is_some())
        };
        let before = previous.replace(word);
        let in_mention = mentions
            .iter()
            .any(|f| f.start <= word.start && word.end <= f.end);
        let is_excluded = excluded
            .iter()
            .any(|r| r.start <= word.start && word.end <= r.end);
        // A capitalised person noun is a title before a name ("Chancellor Angela Merkel").
        let person_noun = PERSON_HEADS_SET.contains(lower)
            && !word_text(field, word).starts_with(char::is_uppercase);
        let is_head = DESCRIPTION_HEADS_SET.contains(lower) || person_noun;
        let Some(current) = head else {
            if is_head && !is_excluded && !in_mention {
                head = Some(*word);
            }
            continue;
        };
        let may_give_way =
            MODIFYING_HEADS.contains(&lower_word_text(field, &current)) && joined(before);
        if is_excluded {
            break;
        }
        if !may_give_way {
            // Heads in a row name one thing: "the foreign ministry spokesman".
            if modifiers == 0 && is_head && !in_mention {
                head = Some(*word);
                continue;
            }
            break;
        }
        if is_head && !in_mention {
            head = Some(*word);
            modifiers = 0;
            continue;
        }
        modifiers += 1;
        if modifiers > 2
            || OBJECT_PREPOSITIONS_SET.contains(lower)
            || matches!(
                lower,
                "the" | "a" | "an" | "and" | "or" | "but" | "who" | "which" | "that" | "whose"
            )
        {
            break;
        }
    }
    head
}

/// The words naming an unnamed speaker: up to the head noun and a prepositional phrase after
/// it made of names ("an unnamed senior commander in Iran's Revolutionary Guard"); "The paper
/// quotes X as" names X.
fn description_name(
    field: &Field<'_>,
    region: &Range<usize>,
    head: &Word,
    mentions: &[&Found],
) -> Range<usize> {
    let mut start = region.start;
    for word in words_in(field, &(region.start..head.start)) {
        if matches!(
            word_text(field, word),
            "quotes" | "quoted" | "cites" | "cited"
        ) {
            start = word.end;
        }
    }
    let mut end = head.end;
    let after = words_in(field, &(head.end..region.end));
    if after
        .first()
        .is_some_and(|w| matches!(word_text(field, w), "in" | "of" | "for" | "at" | "from"))
    {
        for word in after {
            let w = word_text(field, word);
            let covered = mentions
                .iter()
                .any(|f| f.start <= word.start && word.end <= f.end);
            if covered
                || w.starts_with(char::is_uppercase)
                || matches!(w, "in" | "of" | "for" | "at" | "from" | "the" | "a" | "an")
            {
                if covered || w.starts_with(char::is_uppercase) {
                    end = word.end;
                }
            } else {
                break;
            }
        }
    }
    start..end.max(start)
}

/// Whether the words between two listed people only join them: commas, "and", titles and
/// possessive states ("Mr Johnson, Germany's Angela Merkel and France's Emmanuel Macron").
fn joins_list(field: &Field<'_>, between: Range<usize>) -> bool {
    let text = field.text();
    let words = words_in(field, &between);
    let joined = words.iter().all(|word| {
        let w = word_text(field, word);
        w.eq_ignore_ascii_case("and")
            || TITLE_WORDS_SET.contains(w)
            || field
                .found
                .iter()
                .any(|f| f.start <= word.start && word.start < f.end + 3)
    });
    let punctuation_ok = text
        .get(between)
        .is_some_and(|s| !s.contains(['.', ';', ':', '(', '"', '\u{201c}']));
    joined && punctuation_ok && !words.is_empty()
}

/// "the prime minister", "the US President", "the former foreign secretary": the person of
/// the article who holds (or held) that role, the most mentioned first; else the person
/// spoken of last.
fn role_anaphor(
    context: &Context<'_>,
    field: &Field<'_>,
    region: &Range<usize>,
    memory: &Memory,
) -> Option<SpeakerRef> {
    let lower = field.lowercase(region.clone())?;
    if !lower.trim_start().starts_with("the ") {
        return None;
    }
    let role = role_named(&lower)?;
    let former = contains_not_in_office(&lower);
    let country = government_named(context, field, region);
    let mut best: Option<(u32, EntityRef)> = None;
    let mut holders: Vec<EntityRef> = Vec::new();
    for (&entity, &count) in &context.article.mention_counts {
        let EntityRef::Kb(index) = entity else {
            continue;
        };
        let Some(kb) = context.index.entity(index) else {
            continue;
        };
        if kb.entity.kind != EntityKind::Person {
            continue;
        }
        let holds = kb.entity.affiliations.iter().any(|a| {
            let role_ok = holds_office_named(&a.role, role);
            let country_ok = country.as_ref().is_none_or(|c| *c == a.government_code);
            let time_ok = match (context.date, former) {
                (Some(date), false) => a.holds_on(date),
                (Some(date), true) => a.end.is_some_and(|end| end < date),
                (None, false) => a.end.is_none(),
                (None, true) => a.end.is_some(),
            };
            role_ok && country_ok && time_ok
        });
        if holds {
            holders.push(entity);
        }
        if holds
            && best.is_none_or(|(c, e)| {
                count > c || (count == c && entity_order(entity) < entity_order(e))
            })
        {
            best = Some((count, entity));
        }
    }
    // Of several holders ("President Hassan Rouhani" in a story about Joe Biden), the one last
    // the subject or speaker; else the one named most.
    let named_last = match &memory.person {
        Some(SpeakerRef::Entity { entity, .. })
            if holders.len() > 1 && memory.sentence <= memory.person_sentence + 3 =>
        {
            holders.contains(entity).then_some(*entity)
        }
        _ => None,
    };
    if let Some(entity) = named_last.or(best.map(|(_, entity)| entity)) {
        return Some(SpeakerRef::Entity {
            entity,
            anchor: Anchor::Name,
            out_of_office: former,
        });
    }
    if former || country.is_none() {
        return memory
            .person
            .clone()
            .filter(|person| may_be_described_as(context, person, country.as_deref(), Some(role)));
    }
    None
}

/// Whether a knowledge-base role is the office `role` names (lower case): "President (acting)"
/// and "Foreign Minister" are; "First Vice President", "Deputy Foreign Minister for Legal
/// Affairs" and "Presidential Spokesman" are not.
fn holds_office_named(kb_role: &str, role: &str) -> bool {
    // "Vice President and Prime Minister" holds two; "Secretary-General" is "secretary general".
    kb_role.replace('-', " ").split(" and ").any(|office| {
        office
            .get(..role.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(role))
            && office
                .get(role.len()..)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '(']))
    })
}

/// Offices a speaker is named by alone ("the prime minister"), as the text writes them and as
/// the knowledge base's roles name them.
const ROLE_ANAPHORS: &[(&str, &str)] = &[
    ("pm", "prime minister"),
    ("prime minister", "prime minister"),
    ("premier", "prime minister"),
    ("president", "president"),
    ("chancellor", "chancellor"),
    ("foreign secretary", "foreign secretary"),
    ("foreign minister", "foreign minister"),
    ("defence secretary", "defence secretary"),
    ("defence minister", "defence minister"),
    ("secretary of state", "secretary of state"),
    ("secretary general", "secretary general"),
    ("supreme leader", "supreme leader"),
];

/// The office a lower-case description names, as the knowledge base's roles name it: the
/// longest of [`ROLE_ANAPHORS`] it holds.
fn role_named(lower: &str) -> Option<&'static str> {
    ROLE_ANAPHORS
        .iter()
        .filter(|(word, _)| contains_phrase(lower, word) && !names_possessor(lower, word))
        .max_by_key(|(word, _)| word.len())
        .map(|(_, role)| *role)
}

/// Whether `word` is the possessor of a spokesperson or an official in `lower`: "the prime
/// minister's official spokesman" is not the prime minister. ("The president's chief of staff"
/// and "the president's office" still speak as the office's holder: their words, not the
/// holder's, are rarely told apart in the knowledge base's roles.)
fn names_possessor(lower: &str, word: &str) -> bool {
    let spokesperson = lower
        .split_whitespace()
        .next_back()
        .is_some_and(|head| contains_word(UNNAMED_ROLE_HEADS, head));
    spokesperson
        && lower
            .match_indices(word)
            .any(|(at, _)| is_possessive(lower, at + word.len()))
}

/// The government of the first state or body a region names ("the German chancellor").
fn government_named(
    context: &Context<'_>,
    field: &Field<'_>,
    region: &Range<usize>,
) -> Option<String> {
    field
        .found_within(region.start, region.end)
        .find_map(|f| match f.entity {
            EntityRef::Kb(i) => context.index.entity(i).and_then(|e| e.government.clone()),
            EntityRef::Local(_) => None,
        })
}

/// Whether the person just spoken of may be the one a description names: not when it names
/// a state (`government`) the person is known to speak for none of ("Abbas Mousavi said ...
/// The German chancellor said"), nor an office (`role`, as [`role_named`] reads it) the
/// knowledge base knows the person never held ("The foreign secretary said" after the
/// Iranian spokesman).
fn may_be_described_as(
    context: &Context<'_>,
    person: &SpeakerRef,
    government: Option<&str>,
    role: Option<&str>,
) -> bool {
    if let Some(government) = government {
        let governments = governments_of(context, person);
        if !governments.is_empty() && !governments.iter().any(|g| g.code == government) {
            return false;
        }
    }
    let Some(role) = role else {
        return true;
    };
    match person {
        SpeakerRef::Entity {
            entity: EntityRef::Kb(index),
            ..
        } => context.index.entity(*index).is_none_or(|kb| {
            kb.entity.affiliations.is_empty()
                || kb
                    .entity
                    .affiliations
                    .iter()
                    .any(|a| a.role.to_lowercase().contains(role))
        }),
        _ => true,
    }
}

fn entity_order(entity: EntityRef) -> (u8, usize) {
    match entity {
        EntityRef::Kb(i) => (0, i),
        EntityRef::Local(i) => (1, i),
    }
}

/// Drops a leading determiner-less conjunction and trailing punctuation from a description.
fn tidy_description(text: &str) -> String {
    let mut text = text.trim();
    // A dateline before the description: "TEHRAN - A Chinese envoy".
    for dash in [" - ", " \u{2013} ", " \u{2014} "] {
        // memrfind: `str::rfind` sets up a two-way searcher on every call.
        if let Some(rest) =
            memmem::rfind(text.as_bytes(), dash.as_bytes()).and_then(|i| text.get(i + dash.len()..))
        {
            text = rest;
        }
    }
    let trimmed = text.trim_matches(|c: char| c == ',' || c == '.' || c.is_whitespace());
    // The words joined by single spaces, without collecting them first.
    let mut tidy = String::with_capacity(trimmed.len());
    for word in trimmed.split_whitespace() {
        if !tidy.is_empty() {
            tidy.push(' ');
        }
        tidy.push_str(word);
    }
    tidy
}

/// "the official Iraqi news agency", "the official planning agency", "the Dutch central bank":
/// a state's own media, agencies and central bank, by the head of the description.
fn is_official_body(lower: &str, head: &str) -> bool {
    (matches!(head, "agency" | "newspaper" | "television" | "radio")
        && contains_phrase(lower, "official"))
        || (head == "bank" && contains_phrase(lower, "central bank"))
}

/// Whether a description is of an official of some government: its head is an official
/// role ("spokesman", "embassy") or it is state media.
fn is_official_description(lower: &str, head: &str) -> bool {
    let official = OFFICIAL_ROLE_NOUNS_SET.contains(head)
        || [
            "state television",
            "state tv",
            "state media",
            "state radio",
            "state news agency",
        ]
        .iter()
        .any(|phrase| contains_phrase(lower, phrase))
        || is_official_body(lower, head);
    // Most descriptions are no official's: the exclusions are read only for those that are.
    if !official {
        return false;
    }
    let excluded = contains_not_in_office(lower)
        || [
            "militia",
            "rebel",
            "rebels",
            "opposition",
            "protesters",
            "organiser",
            "analyst",
        ]
        .iter()
        .any(|w| contains_phrase(lower, w));
    !excluded
}

/// The government an unnamed speaker speaks for: only for official roles (spokesman,
/// official, ministry, embassy, state television ...), never for former officials or the
/// opposition; the state, body or person its words name, the first one that is not an object.
fn description_governments(
    context: &Context<'_>,
    field: &Field<'_>,
    region: &Range<usize>,
    mentions: &[&Found],
    head: &str,
) -> Vec<String> {
    let lower = field.lowercase(region.clone()).unwrap_or_default();
    if !is_official_description(&lower, head) {
        return Vec::new();
    }
    for found in mentions {
        if found.modifier || is_description_object(field, found, region.start) {
            continue;
        }
        if let Some(codes) = mention_governments(context, field, found)
            && (!codes.is_empty() || !lower.contains("state "))
        {
            return codes;
        }
    }
    // "Iranian state television", "the official Iraqi news agency": a state's media speak
    // for it.
    if lower.contains("state ") || is_official_body(&lower, head) {
        for word in words_in(field, region) {
            if let Some(code) = context.index.country_of_word(word_text(field, word)) {
                return vec![code.to_owned()];
            }
        }
    }
    Vec::new()
}

/// The governments a mention inside a description stands for; `None` when it names none
/// (a place without a state), `Some(empty)` for a body that speaks for no government.
fn mention_governments(
    context: &Context<'_>,
    field: &Field<'_>,
    found: &Found,
) -> Option<Vec<String>> {
    match found.entity {
        EntityRef::Kb(index) => {
            let kb = context.index.entity(index)?;
            match kb.entity.kind {
                EntityKind::Person => {
                    let speaker = entity_speaker(field, found);
                    Some(
                        governments_of(context, &speaker)
                            .into_iter()
                            .map(|g| g.code)
                            .collect(),
                    )
                }
                EntityKind::Organization | EntityKind::IntergovernmentalOrganization => {
                    Some(kb.government.iter().cloned().collect())
                }
                _ => kb
                    .government
                    .as_ref()
                    .or(kb.country.as_ref())
                    .map(|code| vec![code.clone()]),
            }
        }
        EntityRef::Local(index) => {
            let local = context.article.locals.get(index)?;
            (local.kind != EntityKind::Location).then(|| {
                local
                    .affiliation
                    .iter()
                    .map(|a| a.government_code.clone())
                    .collect()
            })
        }
    }
}

/// "An unnamed commander told The Times" after "Iran has vowed revenge, and a senior commander
/// has issued a warning": an official description naming no state takes the state of the
/// sentence, up to three back, that spoke of the same role.
fn governments_from_earlier_sentence(
    context: &Context<'_>,
    field: &Field<'_>,
    region: &Range<usize>,
    head: &str,
) -> Vec<String> {
    let lower = field.lowercase(region.clone()).unwrap_or_default();
    // "The statement said": the one who issued the statement spoken of just before.
    let document = lower.trim_start().starts_with("the ")
        && matches!(
            head,
            "statement" | "communique" | "communiqué" | "declaration"
        );
    if !is_official_description(&lower, head) && !document {
        return Vec::new();
    }
    let current = field.sentences.partition_point(|s| s.end <= region.start);
    for back in 1..=3 {
        let Some(sentence) = current
            .checked_sub(back)
            .and_then(|i| field.sentences.get(i))
        else {
            break;
        };
        let sentence_text = field.lowercase(sentence.clone()).unwrap_or_default();
        if !contains_phrase(&sentence_text, head) {
            continue;
        }
        // "by the Iranian foreign ministry", "Iran's foreign ministry": the state named with
        // the head word, before any other the sentence names.
        let words = words_in(field, sentence);
        if let Some(at) = words
            .iter()
            .position(|w| word_text(field, w).eq_ignore_ascii_case(head))
            && let Some(head_word) = words.get(at)
        {
            let near = words
                .get(at.saturating_sub(4))
                .map_or(head_word.start, |w| w.start);
            for found in field
                .found
                .iter()
                .rev()
                .filter(|f| f.start >= near && f.start < head_word.start)
            {
                if let Some(codes) = mention_governments(context, field, found)
                    && !codes.is_empty()
                {
                    return codes;
                }
            }
        }
        for found in field.found_within(sentence.start, sentence.end) {
            if found.modifier || is_object(field, found, sentence.start) {
                continue;
            }
            if let Some(codes) = mention_governments(context, field, found)
                && !codes.is_empty()
            {
                return codes;
            }
        }
    }
    Vec::new()
}

/// A sentence without quotes whose speech verb has a subject: reported speech.
fn reported_statement(
    context: &Context<'_>,
    field: &Field<'_>,
    field_index: usize,
    sentence: &Range<usize>,
    verbs: &[CueMatch],
    memory: &Memory,
) -> Option<Draft> {
    let in_sentence: Vec<&CueMatch> = cues_within(verbs, sentence.start, sentence.end).collect();
    if let Some(draft) =
        final_attribution(context, field, field_index, sentence, &in_sentence, memory)
    {
        return Some(draft);
    }
    let verb = in_sentence
        .iter()
        .find(|v| v.entry.speech != Some(VerbForm::Participle))
        .or_else(|| in_sentence.first())?;
    let (speaker, region, passive) = subject_of(context, field, sentence, verb, memory)?;
    if passive {
        return None;
    }
    let clause = if verb.entry.speech == Some(VerbForm::AccordingTo) {
        // The sentence without its "according to X".
        let before = trim_range(field.text(), sentence.start..verb.start);
        let after = trim_range(field.text(), region.end..sentence.end);
        match (before, after) {
            (Some(b), Some(a)) if b.len() >= a.len() => b,
            (_, Some(a)) => a,
            (Some(b), None) => b,
            (None, None) => return None,
        }
    } else {
        clause_after(field, verb, sentence)?
    };
    if words_in(field, &clause).len() < 3 {
        return None;
    }
    Some(Draft {
        field: field_index,
        range: clause,
        kind: StatementKind::Indirect,
        speaker,
        speaker_region: region,
        verb: Some(**verb),
        targets: Vec::new(),
        act: Act::Assert,
    })
}

/// "The guidance said e-mails should be kept, Mr Thomas said.": reported speech whose
/// attribution closes the sentence after a comma, as ", X said" or ", said X".
fn final_attribution(
    context: &Context<'_>,
    field: &Field<'_>,
    field_index: usize,
    sentence: &Range<usize>,
    verbs: &[&CueMatch],
    memory: &Memory,
) -> Option<Draft> {
    let text = field.text();
    let verb = **verbs.last()?;
    if verb.entry.speech != Some(VerbForm::Finite) {
        return None;
    }
    let head = text.get(sentence.start..verb.start)?;
    let tail = verb.end..sentence.end;
    let tail_words = words_in(field, &tail);
    if tail_words.len() > 6 {
        return None;
    }
    // "..., the president described the election as a celebration": what the verb says is
    // after it, not before the comma.
    let verb_text = text.get(verb.start..verb.end).unwrap_or("");
    if ["described", "describes", "hailed", "hails"]
        .iter()
        .any(|verb| verb_text.eq_ignore_ascii_case(verb))
        && tail_words.iter().any(|w| word_text(field, w) == "as")
    {
        return None;
    }
    // The earliest comma within ten words of the verb whose words name a speaker: a title
    // may hold commas ("..., Deputy Industry, Mining and Trade Minister X said").
    let bytes = head.as_bytes();
    let commas: Vec<usize> = head
        .match_indices(',')
        // Not a thousands separator: "for 41,000 people, Niaraki said".
        .filter(|&(i, _)| {
            !(i.checked_sub(1)
                .and_then(|before| bytes.get(before))
                .is_some_and(u8::is_ascii_digit)
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        })
        .map(|(i, _)| sentence.start + i)
        .filter(|&c| words_in(field, &(c..verb.start)).len() <= 10)
        .collect();
    let (comma, region, speaker) = commas.iter().find_map(|&comma| {
        let subject = comma + 1..verb.start;
        let region = if text
            .get(subject.clone())?
            .chars()
            .any(char::is_alphanumeric)
        {
            strip_auxiliaries(field, subject)
        } else {
            // ", said Mr Thomas."
            tail.clone()
        };
        speaker_in(context, field, &region, memory).map(|speaker| (comma, region, speaker))
    })?;
    let clause = trim_range(text, sentence.start..comma)?;
    let clause_words = words_in(field, &clause);
    // "Asked about the report, the minister said it was a lie": what was said follows. A
    // gerund may be what was said ("Speaking out is a duty, he said") when nothing follows.
    let opening = clause_words.first().map(|w| lower_word_text(field, w));
    let sets_scene = opening.is_some_and(|w| {
        contains_word(SCENE_PAST_PARTICIPLES, w)
            || (contains_word(SCENE_PARTICIPLES, w) && tail_words.len() >= 3)
    });
    // "Hamid Reza Asefi, a former Iranian diplomat, said the talks failed": a name alone before
    // the comma is the subject, the words between the commas its apposition.
    let names_subject = field
        .found_within(clause.start, clause.end)
        .any(|found| found.start == clause.start && found.end == clause.end);
    if clause_words.len() < 3 || sets_scene || names_subject {
        return None;
    }
    Some(Draft {
        field: field_index,
        range: clause,
        kind: StatementKind::Indirect,
        speaker,
        speaker_region: region,
        verb: Some(verb),
        targets: Vec::new(),
        act: Act::Assert,
    })
}

/// A quote with no attribution of its own: the speaker of its multi-paragraph quotation, or,
/// for a quote that is a sentence of its own, the speaker of the quote just before it in the
/// same paragraph or the previous one (the next quote of an interrupted quotation too).
fn inherit(
    field: &Field<'_>,
    sentence: &Range<usize>,
    quotes: &[Quote],
    index: usize,
    attributions: &[Option<Attribution>],
    memory: &Memory,
) -> Option<Attribution> {
    let quote = quotes.get(index)?;
    let earlier_in_group = (0..index)
        .rev()
        .take_while(|&j| quotes[j].group == quote.group)
        .find_map(|j| attributions[j].clone());
    if let Some(mut attribution) = earlier_in_group {
        attribution.clause = None;
        return Some(attribution);
    }
    let text = field.text();
    let alone = !text
        .get(sentence.start..quote.open)
        .unwrap_or("")
        .chars()
        .any(char::is_alphanumeric)
        && !text
            .get(quote.close..sentence.end.max(quote.close))
            .unwrap_or("")
            .chars()
            .any(char::is_alphanumeric);
    if !alone {
        return None;
    }
    let paragraph = paragraph_of(field, quote.open);
    match &memory.last_quote {
        Some((attribution, last_paragraph, unclosed))
            if paragraph <= last_paragraph + 1 + usize::from(*unclosed) =>
        {
            let mut attribution = attribution.clone();
            attribution.clause = None;
            Some(attribution)
        }
        _ => None,
    }
}

/// Remembers the subject of a sentence that said nothing, for later pronouns: the first
/// person near its start, or else the first state or body.
fn note_sentence_subject(
    context: &Context<'_>,
    field: &Field<'_>,
    sentence: &Range<usize>,
    memory: &mut Memory,
) {
    let words = words_in(field, sentence);
    let window_end = words.get(8).map_or(sentence.end, |w| w.start);
    let region = sentence.start..window_end;
    let start = clause_start(field, sentence, &region, Some(VerbForm::Finite));
    let candidates: Vec<&Found> = field
        .found_within(start, window_end)
        .filter(|f| !is_object(field, f, start) && !is_possessive(field.text(), f.end))
        .collect();
    if let Some(found) = candidates.iter().find(|f| is_person_mention(context, f)) {
        let sentence_region = start..sentence.end;
        if let Some(SpeakerRef::Group(group)) = speaker_in(
            context,
            field,
            &(start..subject_end(field, &sentence_region)),
            memory,
        ) {
            memory.group = Some(SpeakerRef::Group(group));
        }
        let speaker = entity_speaker(field, found);
        memory.person = Some(speaker.clone());
        memory.person_sentence = memory.sentence;
        memory.singular = Some(speaker);
    } else if let Some(description) = opening_description(context, field, start, window_end) {
        // "A statement from the mission cited ... It added": "it" is the statement.
        memory.thing = Some(description);
    } else if let Some(found) = candidates.iter().find(|f| !f.modifier) {
        memory.thing = Some(entity_speaker(field, found));
    }
}

/// A description in the first three words of a clause ("a statement from ...").
fn opening_description(
    context: &Context<'_>,
    field: &Field<'_>,
    start: usize,
    end: usize,
) -> Option<SpeakerRef> {
    let words = words_in(field, &(start..end));
    let first_words = words.get(..3.min(words.len()))?;
    let mentions: Vec<&Found> = field.found_within(start, end).collect();
    let head_word = description_head(field, first_words, &mentions, &[])?;
    if mentions.iter().any(|f| f.end <= head_word.start) {
        return None;
    }
    let head = word_text(field, &head_word).to_ascii_lowercase();
    let region = start..head_word.end;
    let governments = description_governments(context, field, &region, &mentions, &head);
    Some(SpeakerRef::Description {
        text: tidy_description(field.text().get(region).unwrap_or("")),
        governments,
        head,
    })
}

/// Where a sentence's subject list ends: the first lower-case word that is not "and".
fn subject_end(field: &Field<'_>, region: &Range<usize>) -> usize {
    for word in words_in(field, region) {
        let w = word_text(field, word);
        if w.starts_with(char::is_lowercase) && w != "and" {
            return word.start;
        }
    }
    region.end
}

/// The speaker as the statement carries it, and the entities it references.
pub(crate) fn speaker_of(context: &Context<'_>, speaker: &SpeakerRef) -> (Speaker, Vec<EntityRef>) {
    match speaker {
        SpeakerRef::Entity { entity, anchor, .. } => {
            // "Washington says": the capital speaks as its state.
            let entity = &match (entity, anchor) {
                (EntityRef::Kb(index), Anchor::Capital) => context
                    .index
                    .entity(*index)
                    .and_then(|kb| kb.country.as_ref())
                    .and_then(|code| context.index.country_by_code.get(code))
                    .map_or(*entity, |&country| EntityRef::Kb(country)),
                _ => *entity,
            };
            let (id, name) = entity_identity(context, *entity)
                .map_or((None, String::new()), |(id, name, _)| (Some(id), name));
            (
                Speaker {
                    entity_id: id,
                    name,
                },
                vec![*entity],
            )
        }
        SpeakerRef::Group(members) => {
            let mut names = Vec::new();
            let mut entities = Vec::new();
            for member in members {
                let (speaker, member_entities) = speaker_of(context, member);
                names.push(speaker.name);
                entities.extend(member_entities);
            }
            let name = match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => names.join(""),
            };
            (
                Speaker {
                    entity_id: None,
                    name,
                },
                entities,
            )
        }
        SpeakerRef::Description { text, .. } => (
            Speaker {
                entity_id: None,
                name: text.clone(),
            },
            Vec::new(),
        ),
    }
}

/// "Iranian state television": a body known by a state-media name speaks for that state.
fn state_media_country(
    context: &Context<'_>,
    entity: &communique_domain::Entity,
) -> Option<String> {
    std::iter::once(&entity.name)
        .chain(&entity.aliases)
        .filter(|name| name.contains("state "))
        .find_map(|name| {
            name.split(' ')
                .find_map(|word| context.index.country_of_word(word))
                .map(str::to_owned)
        })
}

/// The governments a speaker speaks for on the article's date.
pub(crate) fn governments_of(context: &Context<'_>, speaker: &SpeakerRef) -> Vec<Government> {
    let mut codes: Vec<String> = Vec::new();
    collect_governments(context, speaker, &mut codes);
    let mut seen = HashSet::new();
    let mut governments: Vec<Government> = codes
        .into_iter()
        .filter(|code| seen.insert(code.clone()))
        .map(|code| Government {
            name: context
                .kb
                .government_name(&code)
                .unwrap_or(code.as_str())
                .to_owned(),
            code,
        })
        .collect();
    governments.sort();
    governments
}

fn collect_governments(context: &Context<'_>, speaker: &SpeakerRef, codes: &mut Vec<String>) {
    match speaker {
        SpeakerRef::Group(members) => {
            for member in members {
                collect_governments(context, member, codes);
            }
        }
        SpeakerRef::Description { governments, .. } => codes.extend(governments.iter().cloned()),
        SpeakerRef::Entity {
            entity,
            out_of_office,
            ..
        } => match entity {
            EntityRef::Kb(index) => {
                let Some(kb) = context.index.entity(*index) else {
                    return;
                };
                if kb.entity.kind == EntityKind::Person {
                    if *out_of_office {
                        return;
                    }
                    let roles: Vec<String> = match context.date {
                        Some(date) => context
                            .kb
                            .governments_of_person_on(&kb.entity.id, date)
                            .into_iter()
                            .map(|a| a.government_code.clone())
                            .collect(),
                        None => kb
                            .entity
                            .affiliations
                            .iter()
                            .filter(|a| a.end.is_none())
                            .map(|a| a.government_code.clone())
                            .collect(),
                    };
                    // Without a date the article's own words name the office best ("NATO Secretary
                    // General X"); else the roles held now. With a date, the knowledge base
                    // decides, unless it knows no roles of the person at all.
                    let from_title = title_governments(context, *entity);
                    let prefer_title = context.date.is_none() || kb.entity.affiliations.is_empty();
                    if prefer_title && !from_title.is_empty() {
                        codes.extend(from_title);
                    } else {
                        codes.extend(roles);
                    }
                } else if let Some(code) = kb.government.as_ref().or(kb.country.as_ref()) {
                    codes.push(code.clone());
                } else if let Some(code) = state_media_country(context, &kb.entity) {
                    codes.push(code);
                }
            }
            EntityRef::Local(index) => {
                if *out_of_office {
                    return;
                }
                if let Some(local) = context.article.locals.get(*index) {
                    codes.extend(local.affiliation.iter().map(|a| a.government_code.clone()));
                }
                if codes.is_empty() {
                    codes.extend(title_governments(context, *entity));
                }
            }
        },
    }
}

/// What the titles an article gives a person say about their office.
#[derive(Clone, Debug, Default)]
pub(crate) struct TitleEvidence {
    /// Governments of the official roles the article names the person with.
    pub(crate) governments: Vec<String>,
    /// Terms (in days since the epoch) of the knowledge-base roles the titles name, for
    /// dating an undated article.
    pub(crate) terms: Vec<(i32, i32)>,
    /// Whether the article calls the person former, retired or in opposition.
    pub(crate) out_of_office: bool,
}

fn title_governments(context: &Context<'_>, entity: EntityRef) -> Vec<String> {
    match context.titles.get(&entity) {
        Some(evidence) if !evidence.out_of_office => evidence.governments.clone(),
        _ => Vec::new(),
    }
}

/// Reads the titles every person of an article is given: the words just before a mention
/// ("Iranian Foreign Minister") and an appositive after it (", Russia's foreign minister,").
pub(crate) fn read_titles(
    index: &super::entities::EntityIndex,
    fields: &[Field<'_>],
    article: &super::entities::ArticleEntities,
) -> HashMap<EntityRef, TitleEvidence> {
    let mut titles: HashMap<EntityRef, TitleEvidence> = HashMap::new();
    let is_person = |entity: EntityRef| match entity {
        EntityRef::Kb(i) => index
            .entity(i)
            .is_some_and(|e| e.entity.kind == EntityKind::Person),
        EntityRef::Local(i) => article
            .locals
            .get(i)
            .is_some_and(|l| l.kind == EntityKind::Person),
    };
    for field in fields {
        let text = field.text();
        for (position, found) in field.found.iter().enumerate() {
            if !is_person(found.entity) {
                continue;
            }
            // Before: up to six words, not past punctuation or another person; a body or a
            // state may be part of the title ("Iranian Foreign Ministry spokesman"). Six words
            // lie within a few hundred bytes.
            let reach = found.start.saturating_sub(400);
            let previous_end = field
                .found
                .get(..position)
                .unwrap_or(&[])
                .iter()
                .rev()
                .take_while(|f| f.end >= reach)
                .find(|f| is_person(f.entity))
                .map_or(reach, |f| f.end);
            let words = words_in(field, &(previous_end..found.start));
            let from = words.len().saturating_sub(6);
            let mut start = words.get(from).map_or(found.start, |w| w.start);
            if let Some(cut) = text
                .get(start..found.start)
                .and_then(|s| s.rfind([',', '.', ';', ':', '(', ')', '"', '\u{201c}', '\u{201d}']))
            {
                start += cut + 1;
            }
            let before = start..found.start;
            let after = text
                .get(found.end..)
                .and_then(|rest| rest.strip_prefix(", "))
                .map(|rest| {
                    let mut end = rest
                        .find([',', '.', ';', '(', '"', '\u{201c}', '\u{201d}'])
                        .unwrap_or(rest.len())
                        .min(100);
                    while !rest.is_char_boundary(end) {
                        end -= 1;
                    }
                    found.end + 2..found.end + 2 + end
                });
            let kb_person = match found.entity {
                EntityRef::Kb(i) => index.entity(i),
                EntityRef::Local(_) => None,
            };
            for window in [Some(before), after].into_iter().flatten() {
                let Some(lower) = field.lowercase(window.clone()) else {
                    continue;
                };
                // The person's own roles the title names, read once for all the uses below.
                // Named in full, a role is a title even in words the list of official roles
                // leaves out as too loose alone ("Beryl Sprinkel, chairman of the Council of
                // Economic Advisers", "Treasurer Paul Keating").
                let own_roles_named: Vec<&Affiliation> = kb_person.map_or_else(Vec::new, |kb| {
                    kb.entity
                        .affiliations
                        .iter()
                        .filter(|a| title_names_role(&lower, &a.role))
                        .collect()
                });
                if own_roles_named.is_empty() && !contains_official_role(&lower) {
                    continue;
                }
                let evidence = titles.entry(found.entity).or_default();
                if contains_not_in_office(&lower) {
                    evidence.out_of_office = true;
                    continue;
                }
                let in_window = || {
                    field
                        .found_within(window.start, window.end)
                        .filter(|f| !f.modifier)
                };
                // "the secretary general of the Lebanese Hezbollah movement": an office in a
                // body that is no government. A ministry or embassy the knowledge base does not
                // list ("Foreign Ministry spokesman X") is some state's.
                // A role of the person's own that names the body is theirs, whatever body
                // it is ("chairman of the Council of Economic Advisers"); "president" of a
                // party is not the president's office.
                let in_own_role = |name: &str| {
                    let name = name.to_lowercase();
                    own_roles_named
                        .iter()
                        .any(|a| a.role.to_lowercase().contains(&name))
                };
                let of_non_government = in_window().any(|f| match f.entity {
                    EntityRef::Kb(i) => index.entity(i).is_some_and(|e| {
                        e.entity.kind == EntityKind::Organization
                            && e.government.is_none()
                            && !in_own_role(&e.entity.name)
                    }),
                    EntityRef::Local(l) => article.locals.get(l).is_some_and(|l| {
                        l.kind == EntityKind::Organization
                            && !is_state_body(&l.name)
                            && !in_own_role(&l.name)
                    }),
                });
                if of_non_government {
                    continue;
                }
                let named = in_window().find_map(|f| match f.entity {
                    EntityRef::Kb(i) => index
                        .entity(i)
                        .filter(|e| e.entity.kind != EntityKind::Person)
                        .and_then(|e| e.government.clone().or_else(|| e.country.clone())),
                    EntityRef::Local(_) => None,
                });
                // The latest of the roles named, when no body named says whose office it is.
                let from_roles = || own_roles_named.last().map(|a| a.government_code.clone());
                for affiliation in &own_roles_named {
                    let term = term_of(affiliation);
                    if !evidence.terms.contains(&term) {
                        evidence.terms.push(term);
                    }
                }
                if let Some(code) = named.or_else(from_roles)
                    && !evidence.governments.contains(&code)
                {
                    evidence.governments.push(code);
                }
            }
        }
    }
    titles
}

/// Whether a title (lower case) names a role of the knowledge base: in its words ("foreign
/// minister"), as "minister of/for (the) X" ("minister of foreign affairs"), as "X secretary"
/// for "Secretary of (the) X" ("treasury secretary"), in either spelling of defence, and not
/// as a deputy's or another lesser office ("deputy foreign minister", "vice president").
fn title_names_role(lower: &str, role: &str) -> bool {
    // Every wording below holds the role's last word (in one spelling or the other): most
    // titles asked about (every person mention's) are turned away on it before any wording is
    // built, without lowering an ASCII role's case into a new string.
    // Article text is read folded, its hyphens spaces: "Secretary-General" is two words.
    let last_word = role
        .rsplit(|c: char| c.is_whitespace() || c == '-')
        .find(|word| !word.is_empty())
        .unwrap_or("");
    let holds = |word: &str| {
        if word.is_ascii() {
            word.is_empty()
                || lower
                    .as_bytes()
                    .windows(word.len())
                    .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
        } else {
            lower.contains(&word.to_lowercase())
        }
    };
    let respelt =
        last_word.eq_ignore_ascii_case("defense") || last_word.eq_ignore_ascii_case("defence");
    if !(holds(last_word) || respelt && (holds("defense") || holds("defence"))) {
        return false;
    }
    let role = role.to_lowercase().replace('-', " ");
    let mut forms = vec![role.clone()];
    if let Some(office) = role.strip_suffix(" minister") {
        let office = if office == "foreign" {
            "foreign affairs"
        } else {
            office
        };
        for preposition in ["of", "of the", "for"] {
            forms.push(format!("minister {preposition} {office}"));
        }
        forms.push(format!("{office} minister"));
    }
    // "Secretary of the Treasury" is "Treasury Secretary", "Chair of the Federal Reserve" the
    // "Federal Reserve chairman"; not an office for a portfolio ("Minister of State for ...").
    for head in [
        "secretary",
        "chair",
        "chairman",
        "governor",
        "president",
        "director",
    ] {
        let Some(body) = role
            .strip_prefix(head)
            .and_then(|rest| rest.strip_prefix(" of "))
            .map(|rest| rest.strip_prefix("the ").unwrap_or(rest))
        else {
            continue;
        };
        if body.is_empty() || body.contains(" for ") {
            continue;
        }
        let heads: &[&str] = match head {
            "chair" | "chairman" => &["chair", "chairman", "chairwoman"],
            _ => &[head],
        };
        for head in heads {
            forms.push(format!("{body} {head}"));
        }
    }
    // American and British spellings of the same office.
    let respelt: Vec<String> = forms
        .iter()
        .filter(|form| form.contains("defense") || form.contains("defence"))
        .map(|form| {
            if form.contains("defense") {
                form.replace("defense", "defence")
            } else {
                form.replace("defence", "defense")
            }
        })
        .collect();
    forms.extend(respelt);
    // "Foreign Ministry Spokesman" is also "the spokesman for (Iran's) Foreign Ministry".
    let inverted = role
        .rsplit_once(' ')
        .is_some_and(|(body, head)| !body.is_empty() && names_inverted_role(lower, head, body));
    inverted
        || forms.iter().any(|form| {
            lower.match_indices(form.as_str()).any(|(start, _)| {
                at_word_boundaries(lower, &(start..start + form.len()))
                    && !after_lesser_office(lower, start)
            })
        })
}

/// Whether the word before `offset` of a title (lower case) makes the office after it a
/// lesser one: "deputy foreign minister", "vice president", "shadow chancellor".
fn after_lesser_office(lower: &str, offset: usize) -> bool {
    let previous = lower
        .get(..offset)
        .unwrap_or("")
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|w| !w.is_empty())
        .unwrap_or("");
    matches!(
        previous,
        "deputy" | "vice" | "assistant" | "junior" | "under" | "shadow"
    )
}

/// Whether a title (lower case) names the role "`body` `head`" the other way round: "`head`
/// of|for [the] `body`", with at most one word naming whose body it is between ("spokesman for
/// Iran's foreign ministry", "spokesman for the Iranian foreign ministry"), and no lesser
/// office before the head ("deputy spokesman").
fn names_inverted_role(lower: &str, head: &str, body: &str) -> bool {
    lower.match_indices(head).any(|(start, _)| {
        let end = start + head.len();
        if !at_word_boundaries(lower, &(start..end)) || after_lesser_office(lower, start) {
            return false;
        }
        let Some(rest) = lower.get(end..).and_then(|rest| {
            rest.strip_prefix(" of ")
                .or_else(|| rest.strip_prefix(" for "))
        }) else {
            return false;
        };
        let rest = rest.strip_prefix("the ").unwrap_or(rest);
        // The body ends the title, or a punctuation mark or "of" follows it ("the foreign
        // ministry of Iran"); not "the foreign ministry staff union", nor "the foreign
        // ministry's staff union".
        let names_body = |text: &str| {
            text.strip_prefix(body).is_some_and(|after| {
                let next = after.trim_start();
                !after.starts_with(|c: char| c.is_alphanumeric() || matches!(c, '\'' | '\u{2019}'))
                    && (next.is_empty()
                        || !next.starts_with(char::is_alphanumeric)
                        || next.starts_with("of "))
            })
        };
        names_body(rest)
            || rest
                .split_once(' ')
                .is_some_and(|(_whose, after)| names_body(after))
    })
}

/// Whether a body's name ends in the head of a state's body: "Foreign Ministry", "Iraqi
/// Embassy".
fn is_state_body(name: &str) -> bool {
    name.rsplit(' ').next().is_some_and(|head| {
        matches!(
            head,
            "Ministry" | "Government" | "Embassy" | "Consulate" | "Cabinet" | "Presidency"
        )
    })
}

/// When an article was written, judged with the people it quotes too (for an article its
/// titles cannot date, date only loosely, or contradict the date read from its text): the
/// period when the most of them held the roles the knowledge base knows for them (a speaker is
/// mostly quoted while in office) and the titled people the roles their titles name, as
/// [`estimate_period`] judges it. A speaker given a title is judged by it alone. `None` when
/// neither names a known role, or when they point to two separate periods.
pub(crate) fn estimate_period_from_speakers(
    context: &Context<'_>,
    drafts: &[Draft],
) -> Option<Period> {
    // The titles stay evidence: "President Trump" (two terms) with an untitled speaker of the
    // 1990s is two periods, not the 1990s.
    let mut evidence = context.titles.clone();
    let mut speakers: Vec<&SpeakerRef> = drafts.iter().map(|draft| &draft.speaker).collect();
    while let Some(speaker) = speakers.pop() {
        match speaker {
            SpeakerRef::Group(members) => speakers.extend(members),
            SpeakerRef::Entity {
                entity: entity @ EntityRef::Kb(index),
                out_of_office: false,
                ..
            } => {
                let Some(kb) = context.index.entity(*index) else {
                    continue;
                };
                // A speaker the article gives any title has been judged by it: a title naming
                // another office than the knowledge base knows ("Deputy Foreign Minister") must
                // not date the article by the roles it does not name.
                if kb.entity.kind != EntityKind::Person || context.titles.contains_key(entity) {
                    continue;
                }
                let terms = kb.entity.affiliations.iter().map(term_of).collect();
                evidence.entry(*entity).or_insert(TitleEvidence {
                    governments: Vec::new(),
                    terms,
                    out_of_office: false,
                });
            }
            SpeakerRef::Entity { .. } | SpeakerRef::Description { .. } => {}
        }
    }
    estimate_period(&evidence)
}

const OPEN_START: i32 = i32::MIN / 4;
const OPEN_END: i32 = i32::MAX / 4;

/// A role's term in days since the epoch, an open bound far out.
fn term_of(affiliation: &Affiliation) -> (i32, i32) {
    (
        affiliation.start.map_or(OPEN_START, Date::days_since_epoch),
        affiliation.end.map_or(OPEN_END, Date::days_since_epoch),
    )
}

/// When an article was written, as the terms of its people tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    /// In days since the epoch. When the period is open-ended, it ends at its last bound or
    /// a year after its start, whichever is later: news of a new officeholder is nearly all
    /// written in their first years.
    pub(crate) days: Range<i32>,
    /// Whether the last bound is the start of a term still open: nothing ends the period.
    pub(crate) open_ended: bool,
}

impl Period {
    /// Whether the people could have held their roles on `day`.
    pub(crate) fn allows(&self, day: i32) -> bool {
        day >= self.days.start && (self.open_ended || day < self.days.end)
    }

    /// Whether this period lies inside `other` (any end inside an open-ended one) and says
    /// more than it: a later start or an earlier end.
    pub(crate) fn narrows(&self, other: &Period) -> bool {
        let inside = self.days.start >= other.days.start
            && (other.open_ended || (!self.open_ended && self.days.end <= other.days.end));
        inside && (self.days.start > other.days.start || self.days.end < other.days.end)
    }
}

/// Whether any official the article titles with a known role held it on `day` (in days since
/// the epoch); `None` when no title names a role whose terms are known. Unlike
/// [`estimate_period`], it answers when the titles point to separate periods too: "President
/// Donald Trump" alone is two terms, and a text date in neither is some other event's.
pub(crate) fn anyone_titled_in_office(
    titles: &HashMap<EntityRef, TitleEvidence>,
    day: i32,
) -> Option<bool> {
    let mut known = titled_terms(titles).peekable();
    known.peek()?;
    Some(known.any(|terms| in_office(terms, day)))
}

/// The terms of the roles each person not called former is titled with, for those the
/// knowledge base knows terms of.
fn titled_terms(titles: &HashMap<EntityRef, TitleEvidence>) -> impl Iterator<Item = &[(i32, i32)]> {
    titles
        .values()
        .filter(|t| !t.out_of_office && !t.terms.is_empty())
        .map(|t| t.terms.as_slice())
}

/// Whether one of `terms` (in days since the epoch, both bounds held) holds `day`.
fn in_office(terms: &[(i32, i32)], day: i32) -> bool {
    terms.iter().any(|&(start, end)| start <= day && day <= end)
}

/// When an undated article was written, judged from the offices its people are titled with:
/// the period, in days since the epoch, when the most of them held the roles the article
/// gives them ("President Trump", "Foreign Secretary Dominic Raab"). `None` when no title
/// names a known role, or when the evidence points to two separate periods.
pub(crate) fn estimate_period(titles: &HashMap<EntityRef, TitleEvidence>) -> Option<Period> {
    let mut people = titled_terms(titles);
    // One person with several terms: nothing tells them apart.
    if let (Some(only), None) = (people.next(), people.next())
        && only.len() > 1
    {
        return None;
    }
    match <[Period; 1]>::try_from(periods_in_office(titles)) {
        Ok([period]) => Some(period),
        Err(_) => None,
    }
}

/// For an article whose date read from the text the titles contradict but cannot date alone
/// ("President Donald Trump" is two terms): of the periods they allow, the one nearest that
/// date. A story names past events' dates ("the 2003 invasion of Iraq") and plans' ("output
/// to rise by March 2022"), both mostly within a few years of when it was written.
pub(crate) fn period_nearest(
    titles: &HashMap<EntityRef, TitleEvidence>,
    day: i32,
) -> Option<Period> {
    // A rejected day lies outside every period: before its start or after its last day.
    periods_in_office(titles).into_iter().min_by_key(|period| {
        if day < period.days.start {
            period.days.start - day
        } else if period.open_ended {
            0
        } else {
            day - (period.days.end - 1)
        }
    })
}

/// The periods, in order, when the most of the titled people held the roles their titles
/// name: one, unless the evidence points to separate periods; none without known terms.
fn periods_in_office(titles: &HashMap<EntityRef, TitleEvidence>) -> Vec<Period> {
    let people: Vec<&[(i32, i32)]> = titled_terms(titles).collect();
    let mut points: Vec<i32> = people
        .iter()
        .flat_map(|terms| terms.iter().flat_map(|&(s, e)| [s, e]))
        .filter(|&d| d != OPEN_START && d != OPEN_END)
        .collect();
    points.sort_unstable();
    points.dedup();
    let count = |day: i32| people.iter().filter(|terms| in_office(terms, day)).count();
    let Some(best) = points
        .iter()
        .map(|&d| count(d))
        .max()
        .filter(|&best| best > 0)
    else {
        return Vec::new();
    };
    // Runs of consecutive bounds where that many people were in office.
    let mut runs: Vec<(i32, i32)> = Vec::new();
    let mut run: Option<(i32, i32)> = None;
    for &point in &points {
        if count(point) < best {
            runs.extend(run.take());
            continue;
        }
        run = match run {
            // Counts only change at term bounds: a dip between two shows at their midpoint.
            Some((first, last)) if count(last + (point - last) / 2) == best => Some((first, point)),
            Some(ended) => {
                runs.push(ended);
                Some((point, point))
            }
            None => Some((point, point)),
        };
    }
    runs.extend(run);
    runs.into_iter()
        .map(|(first, last)| {
            // The last bound a term's start (that term still open): the year after it.
            let open_ended = count(last + 1) == best;
            let last = if open_ended {
                last.max(first + 360)
            } else {
                last
            };
            Period {
                days: first..last + 1,
                open_ended,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_office_is_named_by_the_start_of_a_role() {
        assert!(holds_office_named("President", "president"));
        assert!(holds_office_named("President (acting)", "president"));
        assert!(holds_office_named("Foreign Minister", "foreign minister"));
        assert!(!holds_office_named("First Vice President", "president"));
        assert!(!holds_office_named("Presidential Spokesman", "president"));
        assert!(holds_office_named("Secretary-General", "secretary general"));
        assert!(holds_office_named(
            "Vice President and Prime Minister",
            "prime minister"
        ));
        assert!(!holds_office_named(
            "Deputy Foreign Minister for Legal Affairs",
            "foreign minister"
        ));
    }

    #[test]
    fn a_period_narrows_another_only_from_inside() {
        let period = |start, end, open_ended| Period {
            days: start..end,
            open_ended,
        };
        // A later start or an earlier end, inside.
        assert!(period(10, 100, false).narrows(&period(0, 100, false)));
        assert!(period(0, 50, false).narrows(&period(0, 100, false)));
        // Any end inside an open-ended period, from a later start.
        assert!(period(500, 900, false).narrows(&period(0, 361, true)));
        assert!(period(500, 900, true).narrows(&period(0, 361, true)));
        // Not the same period, not a longer one from the same start, not one outside.
        assert!(!period(0, 100, false).narrows(&period(0, 100, false)));
        assert!(!period(0, 800, false).narrows(&period(0, 361, true)));
        assert!(!period(50, 150, false).narrows(&period(0, 100, false)));
        assert!(!period(10, 100, true).narrows(&period(0, 100, false)));
        // Open-ended: any later day is allowed, none before the start.
        assert!(period(0, 361, true).allows(5000));
        assert!(!period(0, 361, true).allows(-1));
        assert!(!period(0, 361, false).allows(361));
    }

    #[test]
    fn titles_name_roles_in_their_common_wordings() {
        for (title, role) in [
            ("treasury secretary", "Secretary of the Treasury"),
            ("u.s. defense secretary", "Secretary of Defense"),
            ("defence secretary", "Secretary of Defense"),
            ("federal reserve chairman", "Chair of the Federal Reserve"),
            (
                "the bank of japan governor",
                "Governor of the Bank of Japan",
            ),
            (
                "chairman of the council of economic advisers",
                "Chairman of the Council of Economic Advisers",
            ),
            ("президент", "Президент"),
            // Folded text has spaces for hyphens.
            ("un secretary general", "Secretary-General"),
        ] {
            assert!(title_names_role(title, role), "{title} / {role}");
        }
        for (title, role) in [
            ("treasury secretary", "Secretary of State"),
            ("deputy treasury secretary", "Secretary of the Treasury"),
            ("state secretary", "Secretary of State for Energy"),
        ] {
            assert!(!title_names_role(title, role), "{title} / {role}");
        }
    }

    #[test]
    fn a_role_is_named_either_way_round() {
        let role = "Foreign Ministry Spokesman";
        for named in [
            "the spokesman for iran’s foreign ministry",
            "spokesman for the foreign ministry",
            "the spokesman of the iranian foreign ministry",
            "foreign ministry spokesman",
            "the spokesman for the foreign ministry of iran",
            "spokesman for the foreign ministry ",
        ] {
            assert!(title_names_role(named, role), "{named}");
        }
        for not_named in [
            "deputy spokesman for the foreign ministry",
            "the spokesman for the defence ministry",
            "the spokesman for the ministry",
            "spokesman for the foreign ministry staff union",
            "spokesman for the foreign ministry\u{2019}s staff union",
            "spokesmanship of the foreign ministry",
        ] {
            assert!(!title_names_role(not_named, role), "{not_named}");
        }
    }

    #[test]
    fn last_clause_mark_is_rfind() {
        let marks = [';', ':', '\u{2013}', '\u{2014}', '\u{201d}', '"'];
        for head in [
            "",
            "plain words",
            "a; b: c",
            "he said \u{2014} and then",
            "\u{201c}quoted\u{201d} then – more",
            "\u{2019}\u{2018}\u{2026} no marks \u{20ac}",
            "x\u{201d}y; z\u{2013}w",
            "\u{2014}",
            "ends with \"",
        ] {
            assert_eq!(last_clause_mark(head), head.rfind(marks), "{head:?}");
        }
    }
}

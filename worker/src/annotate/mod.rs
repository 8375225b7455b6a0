//! The annotator: finds the entities an article mentions, the statements it quotes or reports,
//! who made them and for which government, and how each statement leans toward what it names.
//!
//! One [`Annotator`] is built from the knowledge base (automata over every name, alias, demonym
//! and seat of government, and over the stance vocabulary) and shared between threads; each
//! call to [`Annotator::annotate`] works on one article and never panics.
//!
//! Dates: a person speaks for the governments of the roles they hold on the article's date.
//! An article without one is dated from the offices its officials are titled with and the
//! days it names ([`Annotation::estimated_date`]), the terms of the people it quotes dating it
//! where the titles cannot and narrowing their period where they can (a date read from the
//! text that falls outside them gives way too, as does one in none of the terms the titles
//! name, to the term nearest it); failing that, the roles with no end date count
//! (the ones held now, as far as the knowledge base knows).

mod attribution;
mod cues;
mod dating;
mod entities;
pub mod eval;
mod lexicon;
mod quotes;
mod stance;
#[cfg(test)]
mod tests;
mod text;

use std::borrow::Cow;
use std::ops::Range;

// foldhash instead of SipHash: the maps here hold one article's words and entities, where
// DoS resistance buys nothing and SipHash was a tenth of the annotation time.
pub(crate) use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use communique_domain::{
    Date, Entity, EntityKind, Government, KnowledgeBase, Mention, Span, Statement, TextField,
};

pub use dating::DateEstimate;

use attribution::Draft;
use cues::{CueMatch, CueMatcher};
use entities::{
    ArticleEntities, EntityIndex, EntityRef, FieldEntities, FieldView, Found, LowercaseWords,
};
use text::{FoldedText, Word};

/// The text of an article as the annotator reads it.
pub struct ArticleText<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub published: Option<Date>,
}

/// What the annotator found in one article.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotation {
    pub mentions: Vec<Mention>,
    pub statements: Vec<Statement>,
    /// Every entity referenced by a mention, speaker or target, once, with its knowledge-base
    /// aliases and affiliations.
    pub entities: Vec<Entity>,
    /// For an article given without a date, or with one inferred from its text that its
    /// officials' titles contradict: the date the annotator judged it was written, at which it
    /// resolved everyone's roles. Read from the text (officials' titles, named days, else the
    /// terms of the people quoted), so approximate when no day is named.
    pub estimated_date: Option<DateEstimate>,
}

/// Prebuilt automata over the knowledge base and the lexicon; `Send + Sync`, build once.
pub struct Annotator {
    index: EntityIndex,
    cues: CueMatcher,
    kb: KnowledgeBase,
}

/// Articles longer than this are annotated on their first part only, bounding the work.
const MAX_FIELD_BYTES: usize = 1 << 20;

/// One field of an article with everything found in it, in folded offsets.
pub(crate) struct Field<'a> {
    pub(crate) id: TextField,
    pub(crate) folded: FoldedText<'a>,
    /// The folded text in ASCII lower case: same offsets, so a word's lower-case form is a
    /// slice of it instead of a new string per rule that asks.
    pub(crate) lower: String,
    pub(crate) words: Vec<Word>,
    /// For each block of [`WORD_BLOCK_BYTES`] bytes of the text, how many words start before
    /// it: where a search for the words of a range starts (see [`Field::words_before`]).
    word_blocks: Vec<u32>,
    /// The shapes of the words not starting with an ASCII capital, for [`LowercaseWords`].
    lowercase_shapes: text::WordShapes,
    pub(crate) paragraphs: Vec<Range<usize>>,
    pub(crate) sentences: Vec<Range<usize>>,
    pub(crate) found: Vec<Found>,
    pub(crate) cues: Vec<CueMatch>,
    pub(crate) quotes: Vec<quotes::Quote>,
}

/// Bytes per block of [`Field::word_blocks`]: a few words each.
const WORD_BLOCK_BYTES: usize = 32;

/// For each block of [`WORD_BLOCK_BYTES`] bytes of a text of `length` bytes (and the block
/// after its end), how many of `words` start before the block.
fn word_blocks(length: usize, words: &[Word]) -> Vec<u32> {
    let blocks = length / WORD_BLOCK_BYTES + 2;
    let mut table = Vec::with_capacity(blocks);
    for (index, word) in words.iter().enumerate() {
        // The blocks starting after the word before and up to this word's start.
        while table.len() * WORD_BLOCK_BYTES <= word.start {
            table.push(u32::try_from(index).unwrap_or(u32::MAX));
        }
    }
    let all = u32::try_from(words.len()).unwrap_or(u32::MAX);
    table.resize(blocks.max(table.len()), all);
    table
}

impl Field<'_> {
    pub(crate) fn text(&self) -> &str {
        &self.folded.text
    }

    /// How many words start before `offset`: `words.partition_point(|w| w.start < offset)`,
    /// read from the block holding `offset` and the few words starting in it before `offset`
    /// (ranges are asked about tens of times per sentence).
    pub(crate) fn words_before(&self, offset: usize) -> usize {
        let Some(&before_block) = self.word_blocks.get(offset / WORD_BLOCK_BYTES) else {
            return self.words.partition_point(|w| w.start < offset);
        };
        let mut index = before_block as usize;
        while self.words.get(index).is_some_and(|w| w.start < offset) {
            index += 1;
        }
        index
    }

    /// `self.text().get(range)` in lower case (`str::to_lowercase`): borrowed from `lower` when
    /// the slice is ASCII, where the two agree; `None` off the text or its char boundaries.
    pub(crate) fn lowercase(&self, range: Range<usize>) -> Option<Cow<'_, str>> {
        let slice = self.text().get(range.clone())?;
        if slice.is_ascii()
            && let Some(lower) = self.lower.get(range)
        {
            return Some(Cow::Borrowed(lower));
        }
        Some(Cow::Owned(slice.to_lowercase()))
    }

    /// The mentions lying inside `start..end`, in order: `found.iter().filter(|f| f.start >=
    /// start && f.end <= end)` without walking the whole list, since `found` is sorted by
    /// start once the names are found (and a mention never ends before it starts).
    pub(crate) fn found_within(
        &self,
        start: usize,
        end: usize,
    ) -> impl DoubleEndedIterator<Item = &Found> {
        let first = self.found.partition_point(|f| f.start < start);
        let after = self.found.get(first..).unwrap_or(&[]);
        let count = partition_point_near_start(after, |f| f.start <= end);
        after
            .get(..count)
            .unwrap_or(&[])
            .iter()
            .filter(move |f| f.end <= end)
    }

    /// The cues lying inside `start..end`, in order (see [`cues_within`]).
    pub(crate) fn cues_within(
        &self,
        start: usize,
        end: usize,
    ) -> impl DoubleEndedIterator<Item = &CueMatch> {
        cues_within(&self.cues, start, end)
    }

    fn view<'v>(&'v self, index: &'v EntityIndex) -> FieldView<'v> {
        FieldView {
            text: &self.folded.text,
            words: &self.words,
            paragraphs: &self.paragraphs,
            sentences: &self.sentences,
            given_names: &index.given_names,
            country_words: &index.country_word_set,
        }
    }
}

/// Everything the later stages need to know about the article as a whole.
pub(crate) struct Context<'k> {
    pub(crate) index: &'k EntityIndex,
    pub(crate) kb: &'k KnowledgeBase,
    pub(crate) date: Option<Date>,
    pub(crate) article: ArticleEntities,
    /// Official titles the article gives each person.
    pub(crate) titles: HashMap<EntityRef, attribution::TitleEvidence>,
}

impl Annotator {
    pub fn new(kb: &KnowledgeBase) -> Annotator {
        // Shared tables built on first use: built here, once, so that no article pays for them.
        lexicon::build_word_sets();
        entities::build_phrase_automata();
        attribution::build_relative_markers();
        Annotator {
            index: EntityIndex::new(kb),
            cues: CueMatcher::new(),
            kb: kb.clone(),
        }
    }

    pub fn annotate(&self, article: &ArticleText<'_>) -> Annotation {
        self.annotate_dated(article, false)
    }

    /// [`Annotator::annotate`], told whether the article's date was only inferred from dates
    /// its text mentions: such a date is dropped for an estimate when it falls outside the
    /// period the officials' titles point to (a text also names the dates of old events).
    pub fn annotate_dated(&self, article: &ArticleText<'_>, date_from_text: bool) -> Annotation {
        let title = truncate(article.title);
        let body = truncate(article.body);
        let mut fields: Vec<Field<'_>> = [(TextField::Title, title), (TextField::Body, body)]
            .into_iter()
            .map(|(id, source)| self.prepare(id, source))
            .collect();

        // Knowledge-base names, then surnames linked to the people the article names in full.
        let mut raw: Vec<FieldEntities> = fields
            .iter()
            .map(|field| self.index.scan(field.text(), &field.words))
            .collect();
        let full_people = self.index.full_people(&raw.iter().collect::<Vec<_>>());
        let mut governments_named = HashSet::new();
        for field_entities in &raw {
            self.index
                .governments_named(field_entities, &mut governments_named);
        }
        let lowercase = LowercaseWords::new(
            fields
                .iter()
                .map(|field| {
                    (
                        field.text(),
                        field.words.as_slice(),
                        &field.lowercase_shapes,
                    )
                })
                .collect(),
        );
        for (field, field_entities) in fields.iter().zip(raw.iter_mut()) {
            self.index.resolve(
                &field.view(&self.index),
                field_entities,
                &full_people,
                &governments_named,
                &lowercase,
            );
        }

        // Names the knowledge base does not know.
        let mut article_entities = ArticleEntities::new();
        {
            let mut pairs: Vec<(FieldView<'_>, &mut FieldEntities)> = fields
                .iter()
                .zip(raw.iter_mut())
                .map(|(field, entities)| (field.view(&self.index), entities))
                .collect();
            article_entities.find_unknown(&self.index, &mut pairs, &lowercase);
        }
        for (field, field_entities) in fields.iter_mut().zip(raw) {
            field.found = field_entities.found;
        }
        show_names_as_written(&mut article_entities, &fields);

        let titles = attribution::read_titles(&self.index, &fields, &article_entities);
        let period = attribution::estimate_period(&titles);
        // A date read from the text is contradicted when the officials titled were not in
        // office on it: in the period the titles give, or, where they give several ("President
        // Trump" is two terms), in any of their terms.
        let contradicted = |date: Date| {
            let day = date.days_since_epoch();
            date_from_text
                && match &period {
                    Some(period) => !period.allows(day),
                    None => attribution::anyone_titled_in_office(&titles, day) == Some(false),
                }
        };
        let text_date_rejected = article.published.is_some_and(contradicted);
        let given_date = article.published.filter(|_| !text_date_rejected);
        // Titles that allow several periods and reject the text's date: the one nearest it,
        // unless the people quoted tell (below).
        let nearest_period = match article.published {
            Some(date) if text_date_rejected && period.is_none() => {
                attribution::period_nearest(&titles, date.days_since_epoch())
            }
            _ => None,
        };
        let estimated_date = match given_date {
            Some(_) => None,
            None => period
                .as_ref()
                .or(nearest_period.as_ref())
                .and_then(|period| dating::date_in_period(&[title, body], &period.days)),
        };
        let mut context = Context {
            index: &self.index,
            kb: &self.kb,
            date: estimated_date.map(DateEstimate::date).or(given_date),
            article: article_entities,
            titles,
        };
        let read_statements = |context: &Context<'_>| {
            let mut drafts: Vec<Draft> = Vec::new();
            for (field_index, field) in fields.iter().enumerate() {
                attribution::find_statements(context, field, field_index, &mut drafts);
            }
            drafts
        };
        let mut drafts = read_statements(&context);
        // An article the titles alone could not date, or only to within a period the people
        // quoted narrow (one official titled, "European Commission President Barroso",
        // 2004-2014): they date it too, so that they speak for the governments they served
        // then rather than for none. Their evidence only narrows the titles' period. A
        // date read from the text is often the date of an older event ("since Reagan took
        // office on January 20, 1981"): it gives way to them too when they were not all in
        // office on it. The statements are then read again at the new date, so that a speaker
        // named by a role alone ("the prime minister") is its holder then, not the one the
        // first date (or, with none, today) gave.
        let date_from_metadata = article.published.is_some() && !date_from_text;
        let text_date_kept = date_from_text && given_date.is_some();
        let mut estimated_date = estimated_date;
        if !date_from_metadata
            && let Some(narrower) = attribution::estimate_period_from_speakers(&context, &drafts)
            && period
                .as_ref()
                .is_none_or(|period| narrower.narrows(period))
            && !(text_date_kept
                && context
                    .date
                    .is_some_and(|date| narrower.allows(date.days_since_epoch())))
            && let Some(estimate) = dating::date_in_period(&[title, body], &narrower.days)
        {
            estimated_date = Some(estimate);
            if context.date != Some(estimate.date()) {
                context.date = Some(estimate.date());
                drafts = read_statements(&context);
            }
        }
        stance::assess(&context, &fields, &mut drafts);
        let mut annotation = self.assemble(&mut context, &fields, drafts);
        annotation.estimated_date = estimated_date;
        annotation
    }

    fn prepare<'a>(&self, id: TextField, source: &'a str) -> Field<'a> {
        let folded = FoldedText::new(source);
        let (words, lowercase_shapes) = text::words(&folded.text);
        let paragraphs = text::paragraphs(&folded.text);
        // Presized for news sentences (a hundred-odd bytes) so that it rarely grows.
        let mut sentences = Vec::with_capacity(folded.text.len() / 80 + 1);
        for paragraph in &paragraphs {
            text::sentences(&folded.text, paragraph.clone(), &mut sentences);
        }
        let cues = self.cues.scan(&folded.text, &words);
        let quotes = quotes::scan(&folded.text, &paragraphs);
        let lower = folded.text.to_ascii_lowercase();
        let word_blocks = word_blocks(folded.text.len(), &words);
        Field {
            id,
            folded,
            lower,
            words,
            lowercase_shapes,
            word_blocks,
            paragraphs,
            sentences,
            found: Vec::new(),
            cues,
            quotes,
        }
    }

    fn assemble(
        &self,
        context: &mut Context<'_>,
        fields: &[Field<'_>],
        drafts: Vec<Draft>,
    ) -> Annotation {
        let mut annotation = Annotation {
            // At most one mention per name found: no growing while they are pushed.
            mentions: Vec::with_capacity(fields.iter().map(|field| field.found.len()).sum()),
            ..Annotation::default()
        };
        let mut referenced: Vec<EntityRef> = Vec::new();
        let mut seen: HashSet<EntityRef> = HashSet::new();
        let mut reference = |entity: EntityRef, referenced: &mut Vec<EntityRef>| {
            if seen.insert(entity) {
                referenced.push(entity);
            }
        };
        let is_person = |found: &Found| {
            entity_kind(context, found.entity).is_some_and(|kind| kind == EntityKind::Person)
        };
        for field in fields {
            let view = field.view(&self.index);
            for found in &field.found {
                let Some(entity) =
                    self.index
                        .published_entity(&view, found, &is_person, &field.found)
                else {
                    continue;
                };
                let Some(range) = field.folded.source_range(found.start..found.end) else {
                    continue;
                };
                let Some(text) = field.folded.source.get(range.clone()) else {
                    continue;
                };
                let Some((id, name, kind)) = entity_identity(context, entity) else {
                    continue;
                };
                reference(entity, &mut referenced);
                annotation.mentions.push(Mention {
                    entity_id: id,
                    entity_name: name,
                    kind,
                    text: text.to_owned(),
                    span: span(field.id, range),
                });
            }
        }
        let mut statements: Vec<(TextField, usize, Statement)> = Vec::new();
        for draft in drafts {
            let Some(field) = fields.get(draft.field) else {
                continue;
            };
            let Some(range) = field.folded.source_range(draft.range.clone()) else {
                continue;
            };
            let Some(text) = field.folded.source.get(range.clone()) else {
                continue;
            };
            let (speaker, speaker_entities) = attribution::speaker_of(context, &draft.speaker);
            for entity in speaker_entities {
                reference(entity, &mut referenced);
            }
            let governments = attribution::governments_of(context, &draft.speaker);
            let mut targets = Vec::new();
            for (entity, polarity) in &draft.targets {
                if is_the_speakers_state(context, *entity, &governments) {
                    continue;
                }
                if let Some((id, name, _)) = entity_identity(context, *entity) {
                    reference(*entity, &mut referenced);
                    targets.push(communique_domain::Target {
                        entity_id: id,
                        name,
                        polarity: *polarity,
                    });
                }
            }
            statements.push((
                field.id,
                range.start,
                Statement {
                    ordinal: 0,
                    text: text.to_owned(),
                    kind: draft.kind,
                    speaker,
                    governments,
                    targets,
                    act: draft.act,
                    span: span(field.id, range),
                },
            ));
        }
        statements.sort_by_key(|(field, start, _)| (*field, *start));
        annotation.statements = statements
            .into_iter()
            .enumerate()
            .map(|(ordinal, (_, _, mut statement))| {
                statement.ordinal = u32::try_from(ordinal).unwrap_or(u32::MAX);
                statement
            })
            .collect();
        annotation.entities = referenced
            .into_iter()
            .filter_map(|entity| entity_definition(context, entity))
            .collect();
        annotation
    }
}

/// Names the knowledge base does not know are read in the folded text ("Jean Marc Daniel",
/// "Amelie"); they are shown as the article writes them ("Jean-Marc Daniel", "Amélie").
fn show_names_as_written(article: &mut ArticleEntities, fields: &[Field<'_>]) {
    // One pass over the mentions: the first one of each name as the article writes it.
    let mut settled = vec![false; article.locals.len()];
    for field in fields {
        for found in &field.found {
            let EntityRef::Local(index) = found.entity else {
                continue;
            };
            let (Some(done), Some(local)) = (settled.get_mut(index), article.locals.get_mut(index))
            else {
                continue;
            };
            if *done || field.text().get(found.start..found.end) != Some(local.name.as_str()) {
                continue;
            }
            *done = true;
            let Some(source) = field
                .folded
                .source_range(found.start..found.end)
                .and_then(|range| field.folded.source.get(range))
            else {
                continue;
            };
            let written = source.split_whitespace().collect::<Vec<_>>().join(" ");
            if FoldedText::new(&written).text == local.name {
                local.name = written;
            }
        }
    }
}

/// The cues of `cues` lying inside `start..end`, in order: `cues.iter().filter(|c| c.start >=
/// start && c.end <= end)` without walking the whole list. Cues come from the scan in text
/// order, none overlapping, so they are sorted by start (and none ends before it starts).
pub(crate) fn cues_within(
    cues: &[CueMatch],
    start: usize,
    end: usize,
) -> impl DoubleEndedIterator<Item = &CueMatch> {
    let first = cues.partition_point(|c| c.start < start);
    let after = cues.get(first..).unwrap_or(&[]);
    let count = partition_point_near_start(after, |c| c.start <= end);
    after
        .get(..count)
        .unwrap_or(&[])
        .iter()
        .filter(move |c| c.end <= end)
}

/// `slice.partition_point(holds)`, for a `holds` true on the first few elements only (the
/// words, mentions or cues of a short range, counted from the range's first): bounded by
/// doubling steps from the start before the binary search, which then reads only them.
fn partition_point_near_start<T>(slice: &[T], holds: impl Fn(&T) -> bool) -> usize {
    let mut bound = 1;
    while bound < slice.len() && slice.get(bound - 1).is_some_and(&holds) {
        bound *= 2;
    }
    // `holds` is false at `bound - 1`, or `bound` reaches the end: the point lies before it.
    slice
        .get(..bound.min(slice.len()))
        .map_or(0, |head| head.partition_point(holds))
}

fn span(field: TextField, range: Range<usize>) -> Span {
    Span {
        field,
        start: u32::try_from(range.start).unwrap_or(u32::MAX),
        end: u32::try_from(range.end).unwrap_or(u32::MAX),
    }
}

fn truncate(text: &str) -> &str {
    if text.len() <= MAX_FIELD_BYTES {
        return text;
    }
    let mut end = MAX_FIELD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The kind of an entity: what most rules ask, without copying its id and name.
pub(crate) fn entity_kind(context: &Context<'_>, entity: EntityRef) -> Option<EntityKind> {
    match entity {
        EntityRef::Kb(index) => context.index.entity(index).map(|e| e.entity.kind),
        EntityRef::Local(index) => context.article.locals.get(index).map(|l| l.kind),
    }
}

/// Whether `entity` is the one government a statement speaks for: the state (or alliance,
/// union) a speaker speaks for is not a target of what they say. "The United States will
/// quickly & fully strike back", said by the US president, is no stance of the US toward the
/// US; counted as one, every government leaned toward itself from its officials' talk of their
/// own country. Organs of that government stay targets: a president may well criticise his
/// own congress.
fn is_the_speakers_state(
    context: &Context<'_>,
    entity: EntityRef,
    governments: &[Government],
) -> bool {
    let EntityRef::Kb(index) = entity else {
        return false;
    };
    context.index.entity(index).is_some_and(|kb| {
        matches!(
            kb.entity.kind,
            EntityKind::Country | EntityKind::IntergovernmentalOrganization
        ) && kb.government.as_ref().is_some_and(|code| {
            // Several governments ("Merkel and Putin said Russia must..."): the state is one
            // member's own and the others' target, and a statement's targets are shared.
            matches!(governments, [only] if &only.code == code)
        })
    })
}

/// Id, display name and kind of an entity.
pub(crate) fn entity_identity(
    context: &Context<'_>,
    entity: EntityRef,
) -> Option<(String, String, EntityKind)> {
    match entity {
        EntityRef::Kb(index) => context
            .index
            .entity(index)
            .map(|e| (e.entity.id.clone(), e.entity.name.clone(), e.entity.kind)),
        EntityRef::Local(index) => context
            .article
            .locals
            .get(index)
            .map(|l| (l.id.clone(), l.name.clone(), l.kind)),
    }
}

fn entity_definition(context: &Context<'_>, entity: EntityRef) -> Option<Entity> {
    match entity {
        EntityRef::Kb(index) => context.index.entity(index).map(|e| e.entity.clone()),
        EntityRef::Local(index) => context.article.locals.get(index).map(|l| Entity {
            id: l.id.clone(),
            name: l.name.clone(),
            kind: l.kind,
            aliases: l.aliases.clone(),
            affiliations: l.affiliation.iter().cloned().collect(),
            government_code: None,
        }),
    }
}

/// Mentions per entity, used to find the most salient person of an article.
pub(crate) fn salience(context: &Context<'_>, entity: EntityRef) -> u32 {
    context
        .article
        .mention_counts
        .get(&entity)
        .copied()
        .unwrap_or(0)
}

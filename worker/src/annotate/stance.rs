//! Stance: the targets of each statement (entities it names, and the person a pronoun like
//! "his death" stands for) with a polarity per target, and the act the statement performs.
//! Cues from the lexicon lean toward the entities within their reach in the same clause,
//! weaker with distance; a negator shortly before a cue flips it ("will not lament his death").

use std::ops::Range;

use communique_domain::{Act, EntityKind, StatementKind};

use super::attribution::{Draft, SpeakerRef};
use super::cues::CueMatch;
use super::entities::{Anchor, EntityRef};
use super::lexicon::{PRONOUNS, Reach, STANCE_CUES};
use super::{Context, Field, entity_kind, salience};

/// How many words a cue reaches.
const REACH_WORDS: usize = 9;

/// A target occurrence inside a statement.
#[derive(Clone, Copy)]
struct Occurrence {
    start: usize,
    end: usize,
    entity: EntityRef,
    /// Stands for a pronoun ("his death"), not a name.
    pronoun: bool,
}

pub(crate) fn assess(context: &Context<'_>, fields: &[Field<'_>], drafts: &mut [Draft]) {
    for draft in drafts.iter_mut() {
        let Some(field) = fields.get(draft.field) else {
            continue;
        };
        assess_one(context, field, draft);
    }
}

fn speaker_entities(speaker: &SpeakerRef, out: &mut Vec<EntityRef>) {
    match speaker {
        SpeakerRef::Entity { entity, .. } => out.push(*entity),
        SpeakerRef::Group(members) => {
            for member in members {
                speaker_entities(member, out);
            }
        }
        SpeakerRef::Description { .. } => {}
    }
}

/// A capital or seat of government stands for its state as a target.
fn as_target(context: &Context<'_>, entity: EntityRef, anchor: Anchor) -> EntityRef {
    if let (EntityRef::Kb(index), Anchor::Capital | Anchor::Seat) = (entity, anchor)
        && let Some(kb) = context.index.entity(index)
        && let Some(code) = kb.country.as_ref().or(kb.government.as_ref())
        && let Some(&country) = context.index.country_by_code.get(code)
    {
        return EntityRef::Kb(country);
    }
    entity
}

fn assess_one(context: &Context<'_>, field: &Field<'_>, draft: &mut Draft) {
    let text = field.text();
    let range = draft.range.clone();
    let mut speakers = Vec::new();
    speaker_entities(&draft.speaker, &mut speakers);

    let mut occurrences: Vec<Occurrence> = field
        .found_within(range.start, range.end)
        .filter(|f| !(f.start >= draft.speaker_region.start && f.end <= draft.speaker_region.end))
        .filter(|f| !speakers.contains(&f.entity))
        .map(|f| Occurrence {
            start: f.start,
            end: f.end,
            entity: as_target(context, f.entity, f.anchor),
            pronoun: false,
        })
        .collect();
    let cues: Vec<&CueMatch> = field.cues_within(range.start, range.end).collect();
    // "his death": the person a quote speaks of.
    if draft.kind == StatementKind::Direct
        && let Some(referent) = pronoun_referent(context, field, draft, &speakers)
    {
        for cue in &cues {
            if let Some(index) = cue.entry.pronoun
                && matches!(PRONOUNS.get(index), Some(&("he" | "his" | "him")))
            {
                occurrences.push(Occurrence {
                    start: cue.start,
                    end: cue.end,
                    entity: referent,
                    pronoun: true,
                });
            }
        }
    }
    occurrences.sort_by_key(|o| o.start);

    // The targets in the order they first occur, each with its score: a statement names a
    // few, so two short lists serve where a map cost a hashing per look-up and allocations.
    let mut order: Vec<EntityRef> = Vec::new();
    let mut scores: Vec<f32> = Vec::new();
    for occurrence in &occurrences {
        if !order.contains(&occurrence.entity) {
            order.push(occurrence.entity);
            scores.push(0.0);
        }
    }
    let stops = stop_positions(field, &range, &cues);
    let mut best_act: Option<(f32, Act)> = None;
    let verb_cue = draft
        .verb
        .filter(|v| v.end <= range.start || v.start >= range.end);
    let described_as = described_as(field, draft);
    for cue in cues.iter().copied().chain(verb_cue.as_ref()) {
        let Some(stance) = cue.entry.stance.and_then(|i| STANCE_CUES.get(i)) else {
            continue;
        };
        let negated = is_negated(field, cue, &cues);
        let polarity = if negated {
            -0.8 * stance.polarity
        } else {
            stance.polarity
        };
        let act = match (negated, stance.act) {
            (true, Act::Praise | Act::Support) => Act::Criticize,
            (true, Act::Condemn | Act::Criticize) => Act::Assert,
            (_, act) => act,
        };
        if best_act.is_none_or(|(strength, _)| stance.strength > strength) && stance.strength > 0.0
        {
            best_act = Some((stance.strength, act));
        }
        if polarity == 0.0 {
            continue;
        }
        let is_verb = verb_cue.is_some_and(|v| v.start == cue.start);
        let limit = match stance.max_words {
            0 if is_verb => REACH_WORDS * 2,
            0 => REACH_WORDS,
            // "Iran strike": no word between.
            words => usize::from(words) - 1,
        };
        // "described X as a martyr": the cue after "as" is about what was described.
        if let Some(as_at) = described_as
            && cue.start > as_at
        {
            for occurrence in occurrences.iter().filter(|o| o.end <= as_at) {
                if let Some(score) = score_of(&order, &mut scores, occurrence.entity) {
                    *score += polarity * 0.75;
                }
            }
        }
        // A cue leans toward the nearest entity within its reach in the same clause.
        let mut nearest: Option<usize> = None;
        let mut reached: Vec<(usize, EntityRef)> = Vec::new();
        for occurrence in &occurrences {
            let distance = if occurrence.end <= cue.start {
                if stance.reach == Reach::After && !is_verb {
                    continue;
                }
                // "sanctions against Iran are unlawful": the victim is not what is judged.
                if cues.iter().any(|c| {
                    c.entry.victim
                        && c.end <= occurrence.start
                        && word_count(text, c.end..occurrence.start) <= 2
                }) {
                    continue;
                }
                word_count(text, occurrence.end..cue.start)
            } else if occurrence.start >= cue.end {
                if stance.reach == Reach::Before {
                    continue;
                }
                if stops.iter().any(|&s| s >= cue.end && s < occurrence.start) {
                    continue;
                }
                word_count(text, cue.end..occurrence.start)
            } else {
                0
            };
            if distance > limit || crosses_clause(field, &cues, cue, occurrence) {
                continue;
            }
            if occurrence.pronoun && stance.reach != Reach::After && distance > 1 {
                continue;
            }
            nearest = Some(nearest.map_or(distance, |n: usize| n.min(distance)));
            reached.push((distance, occurrence.entity));
        }
        let Some(nearest) = nearest else {
            continue;
        };
        let weight = 1.0 / (1.0 + nearest as f32 / 3.0);
        let mut applied: Vec<EntityRef> = Vec::new();
        for (distance, entity) in reached {
            if distance == nearest && !applied.contains(&entity) {
                applied.push(entity);
                if let Some(score) = score_of(&order, &mut scores, entity) {
                    *score += polarity * weight;
                }
            }
        }
    }
    draft.act = best_act.map_or(Act::Assert, |(_, act)| act);
    draft.targets = order
        .into_iter()
        .zip(scores)
        .filter(|(entity, _)| {
            entity_kind(context, *entity).is_some_and(|kind| kind != EntityKind::Other)
        })
        .map(|(entity, score)| (entity, score.clamp(-1.0, 1.0)))
        .collect();
}

/// The score of `entity`, a target listed in `order` with its score at the same index.
fn score_of<'s>(
    order: &[EntityRef],
    scores: &'s mut [f32],
    entity: EntityRef,
) -> Option<&'s mut f32> {
    let index = order.iter().position(|e| *e == entity)?;
    scores.get_mut(index)
}

/// Where " as " follows a verb of describing ("described ... as", "branded ... as").
fn described_as(field: &Field<'_>, draft: &Draft) -> Option<usize> {
    let text = field.text();
    let verb = draft.verb?;
    let word = field.lower.get(verb.start..verb.end)?;
    if !matches!(word, "described" | "describes" | "describing") {
        return None;
    }
    let from = verb.end.max(draft.range.start);
    let rest = text.get(from..draft.range.end)?;
    rest.find(" as ").map(|i| from + i + 1)
}

fn word_count(text: &str, range: Range<usize>) -> usize {
    text.get(range)
        .unwrap_or("")
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '\u{2019}')
        .filter(|w| !w.is_empty())
        .count()
}

/// Offsets after which an entity is a victim or a place, not what a cue is about:
/// "attacks on US forces", "in Iraq", "against ISIS".
fn stop_positions(field: &Field<'_>, range: &Range<usize>, cues: &[&CueMatch]) -> Vec<usize> {
    let text = field.text();
    let mut stops: Vec<usize> = cues
        .iter()
        .filter(|c| c.entry.victim)
        .map(|c| c.start)
        .collect();
    let first = field.words.partition_point(|w| w.start < range.start);
    for word in field.words.get(first..).unwrap_or(&[]) {
        if word.start >= range.end {
            break;
        }
        // Compared as bytes: a word's bounds are character boundaries.
        if text.as_bytes().get(word.start..word.end) == Some(b"at".as_slice())
            && !cues
                .iter()
                .any(|c| c.start <= word.start && word.end <= c.end)
        {
            stops.push(word.start);
        }
    }
    stops
}

fn is_negated(field: &Field<'_>, cue: &CueMatch, cues: &[&CueMatch]) -> bool {
    let text = field.text();
    cues.iter().any(|other| {
        other.entry.negator
            && other.end <= cue.start
            && word_count(text, other.end..cue.start) <= 2
            && !text
                .get(other.end..cue.start)
                .unwrap_or("")
                .contains([',', '.', ';'])
    })
}

/// Whether a clause break ("but", ";", ".") lies between a cue and an entity.
fn crosses_clause(
    field: &Field<'_>,
    cues: &[&CueMatch],
    cue: &CueMatch,
    occurrence: &Occurrence,
) -> bool {
    let (from, to) = if occurrence.end <= cue.start {
        (occurrence.end, cue.start)
    } else {
        (cue.end, occurrence.start)
    };
    if from >= to {
        return false;
    }
    let between = field.text().get(from..to).unwrap_or("");
    between.contains([';', '.', '!', '?'])
        || cues
            .iter()
            .any(|c| c.entry.clause_break && c.start >= from && c.end <= to)
}

/// The person a "he"/"his" inside a quote stands for: the last person other than the speaker
/// named before it in the same paragraph, or else the article's most mentioned such person.
fn pronoun_referent(
    context: &Context<'_>,
    field: &Field<'_>,
    draft: &Draft,
    speakers: &[EntityRef],
) -> Option<EntityRef> {
    let is_other_person = |entity: EntityRef| {
        !speakers.contains(&entity)
            && entity_kind(context, entity).is_some_and(|k| k == EntityKind::Person)
    };
    let paragraph_start = field
        .paragraphs
        .iter()
        .rev()
        .find(|p| p.start <= draft.range.start)
        .map_or(0, |p| p.start);
    if let Some(found) = field
        .found_within(paragraph_start, draft.range.start)
        .rfind(|f| is_other_person(f.entity))
    {
        return Some(found.entity);
    }
    context
        .article
        .mention_counts
        .keys()
        .copied()
        .filter(|e| is_other_person(*e))
        .max_by_key(|e| (salience(context, *e), std::cmp::Reverse(order_key(*e))))
}

fn order_key(entity: EntityRef) -> (u8, usize) {
    match entity {
        EntityRef::Kb(i) => (0, i),
        EntityRef::Local(i) => (1, i),
    }
}

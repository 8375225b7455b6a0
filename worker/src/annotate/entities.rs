//! Finding entities: one leftmost-longest automaton over every knowledge-base name, alias,
//! demonym, capital, seat of government and person surname; then capitalised names the knowledge
//! base does not know, and surnames linked back to the full names an article used.

use super::{Field, HashMap, HashMapExt, HashSet, HashSetExt};
use std::cell::Cell;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use communique_domain::{
    Affiliation, Entity, EntityKind, KnowledgeBase, name_phonetic_key, slugify,
};

use super::lexicon::{
    CORPORATE_HEADS_SET, DESCRIPTION_HEADS_SET, EVENT_HEADS_SET, FUNCTION_WORDS_SET,
    HONORIFICS_SET, LOCATION_WORDS_SET, NAME_PARTICLES_SET, NOT_IN_OFFICE, NOT_NAME_WORDS_SET,
    OFFICIAL_ROLE_NOUNS_SET, OFFICIAL_ROLES, ORGANIZATION_HEADS_SET, ORGANIZATION_MODIFIERS_SET,
    ORGANIZATION_OPENERS_SET, PEERAGE_TITLES, PERSON_HEADS_SET, PERSON_NOUNS_SET, SPEECH_VERBS,
    TITLE_WORDS_SET, contains_word,
};
use super::text::{
    AnchoredMatcher, StartFilter, Word, WordShapes, at_word_boundaries, fold_name, is_word_char,
    word_shape,
};

/// How a piece of text names its entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The entity's name or an alias.
    Name,
    /// A word for a country's people or things: "Iranian".
    Demonym,
    /// A capital standing for its country ("Tehran warned").
    Capital,
    /// A seat of government standing for it ("Downing Street", "the Kremlin").
    Seat,
    /// A part of a person's name ("Johnson", "Abdul Mahdi").
    Surname,
    /// An acronym the article introduced in parentheses.
    Acronym,
}

/// An entity of the knowledge base, or one the article itself introduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum EntityRef {
    Kb(usize),
    Local(usize),
}

/// A mention found in a field, in folded offsets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) entity: EntityRef,
    pub(crate) anchor: Anchor,
    /// "US-led", "Iran-backed": the name qualifies something else and speaks for no one.
    pub(crate) modifier: bool,
}

#[derive(Clone, Debug)]
enum PatternTarget {
    Full {
        entity: usize,
        anchor: Anchor,
    },
    /// A surname or name suffix shared by these person entities.
    Partial(Vec<usize>),
}

/// Priority when two knowledge-base entries claim the same pattern: lower wins.
fn anchor_rank(anchor: Anchor) -> u8 {
    match anchor {
        Anchor::Name => 0,
        Anchor::Seat => 1,
        Anchor::Demonym => 2,
        Anchor::Capital => 3,
        Anchor::Surname | Anchor::Acronym => 4,
    }
}

/// A knowledge-base entity with what the annotator needs at hand.
pub(crate) struct KbEntity {
    pub(crate) entity: Entity,
    /// The government the entity itself stands for: a state, an intergovernmental body, or the
    /// government an organ speaks for.
    pub(crate) government: Option<String>,
    /// For a place: the state it lies in.
    pub(crate) country: Option<String>,
    /// Government codes of every role a person ever held.
    pub(crate) role_governments: Vec<String>,
    /// For a person: spelling skeletons of the folded name's words, for linking surnames
    /// (built once here instead of in every article that names the person).
    name_token_keys: Vec<String>,
}

/// The prebuilt knowledge-base matcher.
pub(crate) struct EntityIndex {
    automaton: Option<AnchoredMatcher>,
    /// The byte pairs patterns start with, to skip word starts no pattern begins with.
    starts: StartFilter,
    targets: Vec<PatternTarget>,
    pub(crate) entities: Vec<KbEntity>,
    /// Spelling skeleton of every person name and alias → the person, when unique.
    person_keys: HashMap<String, Option<usize>>,
    /// Country entity index by government code.
    pub(crate) country_by_code: HashMap<String, usize>,
    /// First names of the knowledge base's people ("Boris", "Qasem"): evidence that an
    /// unknown capitalised pair is a person.
    pub(crate) given_names: HashSet<String>,
    /// Entity index by id.
    by_id: HashMap<String, usize>,
    /// Capitals: named, they may stand for their state ("Tehran warned").
    capitals: HashSet<usize>,
    /// Country names and demonyms (folded) → government code, for reading descriptions.
    country_words: HashMap<String, String>,
    /// The same words as a set, for the name finder.
    pub(crate) country_word_set: HashSet<String>,
    /// Demonyms alone (folded): "Iraqi", "Iranian".
    demonyms: HashSet<String>,
}

impl EntityIndex {
    pub(crate) fn new(kb: &KnowledgeBase) -> EntityIndex {
        let mut entities: Vec<KbEntity> = Vec::with_capacity(kb.len());
        let mut index_of: HashMap<String, usize> = HashMap::with_capacity(kb.len());
        for entity in kb.entities() {
            let government = entity
                .government_code
                .clone()
                .or_else(|| kb.organization_speaks_for(&entity.id).map(str::to_owned));
            let mut role_governments: Vec<String> = entity
                .affiliations
                .iter()
                .map(|a| a.government_code.clone())
                .collect();
            role_governments.sort();
            role_governments.dedup();
            index_of.insert(entity.id.clone(), entities.len());
            let name_token_keys = if entity.kind == EntityKind::Person {
                token_keys(&fold_name(&entity.name).split(' ').collect::<Vec<_>>())
            } else {
                Vec::new()
            };
            entities.push(KbEntity {
                entity: entity.clone(),
                government,
                country: kb.location_country(&entity.id).map(str::to_owned),
                role_governments,
                name_token_keys,
            });
        }

        let mut patterns: HashMap<String, PatternTarget> = HashMap::new();
        let mut add_full = |pattern: &str, entity: usize, anchor: Anchor| {
            for variant in pattern_variants(pattern, anchor == Anchor::Seat) {
                let replace = match patterns.get(&variant) {
                    None | Some(PatternTarget::Partial(_)) => true,
                    Some(PatternTarget::Full {
                        anchor: existing, ..
                    }) => anchor_rank(anchor) < anchor_rank(*existing),
                };
                if replace {
                    patterns.insert(variant, PatternTarget::Full { entity, anchor });
                }
            }
        };
        let mut country_by_code = HashMap::new();
        let mut capitals = HashSet::new();
        let mut country_words = HashMap::new();
        let mut demonyms = HashSet::new();
        for (index, kb_entity) in entities.iter().enumerate() {
            let entity = &kb_entity.entity;
            for name in std::iter::once(&entity.name).chain(&entity.aliases) {
                // Titles are not part of names: "Prime Minister Boris Johnson" is matched as
                // "Boris Johnson" (a peer keeps his: "Lord West").
                let name = if entity.kind == EntityKind::Person {
                    match strip_titles(name) {
                        Some(stripped) => stripped,
                        None => continue,
                    }
                } else {
                    name.as_str()
                };
                add_full(name, index, Anchor::Name);
                // "the Quds force": news often lower-cases an organisation's generic head.
                if matches!(
                    entity.kind,
                    EntityKind::Organization | EntityKind::IntergovernmentalOrganization
                ) && let Some((head, last)) = name.rsplit_once(' ')
                    && ORGANIZATION_HEADS_SET.contains(last)
                {
                    add_full(
                        &format!("{head} {}", last.to_lowercase()),
                        index,
                        Anchor::Name,
                    );
                }
                // "the UN security council", "the US state department": after an acronym
                // news often lower-cases the rest of a body's name.
                if entity.kind != EntityKind::Person
                    && let Some(lowered) = acronym_headed_lowercase(name)
                {
                    add_full(&lowered, index, Anchor::Name);
                }
                // "a Liberal Democrat": one member of "the Liberal Democrats".
                if entity.kind == EntityKind::Organization
                    && let Some((head, last)) = name.rsplit_once(' ')
                    && let Some(singular) = last.strip_suffix('s')
                    && singular.len() >= 4
                    && !singular.ends_with('s')
                    && !ORGANIZATION_HEADS_SET.contains(last)
                {
                    add_full(&format!("{head} {singular}"), index, Anchor::Name);
                }
            }
        }
        for country in kb.countries() {
            let Some(&index) = index_of.get(&country.entity_id) else {
                continue;
            };
            country_by_code.insert(country.code.clone(), index);
            for word in std::iter::once(&country.name)
                .chain(&country.aliases)
                .chain(&country.demonyms)
            {
                country_words.insert(fold_name(word), country.code.clone());
            }
            for demonym in &country.demonyms {
                demonyms.insert(fold_name(demonym));
                add_full(demonym, index, Anchor::Demonym);
                if demonym.ends_with('n') || demonym.ends_with('i') {
                    add_full(&format!("{demonym}s"), index, Anchor::Demonym);
                }
            }
            for seat in &country.seats {
                add_full(seat, index, Anchor::Seat);
            }
            if let Some(capital) = &country.capital
                && let Some(&capital_index) = index_of.get(&slugify(capital))
            {
                add_full(capital, capital_index, Anchor::Capital);
                capitals.insert(capital_index);
            }
        }
        // Surnames and name suffixes of people: "Johnson", "Abdul Mahdi", "von der Leyen".
        let mut partials: HashMap<String, Vec<usize>> = HashMap::new();
        let mut given_names: HashSet<String> = HashSet::new();
        let mut person_keys: HashMap<String, Option<usize>> = HashMap::new();
        for (index, kb_entity) in entities.iter().enumerate() {
            let entity = &kb_entity.entity;
            if entity.kind != EntityKind::Person {
                continue;
            }
            for name in std::iter::once(&entity.name).chain(&entity.aliases) {
                let Some(name) = strip_titles(name) else {
                    continue;
                };
                let folded = fold_name(name);
                let key = name_phonetic_key(&folded);
                if !key.is_empty() {
                    let slot = person_keys.entry(key).or_insert(Some(index));
                    if *slot != Some(index) {
                        *slot = None;
                    }
                }
                let tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
                if tokens.len() >= 2
                    && let Some(first) = tokens.first()
                    && first.len() >= 2
                    && is_capitalised(first)
                {
                    given_names.insert((*first).to_owned());
                }
                for start in 1..tokens.len() {
                    let first = tokens[start];
                    if !first.starts_with(char::is_uppercase) || first.len() < 3 {
                        continue;
                    }
                    let suffix = tokens[start..].join(" ");
                    let candidates = partials.entry(suffix).or_default();
                    if !candidates.contains(&index) {
                        candidates.push(index);
                    }
                }
            }
        }
        for (suffix, candidates) in partials {
            patterns
                .entry(suffix)
                .or_insert(PatternTarget::Partial(candidates));
        }

        let mut pattern_list: Vec<(String, PatternTarget)> = patterns.into_iter().collect();
        pattern_list.sort_by(|a, b| a.0.cmp(&b.0));
        let starts = StartFilter::new(pattern_list.iter().map(|(p, _)| p.as_str()), false);
        let automaton = AnchoredMatcher::new(pattern_list.iter().map(|(p, _)| p.as_str()), false);
        EntityIndex {
            automaton,
            starts,
            targets: pattern_list.into_iter().map(|(_, t)| t).collect(),
            entities,
            person_keys,
            country_by_code,
            by_id: index_of,
            given_names,
            capitals,
            country_word_set: country_words.keys().cloned().collect(),
            country_words,
            demonyms,
        }
    }

    pub(crate) fn entity(&self, index: usize) -> Option<&KbEntity> {
        self.entities.get(index)
    }

    /// The state a word names as a country name or demonym ("Iranian" → IRN).
    pub(crate) fn country_of_word(&self, word: &str) -> Option<&str> {
        self.country_words.get(word).map(String::as_str)
    }

    /// The person whose name has this spelling skeleton, when only one has.
    fn person_by_key(&self, key: &str) -> Option<usize> {
        self.person_keys.get(key).copied().flatten()
    }
}

/// A person's name without leading titles; `None` when only a surname would be left (a
/// surname is matched through the surname patterns), the name itself for a peer.
fn strip_titles(name: &str) -> Option<&str> {
    let mut rest = name.trim();
    let mut stripped = false;
    while let Some((first, tail)) = rest.split_once(' ') {
        let word = first.trim_end_matches('.');
        if !(TITLE_WORDS_SET.contains(word) || word == "Sir") {
            break;
        }
        if contains_word(PEERAGE_TITLES, word) && !tail.contains(' ') {
            break;
        }
        rest = tail.trim_start();
        stripped = true;
    }
    (!stripped || rest.contains(' ')).then_some(rest)
}

/// "UN security council" for "UN Security Council": the name after a leading acronym in lower
/// case, when it has such a head and more words.
fn acronym_headed_lowercase(name: &str) -> Option<String> {
    let (head, tail) = name.split_once(' ')?;
    let acronym = head.len() >= 2 && head.chars().all(|c| c.is_ascii_uppercase());
    let lowered = tail.to_lowercase();
    (acronym && tail.starts_with(char::is_uppercase) && lowered != tail)
        .then(|| format!("{head} {lowered}"))
}

/// Spellings under which a knowledge-base name is searched.
fn pattern_variants(name: &str, drop_article: bool) -> Vec<String> {
    let folded = fold_name(name);
    let mut base = folded.as_str();
    let mut variants = Vec::with_capacity(3);
    for article in ["the ", "The "] {
        if let Some(rest) = base.strip_prefix(article)
            && rest.starts_with(char::is_uppercase)
        {
            if drop_article {
                base = rest;
            } else {
                let other = if article == "the " { "The " } else { "the " };
                variants.push(format!("{other}{rest}"));
            }
        }
    }
    if base.chars().count() < 2 {
        return Vec::new();
    }
    if base.starts_with(char::is_lowercase) {
        let mut chars = base.chars();
        if let Some(first) = chars.next() {
            variants.push(first.to_uppercase().chain(chars).collect());
        }
    }
    variants.push(base.to_owned());
    variants
}

/// A raw knowledge-base match in a field.
struct RawMatch {
    range: Range<usize>,
    target: usize,
}

/// Everything entity-related for one field.
pub(crate) struct FieldEntities {
    pub(crate) found: Vec<Found>,
    raw: Vec<RawMatch>,
}

/// The entities of one article: knowledge-base ones it mentions and the ones it introduces.
pub(crate) struct ArticleEntities {
    pub(crate) locals: Vec<LocalEntity>,
    /// How often each entity is mentioned, for salience.
    pub(crate) mention_counts: HashMap<EntityRef, u32>,
}

/// An entity the knowledge base does not know, made from the article's text.
#[derive(Clone, Debug)]
pub(crate) struct LocalEntity {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: EntityKind,
    pub(crate) aliases: Vec<String>,
    /// The government a named official speaks for, read from the title before the name or an
    /// appositive after it ("Iraqi Prime Minister X", "X, Russia's foreign minister").
    pub(crate) affiliation: Option<Affiliation>,
    /// Spelling skeletons of the name's words, for surname matching (a person's only).
    token_keys: Vec<String>,
    key: String,
}

fn token_keys(tokens: &[impl AsRef<str>]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| name_phonetic_key(t.as_ref()))
        .collect()
}

/// Whether `candidate` spells the last words of the longer name `tokens`.
fn is_suffix_of(tokens: &[String], candidate: &[String]) -> bool {
    tokens.len() > candidate.len()
        && tokens
            .iter()
            .rev()
            .zip(candidate.iter().rev())
            .all(|(a, b)| a == b)
}

/// What the text of a field looks like around words, for the name finder.
pub(crate) struct FieldView<'t> {
    pub(crate) text: &'t str,
    pub(crate) words: &'t [Word],
    pub(crate) paragraphs: &'t [Range<usize>],
    pub(crate) sentences: &'t [Range<usize>],
    /// Given names of the knowledge base's people.
    pub(crate) given_names: &'t HashSet<String>,
    /// Country names and demonyms, for "Germany's Angela Merkel".
    pub(crate) country_words: &'t HashSet<String>,
}

impl EntityIndex {
    /// First pass: knowledge-base matches of a field (surnames still unresolved).
    pub(crate) fn scan(&self, text: &str, words: &[Word]) -> FieldEntities {
        // News names something every dozen-odd words: presized so that it rarely grows.
        let mut raw = Vec::with_capacity(words.len() / 16 + 1);
        if let Some(automaton) = &self.automaton {
            // Names start words: an anchored search at each plausible word start reads a few
            // bytes where a scan of the whole text would read them all.
            let bytes = text.as_bytes();
            let mut resume = 0;
            for word in words {
                if word.start < resume || !self.starts.may_start(bytes, word.start) {
                    continue;
                }
                let Some((pattern, end)) = automaton.longest_at(bytes, word.start) else {
                    continue;
                };
                let range = word.start..end;
                if !at_word_boundaries(text, &range) {
                    continue;
                }
                resume = range.end;
                raw.push(RawMatch {
                    range,
                    target: pattern,
                });
            }
        }
        FieldEntities {
            found: Vec::new(),
            raw,
        }
    }

    /// People the article names in full, over all its fields.
    pub(crate) fn full_people(&self, fields: &[&FieldEntities]) -> HashSet<usize> {
        let mut people = HashSet::new();
        for field in fields {
            for raw in &field.raw {
                if let Some(PatternTarget::Full {
                    entity,
                    anchor: Anchor::Name,
                }) = self.targets.get(raw.target)
                    && self
                        .entities
                        .get(*entity)
                        .is_some_and(|e| e.entity.kind == EntityKind::Person)
                {
                    people.insert(*entity);
                }
            }
        }
        people
    }

    /// Second pass: turns raw matches into mentions, linking surnames to people the article
    /// names in full, or to the one person of the knowledge base with that surname when a
    /// title precedes it or a government the person served is also mentioned.
    pub(crate) fn resolve(
        &self,
        view: &FieldView<'_>,
        field: &mut FieldEntities,
        full_people: &HashSet<usize>,
        mentioned_governments: &HashSet<&str>,
        lowercase_words: &LowercaseWords<'_>,
    ) {
        let text = view.text;
        for raw in &field.raw {
            let Some(target) = self.targets.get(raw.target) else {
                continue;
            };
            let range = raw.range.clone();
            let slice = text.get(range.clone()).unwrap_or("");
            if in_all_caps_run(text, view.words, &range, slice) {
                continue;
            }
            let (entity, anchor) = match target {
                PatternTarget::Full { entity, anchor } => {
                    // "National Security Council" is not the "Security Council".
                    if *anchor == Anchor::Name
                        && inside_longer_name(view, &field.raw, &range, lowercase_words)
                    {
                        continue;
                    }
                    if *anchor == Anchor::Name && self.starts_longer_name(view, *entity, &range) {
                        continue;
                    }
                    if *anchor == Anchor::Name && self.capitals.contains(entity) {
                        (*entity, Anchor::Capital)
                    } else {
                        (*entity, *anchor)
                    }
                }
                PatternTarget::Partial(candidates) => {
                    let previous = previous_word(text, view.words, range.start);
                    let after_title = previous.is_some_and(|w| HONORIFICS_SET.contains(w));
                    let inside_longer_name = previous.is_some_and(|w| {
                        w.starts_with(char::is_uppercase)
                            && !TITLE_WORDS_SET.contains(w)
                            && !NOT_NAME_WORDS_SET.contains(w)
                            && adjacent_before(text, view.words, range.start)
                    });
                    // "the Hutton Inquiry": a surname fused to a following capitalised word.
                    let before_longer_name = text
                        .get(range.end..)
                        .and_then(|rest| rest.strip_prefix(' '))
                        .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
                        .is_some_and(|next| {
                            is_name_shaped(next)
                                && !FUNCTION_WORDS_SET.contains(next)
                                && !NOT_NAME_WORDS_SET.contains(next)
                        });
                    if inside_longer_name || before_longer_name {
                        continue;
                    }
                    // The first candidate the article names in full, if any.
                    let in_article = candidates.iter().copied().find(|c| full_people.contains(c));
                    let chosen = match in_article {
                        Some(person) => Some(person),
                        // "Scott Sullivan ... Mr Sullivan": the article names someone else.
                        None if names_another_with_surname(view, slice) => None,
                        None => match candidates.as_slice() {
                            [only] => {
                                // Without a full name or a title, only a surname that is no common word
                                // ("May", "Price"), used more than once, of someone who served a
                                // government the article names.
                                let served_mentioned = self.entities.get(*only).is_some_and(|e| {
                                    e.role_governments
                                        .iter()
                                        .any(|g| mentioned_governments.contains(g.as_str()))
                                });
                                let distinctive = !NOT_NAME_WORDS_SET.contains(slice)
                                    && !lowercase_words.contains_lowercased(slice)
                                    && occurrences(text, slice).nth(1).is_some();
                                (after_title || served_mentioned && distinctive).then_some(*only)
                            }
                            _ => None,
                        },
                    };
                    match chosen {
                        Some(entity) => (entity, Anchor::Surname),
                        None => continue,
                    }
                }
            };
            let modifier = is_modifier(text, range.end);
            field.found.push(Found {
                start: range.start,
                end: range.end,
                entity: EntityRef::Kb(entity),
                anchor,
                modifier,
            });
        }
    }

    /// Governments the knowledge-base mentions of a field name (for surname linking).
    pub(crate) fn governments_named<'s>(
        &'s self,
        field: &FieldEntities,
        out: &mut HashSet<&'s str>,
    ) {
        for raw in &field.raw {
            if let Some(PatternTarget::Full { entity, .. }) = self.targets.get(raw.target)
                && let Some(kb) = self.entities.get(*entity)
                && let Some(code) = kb.government.as_ref().or(kb.country.as_ref())
            {
                out.insert(code.as_str());
            }
        }
    }
}

/// Whether a match continues a capitalised name that starts before it: the word just
/// before is capitalised, adjacent, neither a title, a name particle nor part of another
/// knowledge-base match, and mid-sentence or a word the article never writes in lower case
/// ("Teleglobe Canada said" opening a sentence).
fn inside_longer_name(
    view: &FieldView<'_>,
    raw: &[RawMatch],
    range: &Range<usize>,
    lowercase_words: &LowercaseWords<'_>,
) -> bool {
    let text = view.text;
    let index = view.words.partition_point(|w| w.end <= range.start);
    let Some(word) = index.checked_sub(1).and_then(|i| view.words.get(i)) else {
        return false;
    };
    let Some(previous) = text.get(word.start..word.end) else {
        return false;
    };
    text.get(word.end..range.start) == Some(" ")
        && is_capitalised(previous)
        && !TITLE_WORDS_SET.contains(previous)
        && !HONORIFICS_SET.contains(previous)
        && !NAME_PARTICLES_SET.contains(&previous.to_lowercase())
        && !FUNCTION_WORDS_SET.contains(previous)
        && !ORGANIZATION_HEADS_SET.contains(previous)
        && !LOCATION_WORDS_SET.contains(previous)
        && !text
            .get(range.clone())
            .and_then(|m| m.split(' ').next())
            .is_some_and(|first| TITLE_WORDS_SET.contains(first))
        && !raw
            .iter()
            .any(|r| r.range.start <= word.start && word.end <= r.range.end)
        && (!starts_sentence(view, word.start)
            || (!NOT_NAME_WORDS_SET.contains(previous)
                && !lowercase_words.contains_lowercased(previous)))
}

/// Whether the text holds a full name ending in `surname` ("Scott Sullivan"): a given name
/// (a capitalised word that is no title or function word) right before the surname.
fn names_another_with_surname(view: &FieldView<'_>, surname: &str) -> bool {
    let text = view.text;
    occurrences(text, surname).any(|start| {
        let end = start + surname.len();
        if !at_word_boundaries(text, &(start..end)) {
            return false;
        }
        let index = view.words.partition_point(|w| w.end <= start);
        let Some(previous) = index.checked_sub(1).and_then(|p| view.words.get(p)) else {
            return false;
        };
        let given = text.get(previous.start..previous.end).unwrap_or("");
        text.get(previous.end..start) == Some(" ")
            && is_name_shaped(given)
            && !TITLE_WORDS_SET.contains(given)
            && !HONORIFICS_SET.contains(given)
            && !FUNCTION_WORDS_SET.contains(given)
            && !NOT_NAME_WORDS_SET.contains(given)
    })
}

/// "US-led", "Iran-backed": a name fused to a participle qualifies something else.
fn is_modifier(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or("");
    let rest = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('-'))
        .unwrap_or("");
    // The suffixes' first letters: most words after a name start otherwise.
    if !matches!(
        rest.as_bytes().first(),
        Some(b'l' | b'b' | b'a' | b'f' | b's')
    ) {
        return false;
    }
    [
        "led",
        "backed",
        "based",
        "allied",
        "aligned",
        "funded",
        "sponsored",
        "born",
        "linked",
    ]
    .iter()
    .any(|suffix| {
        rest.strip_prefix(suffix)
            .is_some_and(|after| !after.starts_with(char::is_alphanumeric))
    })
}

/// An upper-case match inside a run of upper-case words ("OPEC IS CUTTING") is a headline
/// shout, not an acronym.
fn in_all_caps_run(text: &str, words: &[Word], range: &Range<usize>, slice: &str) -> bool {
    if !slice.chars().all(|c| !c.is_lowercase()) {
        return false;
    }
    let index = words.partition_point(|w| w.end <= range.start);
    let is_caps = |w: &Word| {
        text.get(w.start..w.end).is_some_and(|s| {
            s.chars().any(char::is_alphabetic) && s.chars().all(|c| !c.is_lowercase())
        })
    };
    let before = index
        .checked_sub(1)
        .and_then(|i| words.get(i))
        .is_some_and(is_caps);
    let after_index = words.partition_point(|w| w.start < range.end);
    let after = words.get(after_index).is_some_and(is_caps);
    before && after
}

fn previous_word<'t>(text: &'t str, words: &[Word], offset: usize) -> Option<&'t str> {
    let index = words.partition_point(|w| w.end <= offset);
    let word = words.get(index.checked_sub(1)?)?;
    text.get(word.start..word.end)
}

/// Whether the word before `offset` is separated from it by a single space only.
fn adjacent_before(text: &str, words: &[Word], offset: usize) -> bool {
    let index = words.partition_point(|w| w.end <= offset);
    index
        .checked_sub(1)
        .and_then(|i| words.get(i))
        .is_some_and(|w| text.get(w.end..offset) == Some(" "))
}

/// A capitalised phrase the knowledge base did not claim; its words borrowed from the text.
#[derive(Clone)]
struct Candidate<'t> {
    range: Range<usize>,
    tokens: Vec<&'t str>,
    kind: EntityKind,
    /// Words before the name inside the phrase (titles, roles) and any lower-case role words
    /// just before it: where an official's government is read from.
    role_window: Range<usize>,
    headline: bool,
    /// A lone word that reports speech ("Kodak said"): when it names no one found elsewhere,
    /// it is still someone, a company or a person the article named in words not found.
    speaks: bool,
}

impl ArticleEntities {
    pub(crate) fn new() -> ArticleEntities {
        ArticleEntities {
            locals: Vec::new(),
            mention_counts: HashMap::new(),
        }
    }

    /// Finds names the knowledge base does not know in every field and links surname-only
    /// and spelling-variant mentions to them. `fields` pairs each field's view with its
    /// entities; knowledge-base mentions are already in `found`.
    pub(crate) fn find_unknown(
        &mut self,
        index: &EntityIndex,
        fields: &mut [(FieldView<'_>, &mut FieldEntities)],
        lowercase_words: &LowercaseWords<'_>,
    ) {
        let mut candidates: Vec<(usize, Candidate<'_>)> = Vec::new();
        for (field_index, (view, entities)) in fields.iter().enumerate() {
            collect_candidates(view, &entities.found, lowercase_words, &mut |c| {
                candidates.push((field_index, c));
            });
        }
        // Longest person names first, so that "Kramp Karrenbauer" links to the full name.
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by_key(|&i| {
            (
                std::cmp::Reverse(candidates[i].1.tokens.len()),
                candidates[i].1.headline,
                candidates[i].0,
                candidates[i].1.range.start,
            )
        });
        let mut article_people: Vec<(usize, &[String])> = Vec::new();
        for found in fields.iter().flat_map(|(_, e)| e.found.iter()) {
            if let EntityRef::Kb(i) = found.entity
                && !article_people.iter().any(|(p, _)| *p == i)
                && let Some(kb) = index.entity(i)
                && kb.entity.kind == EntityKind::Person
            {
                article_people.push((i, &kb.name_token_keys));
            }
        }
        let mut new_found: Vec<(usize, Found)> = Vec::new();
        for candidate_index in order {
            let (field_index, candidate) = &candidates[candidate_index];
            let Some((view, field_entities)) = fields.get(*field_index) else {
                continue;
            };
            // Most candidates are one word, their name that word as the text has it.
            let joined;
            let name: &str = match candidate.tokens.as_slice() {
                [word] => word,
                tokens => {
                    joined = tokens.join(" ");
                    &joined
                }
            };
            let key = name_phonetic_key(name);
            // Only people are matched word by word (a surname to a full name); a one-word
            // name's only word key is the name's key, borrowed rather than copied.
            let several_keys;
            let candidate_keys: &[String] = match candidate.tokens.as_slice() {
                _ if candidate.kind != EntityKind::Person => &[],
                [_] => std::slice::from_ref(&key),
                tokens => {
                    several_keys = token_keys(tokens);
                    &several_keys
                }
            };
            let linked = self
                .link_existing(
                    index,
                    candidate,
                    name,
                    &key,
                    candidate_keys,
                    &article_people,
                )
                .or_else(|| {
                    (!candidate.headline)
                        .then(|| {
                            self.create(
                                index,
                                view,
                                &field_entities.found,
                                candidate,
                                name,
                                &key,
                                candidate_keys,
                                lowercase_words,
                            )
                        })
                        .flatten()
                })
                .or_else(|| {
                    self.name_speaking(
                        index,
                        view,
                        field_entities,
                        candidate,
                        name,
                        &key,
                        &article_people,
                        lowercase_words,
                    )
                });
            if let Some((entity, anchor)) = linked {
                if let EntityRef::Local(local) = entity
                    && let Some(local) = self.locals.get_mut(local)
                    && local.name != name
                    && !local.aliases.iter().any(|alias| alias == name)
                    && candidate.tokens.len() > 1
                {
                    local.aliases.push(name.to_owned());
                }
                new_found.push((
                    *field_index,
                    Found {
                        start: candidate.range.start,
                        end: candidate.range.end,
                        entity,
                        anchor,
                        modifier: false,
                    },
                ));
            }
        }
        for (field_index, found) in new_found {
            if let Some((_, entities)) = fields.get_mut(field_index) {
                entities.found.push(found);
            }
        }
        for (view, entities) in fields.iter_mut() {
            self.link_acronyms(view, entities);
            entities.found.sort_by_key(|f| (f.start, f.end));
            for found in &entities.found {
                *self.mention_counts.entry(found.entity).or_insert(0) += 1;
            }
        }
    }

    fn link_existing(
        &self,
        index: &EntityIndex,
        candidate: &Candidate<'_>,
        name: &str,
        key: &str,
        candidate_keys: &[String],
        article_people: &[(usize, &[String])],
    ) -> Option<(EntityRef, Anchor)> {
        if candidate.kind != EntityKind::Person {
            return self
                .locals
                .iter()
                .position(|l| l.key == key && l.kind == candidate.kind)
                .map(|i| (EntityRef::Local(i), Anchor::Name));
        }
        // "Waste Recovery" after "Waste Recovery Inc": the company without its legal suffix.
        if let Some(i) = self.locals.iter().position(|l| {
            l.kind == EntityKind::Organization
                && l.name
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(' '))
                    .is_some_and(|suffix| contains_word(LEGAL_SUFFIXES, suffix))
        }) {
            return Some((EntityRef::Local(i), Anchor::Name));
        }
        // A spelling variant of a knowledge-base person.
        if let Some(person) = index.person_by_key(key)
            && (candidate.tokens.len() > 1 || article_people.iter().any(|(p, _)| *p == person))
        {
            return Some((EntityRef::Kb(person), Anchor::Name));
        }
        // The same skeleton as a name the article already introduced.
        if let Some(i) = self.locals.iter().position(|l| l.key == key) {
            return Some((EntityRef::Local(i), Anchor::Name));
        }
        // A suffix of a longer name: "Kramp Karrenbauer", "Baeidinejad".
        if let Some(i) = self.locals.iter().position(|l| {
            l.kind == EntityKind::Person && is_suffix_of(&l.token_keys, candidate_keys)
        }) {
            return Some((EntityRef::Local(i), Anchor::Surname));
        }
        article_people
            .iter()
            .find(|(_, keys)| is_suffix_of(keys, candidate_keys))
            .map(|(person, _)| (EntityRef::Kb(*person), Anchor::Surname))
    }

    /// A lone word that speaks ("Kodak said") and links to no one found: a person named family
    /// name first, else a new entity, a company if written like one ("USAir", "GenCorp"), else
    /// someone of a kind the text does not tell.
    #[allow(clippy::too_many_arguments)]
    fn name_speaking(
        &mut self,
        index: &EntityIndex,
        view: &FieldView<'_>,
        field_entities: &FieldEntities,
        candidate: &Candidate<'_>,
        name: &str,
        key: &str,
        article_people: &[(usize, &[String])],
        lowercase_words: &LowercaseWords<'_>,
    ) -> Option<(EntityRef, Anchor)> {
        // A word the knowledge base matched and the resolver left alone (a surname it could
        // not tell whose) stays unclaimed: "Macron said" goes to whoever the attribution
        // finds, not to a new "Macron".
        if !candidate.speaks
            || field_entities
                .raw
                .iter()
                .any(|raw| raw.range == candidate.range)
        {
            return None;
        }
        // "Geng Shuang ... Geng said", "Santi Chaiviratana ... Santi told".
        let first_word_of =
            |keys: &[String]| keys.len() > 1 && keys.first().is_some_and(|k| k == key);
        if let Some(local) = self
            .locals
            .iter()
            .position(|l| l.kind == EntityKind::Person && first_word_of(&l.token_keys))
        {
            return Some((EntityRef::Local(local), Anchor::Surname));
        }
        if let Some((person, _)) = article_people.iter().find(|(_, keys)| first_word_of(keys)) {
            return Some((EntityRef::Kb(*person), Anchor::Surname));
        }
        // "Eastman Kodak Co ... Kodak said", "American Petroleum Institute ... API said": a
        // body the article names in full.
        let shortens = |full: &str| {
            full.split(' ').count() > 1
                && (full.split(' ').any(|word| word == name)
                    || (is_acronym(name) && initials(full) == name))
        };
        if let Some(local) = self
            .locals
            .iter()
            .position(|l| l.kind == EntityKind::Organization && shortens(&l.name))
        {
            return Some((EntityRef::Local(local), Anchor::Name));
        }
        if let Some(known) = field_entities
            .found
            .iter()
            .find_map(|found| match found.entity {
                EntityRef::Kb(i)
                    if index.entity(i).is_some_and(|kb| {
                        kb.entity.kind == EntityKind::Organization && shortens(&kb.entity.name)
                    }) =>
                {
                    Some(found.entity)
                }
                _ => None,
            })
        {
            return Some((known, Anchor::Name));
        }
        let kind = if name.chars().skip(1).any(char::is_uppercase) {
            EntityKind::Organization
        } else {
            EntityKind::Other
        };
        let speaking = Candidate {
            kind,
            headline: false,
            ..candidate.clone()
        };
        self.create(
            index,
            view,
            &field_entities.found,
            &speaking,
            name,
            key,
            &[],
            lowercase_words,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        index: &EntityIndex,
        view: &FieldView<'_>,
        known: &[Found],
        candidate: &Candidate<'_>,
        name: &str,
        key: &str,
        candidate_keys: &[String],
        lowercase_words: &LowercaseWords<'_>,
    ) -> Option<(EntityRef, Anchor)> {
        if candidate.tokens.len() == 1
            && candidate.kind == EntityKind::Person
            && lowercase_words.contains_lowercased(candidate.tokens[0])
        {
            return None;
        }
        // Ids are unique: a name whose id is taken names that entity.
        let slug = slugify(name);
        if let Some(&known) = index.by_id.get(&slug) {
            return Some((EntityRef::Kb(known), Anchor::Name));
        }
        let id = local_id(slug, candidate.kind);
        if id.is_empty() {
            return None;
        }
        if let Some(local) = self.locals.iter().position(|l| l.id == id) {
            return Some((EntityRef::Local(local), Anchor::Name));
        }
        let affiliation = if candidate.kind == EntityKind::Person {
            read_affiliation(view, candidate, known, index)
        } else {
            None
        };
        // Copied only here: most candidates link to an entity or make none.
        self.locals.push(LocalEntity {
            id,
            name: name.to_owned(),
            kind: candidate.kind,
            aliases: Vec::new(),
            affiliation,
            token_keys: candidate_keys.to_vec(),
            key: key.to_owned(),
        });
        Some((EntityRef::Local(self.locals.len() - 1), Anchor::Name))
    }

    /// "Popular Mobilisation Forces (PMF)": later "PMF" names the same entity.
    fn link_acronyms(&mut self, view: &FieldView<'_>, entities: &mut FieldEntities) {
        let text = view.text;
        let mut acronyms: Vec<(String, EntityRef)> = Vec::new();
        for found in &entities.found {
            let rest = text.get(found.end..).unwrap_or("");
            let Some(inner) = rest.strip_prefix(" (") else {
                continue;
            };
            let Some(close) = inner.find(')') else {
                continue;
            };
            let acronym = &inner[..close];
            let plausible = (2..=8).contains(&acronym.len())
                && acronym
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == ' ' || c == '-')
                && acronym.chars().filter(char::is_ascii_uppercase).count() >= 2;
            // "National Council of Resistance of Iran (NCRI)" with only "Iran" known: the
            // acronym is the whole organisation's, not the country's. A name found in the text
            // alone is taken as is: it is often the end of the name the acronym spells ("Film
            // Institute" for "American Film Institute (AFI)"), and the same organisation.
            let spelled = match found.entity {
                EntityRef::Kb(_) => {
                    abbreviates(acronym, text.get(found.start..found.end).unwrap_or(""))
                }
                EntityRef::Local(_) => true,
            };
            if plausible && found.anchor == Anchor::Name && spelled {
                acronyms.push((acronym.to_owned(), found.entity));
            }
        }
        if acronyms.is_empty() {
            return;
        }
        for (acronym, entity) in &acronyms {
            if let EntityRef::Local(i) = entity
                && let Some(local) = self.locals.get_mut(*i)
                && !local.aliases.contains(acronym)
            {
                local.aliases.push(acronym.clone());
            }
        }
        let covered: Vec<Range<usize>> = entities.found.iter().map(|f| f.start..f.end).collect();
        let bytes = text.as_bytes();
        for word in view.words {
            // An acronym is capitals (a word holds no space or hyphen): only a word starting
            // with one can be it.
            if !bytes.get(word.start).is_some_and(u8::is_ascii_uppercase) {
                continue;
            }
            let Some(slice) = text.get(word.start..word.end) else {
                continue;
            };
            let Some((_, entity)) = acronyms.iter().find(|(a, _)| a == slice) else {
                continue;
            };
            if covered
                .iter()
                .any(|r| r.start < word.end && word.start < r.end)
            {
                continue;
            }
            entities.found.push(Found {
                start: word.start,
                end: word.end,
                entity: *entity,
                anchor: Anchor::Acronym,
                modifier: is_modifier(text, word.end),
            });
        }
    }
}

/// Whether `acronym` can abbreviate `name`: its letters are letters of the name in order
/// (case aside), the first of them a word's first ("NATO" for "North Atlantic Treaty
/// Organization", "SEC" for "US Securities and Exchange Commission"; not "NCRI" for "Iran").
fn abbreviates(acronym: &str, name: &str) -> bool {
    let mut letters = acronym
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase());
    let Some(first) = letters.next() else {
        return false;
    };
    let rest: Vec<char> = letters.collect();
    let mut previous_in_word = false;
    name.char_indices().any(|(at, c)| {
        let word_start = is_word_char(c) && !previous_in_word;
        previous_in_word = is_word_char(c);
        if !word_start || !c.to_lowercase().eq([first]) {
            return false;
        }
        let mut after = name
            .get(at + c.len_utf8()..)
            .unwrap_or("")
            .chars()
            .flat_map(char::to_lowercase);
        rest.iter().all(|letter| after.any(|c| c == *letter))
    })
}

/// Whether a paragraph reads like a headline or page furniture: short, mostly capitalised
/// words, and no sentence end.
pub(crate) fn is_headline(text: &str, words: &[Word], range: &Range<usize>) -> bool {
    let slice = text.get(range.clone()).unwrap_or("");
    if slice.ends_with(['.', '!', '?', '"', '\u{201d}', '\u{2019}', '\'', ':']) {
        return false;
    }
    let first = words.partition_point(|w| w.start < range.start);
    let last = words.partition_point(|w| w.start < range.end);
    let mut long = 0;
    let mut capitalised = 0;
    for word in words.get(first..last).unwrap_or(&[]) {
        let Some(w) = text.get(word.start..word.end) else {
            continue;
        };
        if w.chars().count() <= 3 || !w.starts_with(char::is_alphabetic) {
            continue;
        }
        long += 1;
        if w.starts_with(char::is_uppercase) {
            capitalised += 1;
        }
    }
    long > 0 && long <= 16 && capitalised * 10 >= long * 6
}

/// The length of a possessive ending ("'s", "’s") of a word, or 0.
fn possessive_suffix(word: &str) -> usize {
    ["'s", "\u{2019}s"]
        .iter()
        .find(|suffix| word.len() > suffix.len() && word.ends_with(*suffix))
        .map_or(0, |suffix| suffix.len())
}

fn is_capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase)
}

/// Whether a word has the shape of a name part: capital then lower case ("McDonald" too);
/// not a plural acronym ("MPs", "NGOs").
fn is_name_shaped(word: &str) -> bool {
    let bytes = word.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else {
        return false;
    };
    // Most words asked about are ASCII: read in one pass over their bytes, where for ASCII
    // the character classes below are the ASCII ones. A non-ASCII byte goes the general way.
    if !first.is_ascii_uppercase() {
        return !first.is_ascii() && is_name_shaped_unicode(word);
    }
    let mut lower_case = false;
    for &byte in rest {
        if byte.is_ascii_lowercase() {
            lower_case = true;
        } else if !(byte.is_ascii_uppercase() || byte == b'\'') {
            return !byte.is_ascii() && is_name_shaped_unicode(word);
        }
    }
    let plural_acronym = bytes.len() >= 3
        && bytes
            .strip_suffix(b"s")
            .is_some_and(|stem| stem.iter().all(u8::is_ascii_uppercase));
    lower_case && !plural_acronym && !looks_like_common_noun(word)
}

/// [`is_name_shaped`] for any word, character by character.
fn is_name_shaped_unicode(word: &str) -> bool {
    let plural_acronym = word.len() >= 3
        && word
            .strip_suffix('s')
            .is_some_and(|stem| stem.chars().all(|c| c.is_ascii_uppercase()));
    is_capitalised(word)
        && !plural_acronym
        && word.chars().skip(1).any(char::is_lowercase)
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '\u{2019}')
        && !looks_like_common_noun(word)
}

/// English abstract-noun endings that names almost never have ("Election", "Government").
fn looks_like_common_noun(word: &str) -> bool {
    let long = word.len() > 7;
    ["tion", "sion", "ness", "ship", "ism"]
        .iter()
        .any(|end| word.ends_with(end))
        || (long
            && ["ment", "ity", "ance"]
                .iter()
                .any(|end| word.ends_with(end)))
}

fn collect_candidates<'t>(
    view: &FieldView<'t>,
    known: &[Found],
    lowercase_words: &LowercaseWords<'_>,
    emit: &mut dyn FnMut(Candidate<'t>),
) {
    let text = view.text;
    let words = view.words;
    // The first mention not ending before a word: words are asked about in text order, nearly
    // always forward, so it is found by moving on from the one found last (mentions are in
    // text order and do not overlap), and searched for only when a look-ahead went past it.
    let next_known = Cell::new(0usize);
    let covered = |word: &Word| {
        let mut index = next_known.get();
        if index > 0 && known.get(index - 1).is_some_and(|f| f.end > word.start) {
            index = known.partition_point(|f| f.end <= word.start);
        } else {
            while known.get(index).is_some_and(|f| f.end <= word.start) {
                index += 1;
            }
        }
        next_known.set(index);
        known
            .get(index)
            .is_some_and(|f| f.start < word.end && word.start < f.end)
    };
    let word_text = |word: &Word| text.get(word.start..word.end).unwrap_or("");
    let mut paragraph_index = 0;
    let mut sentence_index = 0;
    let mut headline_cache: Option<(usize, bool)> = None;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < words.len() {
        let word = words[i];
        // Most words start with an ASCII byte other than a capital: turned away on that byte
        // before slicing and decoding them.
        if bytes
            .get(word.start)
            .is_some_and(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            i += 1;
            continue;
        }
        let w = word_text(&word);
        if !is_capitalised(w) || covered(&word) {
            i += 1;
            continue;
        }
        // Extend over adjacent capitalised words and inner particles.
        let mut j = i + 1;
        let mut last_capital = i;
        while j < words.len() {
            let next = words[j];
            let gap = text.get(words[j - 1].end..next.start).unwrap_or("");
            if !matches!(gap, " " | "\n") || covered(&next) {
                break;
            }
            let nw = word_text(&next);
            let previous = word_text(&words[j - 1]);
            // "Friday's Norwich Union": a possessive ends a name, unless the run goes on to
            // a body's head: "Standard and Poor's Corp", "Moody's Investors Service". Only a
            // name's first or second word takes the "'s", and not a person's ("Tony Blair's
            // Labour Party", "Prime Minister Bettino Craxi's Socialist Party").
            let opening = word_text(&words[i]);
            let capitals_before = words[i..j - 1]
                .iter()
                .filter(|w| is_capitalised(word_text(w)))
                .count();
            // A capitalised word right before the "'s" makes a person's name ("Harold
            // Wilson's"), unless it is an organisation's ("National Cattlemen's"); "Standard
            // and Poor's" joins the two with "and".
            let after_forename = capitals_before == 1
                && j >= 2
                && is_capitalised(word_text(&words[j - 2]))
                && !ORGANIZATION_MODIFIERS_SET.contains(opening);
            if possessive_suffix(previous) > 0
                && !(capitals_before <= 1
                    && !after_forename
                    && !TITLE_WORDS_SET.contains(opening)
                    && !view.given_names.contains(opening)
                    && possessive_inside_name(view, previous, j))
            {
                break;
            }
            // A title or an organisation's head word inside a run starts a new name:
            // "International Affairs Committee | Leonid Slutsky", "Revolution | Ayatollah ...".
            let title_starts = TITLE_WORDS_SET.contains(nw)
                && !TITLE_WORDS_SET.contains(previous)
                && previous != "of"
                && j > i + 1;
            let head_ends = ORGANIZATION_HEADS_SET.contains(previous) && is_name_shaped(nw);
            // ... unless the run goes on to a body's head: "National Security and Foreign
            // Policy Committee" is one name. A name is a few words: look ahead a dozen.
            let title_starts = title_starts && {
                let mut k = j;
                let mut last = j;
                while k < j + 12
                    && let Some(word) = words.get(k)
                {
                    let word_str = word_text(word);
                    let gap = text.get(words[k - 1].end..word.start).unwrap_or("");
                    if !matches!(gap, " " | "\n") || covered(word) {
                        break;
                    }
                    if is_capitalised(word_str) {
                        last = k;
                    } else if !matches!(word_str, "of" | "and") {
                        break;
                    }
                    k += 1;
                }
                !words
                    .get(last)
                    .is_some_and(|w| ORGANIZATION_HEADS_SET.contains(word_text(w)))
            };
            if is_capitalised(nw) && (title_starts || head_ends) {
                break;
            }
            if is_capitalised(nw) {
                last_capital = j;
            } else if !NAME_PARTICLES_SET.contains(nw) && !matches!(nw, "of" | "and") {
                break;
            }
            j += 1;
        }
        // "Securities and Exchange Commission" is one name; "Merkel and Macron" are two.
        if let Some(and) = (i..last_capital).find(|&k| word_text(&words[k]) == "and")
            && !ORGANIZATION_HEADS_SET.contains(word_text(&words[last_capital]))
        {
            last_capital = and.saturating_sub(1).max(i);
        }
        let sequence = &words[i..=last_capital];
        let next_i = last_capital + 1;
        if last_capital == i && (NOT_NAME_WORDS_SET.contains(w) || FUNCTION_WORDS_SET.contains(w)) {
            // The commonest case: "The", "But", "Monday" alone.
            i = next_i;
            continue;
        }
        while paragraph_index < view.paragraphs.len()
            && view.paragraphs[paragraph_index].end <= word.start
        {
            paragraph_index += 1;
        }
        let headline = match headline_cache {
            Some((p, h)) if p == paragraph_index => h,
            _ => {
                let h = view
                    .paragraphs
                    .get(paragraph_index)
                    .is_some_and(|p| is_headline(text, words, p));
                headline_cache = Some((paragraph_index, h));
                h
            }
        };
        // The sentence holding the word, found as the paragraph is.
        while view
            .sentences
            .get(sentence_index)
            .is_some_and(|s| s.end <= word.start)
        {
            sentence_index += 1;
        }
        let sentence = view.sentences.get(sentence_index);
        let opening = Opening {
            of_sentence: opens_sentence(text, sentence, word.start),
            sentence_start: sentence.map_or(0, |s| s.start),
        };
        if let Some(candidate) = classify(view, sequence, i, opening, headline, lowercase_words) {
            emit(candidate);
        }
        i = next_i;
    }
}

/// Whether the capitalised words from index `from` (up to three, joined by single spaces) end
/// in an organisation's head or legal form: the `possessive` before them is part of the name.
fn possessive_inside_name(view: &FieldView<'_>, possessive: &str, from: usize) -> bool {
    // "Friday's", "Britain's", "the Bank's Monetary Policy Committee", "NIOC's Exploration
    // Directorate": a day, a country or a body owns what follows.
    let owner = &possessive[..possessive.len() - possessive_suffix(possessive)];
    if NOT_NAME_WORDS_SET.contains(owner)
        || view.country_words.contains(owner)
        || ORGANIZATION_HEADS_SET.contains(owner)
        || CORPORATE_HEADS_SET.contains(owner)
        || TITLE_WORDS_SET.contains(owner)
        || contains_word(LEGAL_SUFFIXES, owner)
        || owner.bytes().all(|b| b.is_ascii_uppercase())
    {
        return false;
    }
    let previous_end = from
        .checked_sub(1)
        .and_then(|i| view.words.get(i))
        .map_or(0, |w| w.end);
    run_reaches(view, from, previous_end, 3, &[], |slice, _| {
        ORGANIZATION_HEADS_SET.contains(slice)
            || CORPORATE_HEADS_SET.contains(slice)
            || contains_word(LEGAL_SUFFIXES, slice)
    })
}

/// Whether the words from index `from` (at most `limit`, the first after `previous_end`, each
/// after a single space, capitalised or one of `joining`) reach one `ends` accepts.
fn run_reaches(
    view: &FieldView<'_>,
    from: usize,
    mut previous_end: usize,
    limit: usize,
    joining: &[&str],
    ends: impl Fn(&str, &Word) -> bool,
) -> bool {
    for word in view.words.iter().skip(from).take(limit) {
        let Some(slice) = view.text.get(word.start..word.end) else {
            return false;
        };
        if view.text.get(previous_end..word.start) != Some(" ") {
            return false;
        }
        if ends(slice, word) {
            return true;
        }
        if !is_capitalised(slice) && !joining.contains(&slice) {
            return false;
        }
        previous_end = word.end;
    }
    false
}

fn starts_sentence(view: &FieldView<'_>, offset: usize) -> bool {
    let index = view.sentences.partition_point(|s| s.end <= offset);
    opens_sentence(view.text, view.sentences.get(index), offset)
}

/// Whether nothing but punctuation comes before `offset` in `sentence`, the sentence holding
/// it (`None` past the last one).
fn opens_sentence(text: &str, sentence: Option<&Range<usize>>, offset: usize) -> bool {
    sentence.is_none_or(|s| {
        text.get(s.start..offset)
            .is_some_and(|head| !head.chars().any(char::is_alphanumeric))
    })
}

/// Without a dictionary of names, a capitalised pair is a person only with some evidence:
/// a given name the knowledge base knows, a title, a name particle ("al-", "de"), a noun
/// for a person just before ("spokeswoman", "woman"), a speech verb just after, or an
/// appositive with a role (", France's deputy minister").
///
/// `words` are the indices of the words from the capitalised run's first to the name's last.
fn has_person_evidence(
    view: &FieldView<'_>,
    words: Range<usize>,
    name_tokens: &[&str],
    titled: bool,
    range: &Range<usize>,
) -> bool {
    let text = view.text;
    if titled
        || name_tokens.iter().any(|t| NAME_PARTICLES_SET.contains(t))
        || name_tokens
            .first()
            .is_some_and(|t| view.given_names.contains(*t))
    {
        return true;
    }
    let previous = words
        .start
        .checked_sub(1)
        .and_then(|i| view.words.get(i))
        .and_then(|w| text.get(w.start..w.end))
        .unwrap_or("");
    if PERSON_HEADS_SET.contains(previous) || PERSON_NOUNS_SET.contains(previous) {
        return true;
    }
    // "Germany's Angela Merkel": a state's possessive before a name.
    if possessive_suffix(previous) > 0 {
        let stem = &previous[..previous.len() - possessive_suffix(previous)];
        if view.country_words.contains(stem) {
            return true;
        }
    }
    if next_main_word(view, words.end)
        .is_some_and(|w| SPEECH_VERBS.iter().any(|(verb, _)| *verb == w))
    {
        return true;
    }
    // News names a person in full once, then by surname: "Thierry Henry ... Henry scored".
    if let Some(surname) = name_tokens.last()
        && surname_used_alone(view, surname, range)
    {
        return true;
    }
    let rest = text.get(range.end..).unwrap_or("");
    rest.strip_prefix(", ").is_some_and(|appositive| {
        let end = appositive
            .find([',', '.', ';'])
            .unwrap_or(appositive.len())
            .min(90);
        let end = (0..=end)
            .rev()
            .find(|&i| appositive.is_char_boundary(i))
            .unwrap_or(0);
        let lower = appositive[..end].to_lowercase();
        contains_official_role(&lower) || lower.split(' ').any(|w| PERSON_HEADS_SET.contains(w))
    })
}

/// The starts of the non-overlapping occurrences of `needle` in `haystack`, as
/// `str::match_indices` gives them, by memmem: std's searcher for a whole field cost more.
/// Either iterator, without boxing one (a name asked about is searched for once or twice).
fn occurrences<'h>(haystack: &'h str, needle: &'h str) -> impl Iterator<Item = usize> + 'h {
    // memmem would match between the bytes of a character too: an empty needle goes the
    // std way (no name is empty, so that side yields nothing here in practice).
    let (searched, empty) = if needle.is_empty() {
        (
            None,
            Some(haystack.match_indices(needle).map(|(start, _)| start)),
        )
    } else {
        (
            Some(memchr::memmem::find_iter(
                haystack.as_bytes(),
                needle.as_bytes(),
            )),
            None,
        )
    };
    searched
        .into_iter()
        .flatten()
        .chain(empty.into_iter().flatten())
}

/// Whether a surname stands alone somewhere else in the text, not after "the" and not as
/// part of a longer capitalised name.
fn surname_used_alone(view: &FieldView<'_>, surname: &str, full: &Range<usize>) -> bool {
    let text = view.text;
    occurrences(text, surname).any(|start| {
        let end = start + surname.len();
        if (start >= full.start && end <= full.end) || !at_word_boundaries(text, &(start..end)) {
            return false;
        }
        let index = view.words.partition_point(|w| w.end <= start);
        let previous = index.checked_sub(1).and_then(|p| view.words.get(p));
        let previous_text = previous
            .and_then(|w| text.get(w.start..w.end))
            .unwrap_or("");
        let after_name = previous.is_some_and(|p| text.get(p.end..start) == Some(" "))
            && is_name_shaped(previous_text)
            && !TITLE_WORDS_SET.contains(previous_text)
            && !HONORIFICS_SET.contains(previous_text);
        !after_name && !previous_text.eq_ignore_ascii_case("the")
    })
}

/// Where a capitalised run stands in its sentence.
#[derive(Clone, Copy)]
struct Opening {
    /// Whether it opens the sentence (after punctuation at most).
    of_sentence: bool,
    /// Where the sentence starts (0 past the last sentence).
    sentence_start: usize,
}

fn classify<'t>(
    view: &FieldView<'t>,
    sequence: &[Word],
    first_word_index: usize,
    opening: Opening,
    headline: bool,
    lowercase_words: &LowercaseWords<'_>,
) -> Option<Candidate<'t>> {
    let text = view.text;
    let mut tokens: Vec<&str> = sequence
        .iter()
        .map(|w| text.get(w.start..w.end).unwrap_or(""))
        .collect();
    let possessive = tokens.last().map_or(0, |t| possessive_suffix(t));
    if let Some(last) = tokens.last_mut() {
        *last = &last[..last.len() - possessive];
    }
    // Drop leading titles, function words and a sentence-opening common word.
    let mut link_only = false;
    // A body or a place keeps the title it is named after ("Imam Khomeini Airport").
    let organisation_headed = tokens.len() >= 2
        && tokens.last().is_some_and(|t| {
            ORGANIZATION_HEADS_SET.contains(t)
                || CORPORATE_HEADS_SET.contains(t)
                || LOCATION_WORDS_SET.contains(t)
        });
    let mut skip = 0;
    let mut titled = false;
    let mut honorific: Option<&str> = None;
    while skip < tokens.len() {
        let token = tokens[skip];
        // "General Staff", "Prime Minister's Office": a body keeps the title it is named after.
        let is_title = !organisation_headed
            && (TITLE_WORDS_SET.contains(token)
                || token == "Sir"
                || (token == "of"
                    && skip > 0
                    && tokens
                        .get(skip + 1)
                        .is_some_and(|t| TITLE_WORDS_SET.contains(t))));
        let is_common = if organisation_headed {
            // "Central Intelligence Agency" keeps its "Central".
            FUNCTION_WORDS_SET.contains(token)
                || (NOT_NAME_WORDS_SET.contains(token)
                    && !ORGANIZATION_MODIFIERS_SET.contains(token))
        } else {
            NOT_NAME_WORDS_SET.contains(token)
                || (skip == 0 && opening.of_sentence && lowercase_words.contains_lowercased(token))
        };
        if !is_title && (!is_common || skip + 1 == tokens.len()) {
            break;
        }
        if is_title {
            titled = true;
        }
        if is_title && (HONORIFICS_SET.contains(token) || token == "Sir") {
            honorific = Some(token);
        } else if !is_title {
            honorific = None;
        }
        skip += 1;
    }
    if skip == tokens.len() {
        return None;
    }
    if let Some(title) = honorific
        && contains_word(PEERAGE_TITLES, title)
        && skip + 1 == tokens.len()
        && is_name_shaped(tokens[skip])
    {
        // "Lord West": a peer is named with the title.
        let title_word = sequence.get(skip - 1)?;
        let name_word = sequence.get(skip)?;
        return Some(Candidate {
            range: title_word.start..name_word.end - possessive,
            tokens: vec![title, tokens[skip]],
            kind: EntityKind::Person,
            role_window: role_window_start(view, first_word_index, opening)..title_word.start,
            headline,
            speaks: false,
        });
    }
    // "Trade and Industry Secretary Patricia Hewitt": the name follows the last title; but
    // "Foreign Affairs Committee" is one name.
    if !organisation_headed
        && let Some(last_title) = tokens[skip..]
            .iter()
            .rposition(|t| TITLE_WORDS_SET.contains(t))
            .map(|i| i + skip)
        && last_title + 1 < tokens.len()
        && tokens[last_title + 1..]
            .iter()
            .all(|t| is_name_shaped(t) || NAME_PARTICLES_SET.contains(t))
    {
        if HONORIFICS_SET.contains(tokens[last_title]) {
            honorific = Some(tokens[last_title]);
        }
        titled = true;
        skip = last_title + 1;
    }
    // The name's words: the phrase's, without the titles and common words dropped above.
    let mut name_tokens = tokens;
    name_tokens.drain(..skip);
    let mut start_word = skip;
    while name_tokens
        .last()
        .is_some_and(|t| NOT_NAME_WORDS_SET.contains(t) || NAME_PARTICLES_SET.contains(t))
    {
        name_tokens.pop();
    }
    while name_tokens
        .first()
        .is_some_and(|t| NAME_PARTICLES_SET.contains(t) || matches!(*t, "of" | "and"))
    {
        name_tokens.remove(0);
        start_word += 1;
    }
    let last_token = *name_tokens.last()?;
    let first_token = *name_tokens.first()?;
    let end_word = start_word + name_tokens.len() - 1;
    let mut range = sequence.get(start_word)?.start..sequence.get(end_word)?.end;
    if end_word + 1 == sequence.len() {
        range.end -= possessive;
    }
    let role_window_start = role_window_start(view, first_word_index, opening);
    let role_window = role_window_start..range.start;

    // "IBM said": an acronym the knowledge base does not know, reporting speech, is a body.
    if let [acronym] = name_tokens.as_slice()
        && is_acronym(acronym)
        && !headline
        && reports_speech(view, first_word_index + end_word + 1)
        && !names_common_speaker(acronym)
        // "The Iraqi Security Forces (ISF) ... The ISF said": the name it abbreviates, linked
        // with the other acronyms once the names are found.
        && !text.contains(&format!("({acronym})"))
    {
        // Link-only as a name: `ArticleEntities::name_speaking` links it to the body it
        // abbreviates or makes it one.
        return Some(Candidate {
            range,
            tokens: name_tokens,
            kind: EntityKind::Organization,
            role_window,
            headline: true,
            speaks: true,
        });
    }
    if EVENT_HEADS_SET.contains(last_token) {
        return None;
    }
    // "Spend Spend Spend": a word said over and over is a slogan or a title, not a name.
    if name_tokens
        .windows(3)
        .any(|three| three[0] == three[1] && three[1] == three[2])
    {
        return None;
    }
    let kind = if (ORGANIZATION_HEADS_SET.contains(last_token)
        || CORPORATE_HEADS_SET.contains(last_token))
        && name_tokens.len() >= 2
        || ORGANIZATION_OPENERS_SET.contains(first_token) && name_tokens.len() >= 2
    {
        EntityKind::Organization
    } else if (LOCATION_WORDS_SET.contains(last_token) || LOCATION_WORDS_SET.contains(first_token))
        && name_tokens.len() >= 2
    {
        EntityKind::Location
    } else {
        let shaped = name_tokens
            .iter()
            .all(|t| is_name_shaped(t) || NAME_PARTICLES_SET.contains(t));
        let common = name_tokens[..name_tokens.len() - 1]
            .iter()
            .filter(|t| !NAME_PARTICLES_SET.contains(t))
            .any(|t| lowercase_words.contains_lowercased(t) || NOT_NAME_WORDS_SET.contains(t))
            || NOT_NAME_WORDS_SET.contains(last_token)
            || TITLE_WORDS_SET.contains(last_token);
        let followed_by_role = text
            .get(range.end..)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
            .is_some_and(|next| {
                PERSON_HEADS_SET.contains(next) || DESCRIPTION_HEADS_SET.contains(next)
            });
        if !shaped || common || followed_by_role || name_tokens.len() > 5 {
            return None;
        }
        // "of the Hollywood Reporter": no one's full name takes the article; an untitled name
        // after "the" is a body or a work ("the Blair government" still links the surname).
        let after_the = !titled
            && (first_word_index + start_word)
                .checked_sub(1)
                .and_then(|i| view.words.get(i))
                .and_then(|w| text.get(w.start..w.end))
                .is_some_and(|w| w.eq_ignore_ascii_case("the"));
        if after_the && name_tokens.len() >= 2 {
            return Some(Candidate {
                range,
                tokens: name_tokens,
                kind: EntityKind::Organization,
                role_window,
                headline,
                speaks: false,
            });
        }
        if name_tokens.len() == 1 {
            match honorific {
                // "General Election" is no general's name.
                Some(_) if lowercase_words.contains_lowercased(last_token) => {
                    return None;
                }
                Some(_) => {}
                None => {
                    // A lone capitalised word may still be a surname of someone named earlier.
                    if opening.of_sentence && lowercase_words.contains_lowercased(last_token) {
                        return None;
                    }
                    // `name_tokens` is the one word `[last_token]`.
                    let speaks = !headline
                        && reports_speech(view, first_word_index + end_word + 1)
                        && !names_common_speaker(last_token)
                        && !ends_longer_name(view, range.start, last_token);
                    // "Moody's said": a name with its "'s" is no possessive before a verb.
                    let (range, name_tokens) = match text.get(range.start..range.end + possessive) {
                        Some(whole) if speaks && possessive > 0 => {
                            (range.start..range.end + possessive, vec![whole])
                        }
                        _ => (range, name_tokens),
                    };
                    return Some(Candidate {
                        range,
                        tokens: name_tokens,
                        kind: EntityKind::Person,
                        role_window,
                        headline: true,
                        speaks,
                    });
                }
            }
        }
        // Without evidence a name may still link to one found elsewhere, but it makes no
        // new entity (a headline name never does).
        if name_tokens.len() >= 2
            && !headline
            && !has_person_evidence(
                view,
                first_word_index..first_word_index + end_word + 1,
                &name_tokens,
                titled,
                &range,
            )
        {
            link_only = true;
        }
        EntityKind::Person
    };
    Some(Candidate {
        range,
        tokens: name_tokens,
        kind,
        role_window,
        headline: headline || link_only,
        speaks: false,
    })
}

/// Whether the words from index `after` report speech: the first of the next three that is
/// no auxiliary or adverb is a speech verb in the past tense, "says" or "tells" ("Kodak
/// said", "IBM has also said"); not "claims", "notes" or "states", which are nouns too.
fn reports_speech(view: &FieldView<'_>, after: usize) -> bool {
    next_main_word(view, after).is_some_and(|w| {
        (w.ends_with("ed") || matches!(w, "said" | "says" | "told" | "tells" | "wrote"))
            && SPEECH_VERBS.iter().any(|(verb, _)| *verb == w)
    })
}

/// The first of the three words from index `after` that is no auxiliary or adverb: the verb a
/// name is the subject of ("X has also said").
fn next_main_word<'t>(view: &FieldView<'t>, after: usize) -> Option<&'t str> {
    view.words
        .get(after..(after + 3).min(view.words.len()))
        .unwrap_or(&[])
        .iter()
        .filter_map(|w| view.text.get(w.start..w.end))
        .find(|w| !matches!(*w, "has" | "had" | "also" | "have" | "later" | "then"))
}

/// Whether a capitalised word opening a sentence is a noun for speakers, not a name
/// ("Dealers said", "Officials said"), read in lower case.
fn names_common_speaker(word: &str) -> bool {
    let lower = word.to_lowercase();
    // "the PM said", "the CEO said": a title's abbreviation.
    OFFICIAL_ROLE_NOUNS_SET.contains(&lower)
        || lower == "ceo"
        || DESCRIPTION_HEADS_SET.contains(&lower)
        || PERSON_HEADS_SET.contains(&lower)
        || PERSON_NOUNS_SET.contains(&lower)
        || lower
            .strip_suffix('s')
            .is_some_and(|singular| PERSON_NOUNS_SET.contains(singular))
}

/// Whether a lone capitalised word at `start` is the last piece of a longer name: it follows
/// a capitalised word ("Bank of Tokyo | Ltd", "Moody's"), or it is a word that ends names
/// ("Inc", "Navy", "Republic").
fn ends_longer_name(view: &FieldView<'_>, start: usize, word: &str) -> bool {
    let follows_capital = adjacent_before(view.text, view.words, start)
        && previous_word(view.text, view.words, start).is_some_and(is_capitalised);
    // "U.S. Bancorp (Oregon) said", a ticker's "<BVTN.AS>".
    let in_parentheses = view
        .text
        .get(..start)
        .is_some_and(|head| head.ends_with(['(', '.', '<', '/']));
    follows_capital
        || in_parentheses
        || ORGANIZATION_HEADS_SET.contains(word)
        || CORPORATE_HEADS_SET.contains(word)
        || LOCATION_WORDS_SET.contains(word)
        || contains_word(LEGAL_SUFFIXES, word)
}

/// The capitals opening the words of a name, without its legal form: "API" for "American
/// Petroleum Institute", "ATT" for "American Telephone and Telegraph Co".
fn initials(name: &str) -> String {
    let mut words: Vec<&str> = name.split(' ').collect();
    if words
        .last()
        .is_some_and(|last| contains_word(LEGAL_SUFFIXES, last))
    {
        words.pop();
    }
    words
        .iter()
        .filter_map(|word| word.chars().next())
        .filter(char::is_ascii_uppercase)
        .collect()
}

/// A word in capitals naming a body: "IBM", "TWA", "USDA"; two to six letters.
fn is_acronym(word: &str) -> bool {
    (2..=6).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_uppercase())
}

/// Where the role words before a name may start: up to six words back within the sentence.
fn role_window_start(view: &FieldView<'_>, first_word_index: usize, opening: Opening) -> usize {
    let first = view.words.get(first_word_index).map_or(0, |w| w.start);
    let back = first_word_index.saturating_sub(6);
    view.words
        .get(back)
        .map_or(first, |w| w.start)
        .max(opening.sentence_start)
        .min(first)
}

/// Reads an official role of an unknown person from the words before the name
/// ("Iraqi Prime Minister", "Germany's defence minister") or an appositive after it
/// (", France's deputy minister for foreign affairs,"). Only official roles count, and not
/// former ones; the government is the state or body those words name.
fn read_affiliation(
    view: &FieldView<'_>,
    candidate: &Candidate<'_>,
    known: &[Found],
    index: &EntityIndex,
) -> Option<Affiliation> {
    let text = view.text;
    let appositive_start = candidate.range.end + 2;
    let appositive = text
        .get(candidate.range.end..)
        .and_then(|after| after.strip_prefix(", "))
        .map(|rest| {
            let mut end = rest
                .find([',', '.', ';', '\n', '(', '"', '\u{201c}', '\u{201d}'])
                .unwrap_or(rest.len())
                .min(120);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            appositive_start..appositive_start + end
        });
    let windows = [Some(candidate.role_window.clone()), appositive];
    for window in windows.into_iter().flatten() {
        let words = text.get(window.clone()).unwrap_or("");
        let lower = words.to_lowercase();
        if !contains_official_role(&lower) {
            continue;
        }
        if contains_not_in_office(&lower) {
            return None;
        }
        let government = country_in_window(known, index, window.clone())?;
        return Some(Affiliation {
            government_code: government,
            role: words.trim().trim_end_matches(',').to_owned(),
            start: None,
            end: None,
        });
    }
    None
}

static OFFICIAL_ROLE_AUTOMATON: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| phrase_automaton(OFFICIAL_ROLES));
static NOT_IN_OFFICE_AUTOMATON: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| phrase_automaton(NOT_IN_OFFICE));

/// Builds the phrase automata now, with the annotator, rather than inside the first article
/// that asks (building them costs as much as annotating a few articles).
pub(crate) fn build_phrase_automata() {
    LazyLock::force(&OFFICIAL_ROLE_AUTOMATON);
    LazyLock::force(&NOT_IN_OFFICE_AUTOMATON);
}

/// Whether `haystack` holds one of `OFFICIAL_ROLES` as whole words.
pub(crate) fn contains_official_role(haystack: &str) -> bool {
    contains_any_phrase(&OFFICIAL_ROLE_AUTOMATON, OFFICIAL_ROLES, haystack)
}

/// Whether `haystack` holds one of `NOT_IN_OFFICE` ("former", "ex") as whole words.
pub(crate) fn contains_not_in_office(haystack: &str) -> bool {
    contains_any_phrase(&NOT_IN_OFFICE_AUTOMATON, NOT_IN_OFFICE, haystack)
}

fn phrase_automaton(phrases: &[&str]) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(phrases)
        .ok()
}

/// Whether `haystack` holds one of `phrases` as whole words, as
/// `phrases.iter().any(|phrase| contains_phrase(haystack, phrase))` would say, in one pass
/// of `automaton` (built over `phrases`) over every match of every phrase instead of a
/// search per phrase.
fn contains_any_phrase(automaton: &Option<AhoCorasick>, phrases: &[&str], haystack: &str) -> bool {
    let matches = automaton
        .as_ref()
        .and_then(|automaton| automaton.try_find_overlapping_iter(haystack).ok());
    match matches {
        Some(mut matches) => matches.any(|found| {
            haystack.is_char_boundary(found.start())
                && at_word_boundaries(haystack, &(found.start()..found.end()))
        }),
        None => phrases
            .iter()
            .any(|phrase| contains_phrase(haystack, phrase)),
    }
}

/// Whether `haystack` holds `phrase` as whole words. Walks word starts instead of building
/// a substring searcher: the haystacks are a few words long.
pub(crate) fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    if phrase.is_empty() || phrase.len() > haystack.len() {
        return false;
    }
    let bytes = haystack.as_bytes();
    let first = phrase.as_bytes()[0];
    let last_start = haystack.len() - phrase.len();
    // memchr to the candidate starts: most of the haystack is not the phrase's first byte.
    memchr::memchr_iter(first, &bytes[..=last_start]).any(|start| {
        haystack.is_char_boundary(start)
            && haystack[start..].starts_with(phrase)
            && at_word_boundaries(haystack, &(start..start + phrase.len()))
    })
}

/// The words an article writes in lower case, for telling common words from names ("the
/// Green party" against "Green said"). Asked a dozen times per article: searching the text at
/// each question costs less than hashing every word of the article up front.
pub(crate) struct LowercaseWords<'t> {
    fields: Vec<(&'t str, &'t [Word])>,
    /// A bit per [`word_shape`] of every word not starting with an ASCII capital (the fields'
    /// shapes together): a word whose shape has no bit is in no field, and most names asked
    /// about are turned away here without a search.
    shapes: WordShapes,
}

impl<'t> LowercaseWords<'t> {
    /// The fields' texts and words, with the shapes [`super::text::words`] read of them.
    pub(crate) fn new(fields: Vec<(&'t str, &'t [Word], &WordShapes)>) -> LowercaseWords<'t> {
        let mut shapes: WordShapes = [0; std::mem::size_of::<WordShapes>() / 8];
        for (_, _, field_shapes) in &fields {
            for (all, field) in shapes.iter_mut().zip(field_shapes.iter()) {
                *all |= field;
            }
        }
        LowercaseWords {
            fields: fields
                .into_iter()
                .map(|(text, words, _)| (text, words))
                .collect(),
            shapes,
        }
    }

    /// Whether some field has a word, starting with a lower-case letter, equal to `word`.
    fn contains(&self, word: &str) -> bool {
        word.starts_with(char::is_lowercase) && self.contains_bytes(word.as_bytes())
    }

    /// [`LowercaseWords::contains`] for a word already known to start with a lower-case
    /// letter, as bytes (no UTF-8 check of a word lower-cased on the stack).
    fn contains_bytes(&self, word: &[u8]) -> bool {
        let shape = word_shape(word);
        if self
            .shapes
            .get(shape >> 6)
            .is_none_or(|bits| bits & (1 << (shape & 63)) == 0)
        {
            return false;
        }
        let finder = memchr::memmem::Finder::new(word);
        self.fields.iter().any(|(text, words)| {
            let bytes = text.as_bytes();
            let mut from = 0;
            // Every occurrence, overlapping ones too: a word is one that starts and ends
            // exactly at a word's bounds.
            while let Some(found) = bytes.get(from..).and_then(|rest| finder.find(rest)) {
                let start = from + found;
                let index = words.partition_point(|w| w.start < start);
                if words
                    .get(index)
                    .is_some_and(|w| w.start == start && w.end == start + word.len())
                {
                    return true;
                }
                from = start + 1;
            }
            false
        })
    }

    /// Whether the article writes `word` in lower case somewhere (`word` in any case).
    pub(crate) fn contains_lowercased(&self, word: &str) -> bool {
        // Most words are short ASCII: lower-cased on the stack, as `to_lowercase` would.
        let mut buffer = [0u8; 32];
        if word.is_ascii()
            && let Some(slot) = buffer.get_mut(..word.len())
        {
            slot.copy_from_slice(word.as_bytes());
            slot.make_ascii_lowercase();
            // ASCII: a lower-case first character is a lower-case first byte.
            return slot.first().is_some_and(u8::is_ascii_lowercase) && self.contains_bytes(slot);
        }
        self.contains(&word.to_lowercase())
    }
}

/// Checks the word before a mention for "former", "ex-" and the like.
pub(crate) fn preceded_by_not_in_office(field: &Field<'_>, start: usize) -> bool {
    let Some(head) = field.text().get(..start) else {
        return false;
    };
    // The last 61 characters: for ASCII, the last 61 bytes, without decoding them backwards.
    let window_start = match head.len().checked_sub(61) {
        Some(from) if head.as_bytes().get(from..).is_some_and(<[u8]>::is_ascii) => from,
        _ => head.char_indices().rev().nth(60).map_or(0, |(i, _)| i),
    };
    let window = field.lowercase(window_start..start).unwrap_or_default();
    // Only the clause right before the name: cut at the last punctuation.
    let clause = window
        .rsplit([',', '.', ';', ':', '"', '\u{201c}', '\u{201d}', '(', ')'])
        .next()
        .unwrap_or("");
    contains_not_in_office(clause)
}

/// For the unknown-entity affiliation: which country the role words name.
pub(crate) fn country_in_window(
    found: &[Found],
    index: &EntityIndex,
    window: Range<usize>,
) -> Option<String> {
    found
        .iter()
        .filter(|f| f.start >= window.start && f.end <= window.end && !f.modifier)
        .find_map(|f| match f.entity {
            EntityRef::Kb(i) => index
                .entity(i)
                .and_then(|e| e.government.clone().or_else(|| e.country.clone())),
            EntityRef::Local(_) => None,
        })
}

/// Words after a capital that make it the government acting ("Washington says", "if Tehran
/// attacked", "Moscow has"), besides speech verbs and past tenses.
const STATE_ACTION_WORDS: &[&str] = &[
    "accuses",
    "believes",
    "can",
    "claims",
    "could",
    "demands",
    "denies",
    "did",
    "does",
    "had",
    "has",
    "have",
    "hopes",
    "insists",
    "is",
    "may",
    "might",
    "must",
    "needs",
    "plans",
    "refuses",
    "rejects",
    "seeks",
    "sees",
    "should",
    "threatens",
    "wants",
    "was",
    "will",
    "would",
];

/// Words before a capital that make it the government acted upon or dealt with ("sanctions on
/// Tehran", "talks with Washington", "between Tehran and Washington").
const STATE_OBJECT_WORDS: &[&str] = &["against", "between", "by", "on", "with"];

/// The legal form ending a company's name, which news drops on later mentions.
const LEGAL_SUFFIXES: &[&str] = &[
    "AG", "Co", "Corp", "Inc", "LLC", "Ltd", "NV", "PLC", "Plc", "SA",
];

/// Words before a capital that make it the place whatever follows ("officials in Tehran
/// said", "flights from Baghdad were").
const PLACE_PREPOSITIONS: &[&str] = &[
    "across",
    "around",
    "at",
    "from",
    "in",
    "inside",
    "into",
    "near",
    "outside",
    "through",
    "throughout",
    "to",
    "toward",
    "towards",
    "via",
    "within",
];

/// Nouns after a demonym that make the phrase name the state ("the Syrian government").
const STATE_NOUNS: &[&str] = &["administration", "authorities", "government", "regime"];

/// Nouns that keep "X of <capital>" and "<capital>'s X" the place ("north of Baghdad", "the
/// streets of Tehran", "Tehran's mayor").
const PLACE_OF_NOUNS: &[&str] = &[
    "airport",
    "center",
    "centre",
    "city",
    "east",
    "governor",
    "heart",
    "mayor",
    "north",
    "outskirts",
    "people",
    "province",
    "residents",
    "south",
    "streets",
    "suburbs",
    "university",
    "west",
];

impl EntityIndex {
    /// The entity a mention is published as, or `None` when the text names no entity of its
    /// own: the finder keeps such matches because they tell who speaks for which government.
    ///
    /// * A demonym ("German troops", "a German spokesperson") describes, it does not name.
    /// * A description of a state body ("Iraqi military", "Iranian state television"): a
    ///   country word then lower-case words only.
    /// * A country in the possessive before a person ("Germany's Angela Merkel", "France's
    ///   president Emmanuel Macron") is the person's title.
    /// * A capital used for its government ("Washington says") names the state.
    pub(crate) fn published_entity(
        &self,
        view: &FieldView<'_>,
        found: &Found,
        is_person: &dyn Fn(&Found) -> bool,
        all: &[Found],
    ) -> Option<EntityRef> {
        let text = view.text;
        let slice = text.get(found.start..found.end).unwrap_or("");
        match found.anchor {
            // "the Syrian government" names the state.
            Anchor::Demonym => text
                .get(found.end..)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
                .is_some_and(|next| contains_word(STATE_NOUNS, next))
                .then_some(found.entity),
            Anchor::Capital => Some(self.capital_reading(view, found)),
            Anchor::Name => {
                if self.is_state_description(slice) {
                    return None;
                }
                let is_country = matches!(found.entity, EntityRef::Kb(index)
                    if self.entities.get(index).is_some_and(|e| e.entity.kind == EntityKind::Country));
                if is_country
                    && titles_following_person(text, view.words, found.end, is_person, all)
                {
                    return None;
                }
                Some(found.entity)
            }
            Anchor::Seat | Anchor::Surname | Anchor::Acronym => Some(found.entity),
        }
    }

    /// The city, or its state when the text uses the capital for the government: as the one
    /// acting or saying, in the possessive, or as the one acted upon. A capital with no such
    /// sign ("in Tehran", "quicker than Doha") is the place.
    fn capital_reading(&self, view: &FieldView<'_>, found: &Found) -> EntityRef {
        let EntityRef::Kb(index) = found.entity else {
            return found.entity;
        };
        let text = view.text;
        let before = view.words.partition_point(|w| w.end <= found.start);
        let after = view.words.partition_point(|w| w.start < found.end);
        let word_at = |i: Option<usize>| {
            i.and_then(|i| view.words.get(i))
                .and_then(|w| text.get(w.start..w.end))
                .unwrap_or("")
                .to_lowercase()
        };
        let previous = word_at(before.checked_sub(1));
        let next = word_at(Some(after));
        let rest = text.get(found.end..).unwrap_or("");
        let possessive = rest.starts_with("'s ") || rest.starts_with("\u{2019}s ");
        let state = if contains_word(PLACE_PREPOSITIONS, &previous) {
            false
        } else if possessive {
            // "Tehran's response"; the word after the "s".
            let noun = view
                .words
                .get(after..)
                .unwrap_or(&[])
                .iter()
                .map(|w| text.get(w.start..w.end).unwrap_or("").to_lowercase())
                .find(|w| w != "s");
            !noun.is_some_and(|noun| contains_word(PLACE_OF_NOUNS, &noun))
        } else {
            let acting = contains_word(STATE_ACTION_WORDS, &next)
                || SPEECH_VERBS.iter().any(|(verb, _)| *verb == next)
                || (next.len() > 4 && next.ends_with("ed"));
            let acted_upon = contains_word(STATE_OBJECT_WORDS, &previous)
                || (matches!(previous.as_str(), "and" | "or")
                    && word_at(before.checked_sub(3)) == "between")
                || (previous == "of"
                    && !contains_word(PLACE_OF_NOUNS, &word_at(before.checked_sub(2))));
            acting || acted_upon
        };
        if !state {
            return found.entity;
        }
        self.entities
            .get(index)
            .and_then(|e| e.country.as_ref())
            .and_then(|code| self.country_by_code.get(code))
            .map_or(found.entity, |&country| EntityRef::Kb(country))
    }
}

impl EntityIndex {
    /// Whether a capital or a country opens a longer name the knowledge base does not know: a
    /// capital before a capitalised name word ("the Paris Club", "the Washington Post"), a
    /// country before the head word of a body or company ("US Airways", "Japan Steel Works").
    fn starts_longer_name(
        &self,
        view: &FieldView<'_>,
        entity: usize,
        range: &Range<usize>,
    ) -> bool {
        let Some(next) = view
            .text
            .get(range.end..)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
        else {
            return false;
        };
        let head = ORGANIZATION_HEADS_SET.contains(next) || CORPORATE_HEADS_SET.contains(next);
        // "Pacific Gas and Electric Co", "Canada Southern Petroleum Ltd": a company named after
        // a place is neither the place nor its state.
        if !self
            .entities
            .get(entity)
            .is_some_and(|e| e.entity.kind == EntityKind::Person)
            && runs_on_to_company_suffix(view, range.end)
        {
            return true;
        }
        if self.capitals.contains(&entity) {
            is_name_shaped(next)
                && !FUNCTION_WORDS_SET.contains(next)
                && !NOT_NAME_WORDS_SET.contains(next)
                && !TITLE_WORDS_SET.contains(next)
                && !view.country_words.contains(next)
                // "Baghdad Airport" lies in Baghdad: the city is named too.
                && !LOCATION_WORDS_SET.contains(next)
        } else {
            head && self
                .entities
                .get(entity)
                .is_some_and(|e| e.entity.kind == EntityKind::Country)
        }
    }
}

/// Whether the capitalised words right after `end` (a few, "and", "of" and "&" among them)
/// end in a company's legal form or corporate head ("... Gas and Electric Co").
fn runs_on_to_company_suffix(view: &FieldView<'_>, end: usize) -> bool {
    let first = view.words.partition_point(|w| w.start < end);
    run_reaches(view, first, end, 7, &["and", "of", "&"], |slice, word| {
        // The folded text reads "Co-operation" and "Co-ordination" as "Co operation".
        let hyphenated_co = slice == "Co"
            && view
                .text
                .get(word.end..)
                .is_some_and(|rest| rest.starts_with(" op") || rest.starts_with(" or"));
        !hyphenated_co
            && (contains_word(LEGAL_SUFFIXES, slice) || CORPORATE_HEADS_SET.contains(slice))
    })
}

impl EntityIndex {
    /// "Iraqi military", "Iranian state television": a demonym, then lower-case words only.
    pub(crate) fn is_state_description(&self, slice: &str) -> bool {
        // One word alone is no description: no hashing for it.
        let Some((first, rest)) = slice.split_once(' ') else {
            return false;
        };
        self.demonyms.contains(first) && rest.split(' ').all(|w| w.starts_with(char::is_lowercase))
    }
}

/// Whether a possessive at `end` ("Germany's") is followed, after at most three lower-case
/// title words, by a person's name.
fn titles_following_person(
    text: &str,
    words: &[Word],
    end: usize,
    is_person: &dyn Fn(&Found) -> bool,
    all: &[Found],
) -> bool {
    let rest = text.get(end..).unwrap_or("");
    if !(rest.starts_with("'s ") || rest.starts_with("\u{2019}s ")) {
        return false;
    }
    // The possessive's "s" may be a word of its own: four words cover it and three titles.
    let first = words.partition_point(|w| w.start <= end);
    for word in words.iter().skip(first).take(4) {
        let Some(slice) = text.get(word.start..word.end) else {
            return false;
        };
        if slice.starts_with(char::is_uppercase) {
            return all.iter().any(|f| f.start == word.start && is_person(f));
        }
    }
    false
}

/// The id of a name the knowledge base does not know: its slug, so that every article naming
/// the same person or body links to one entity. Titles are already gone from the name; a
/// person's Arabic article is left out, since news spells it "al-", "Al ", "el-" or not at all
/// ("Qais al-Khazali", "Qais Khazali" → `qais-khazali`). Made from the name's slug, which
/// the caller has at hand.
fn local_id(slug: String, kind: EntityKind) -> String {
    if kind != EntityKind::Person {
        return slug;
    }
    let parts: Vec<&str> = slug
        .split('-')
        .filter(|part| !matches!(*part, "al" | "el"))
        .collect();
    if parts.len() < 2 {
        slug
    } else {
        parts.join("-")
    }
}

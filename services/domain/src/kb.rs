//! The knowledge base of actors: states, intergovernmental bodies, organizations, places and
//! people with dated roles. It is data (TOML files, schema in `docs/knowledge-base.md`), loaded
//! at start and extendable without recompiling: later files add entries and may extend earlier
//! ones by repeating an id.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::model::{Affiliation, Entity, EntityKind, GovernmentCode};
use crate::{Date, slugify};

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeBaseError {
    #[error("{source_name}: not valid knowledge-base TOML: {message}")]
    Syntax {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: {entry}: {problem}")]
    Invalid {
        source_name: String,
        entry: String,
        problem: String,
    },
}

/// One knowledge-base file as written on disk.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeBaseFile {
    #[serde(default)]
    country: Vec<CountryEntry>,
    #[serde(default)]
    organization: Vec<OrganizationEntry>,
    #[serde(default)]
    person: Vec<PersonEntry>,
    #[serde(default)]
    location: Vec<LocationEntry>,
}

/// A state. Its `code` (ISO 3166-1 alpha-3) is both its government code and, lower-cased, its id.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryEntry {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Words for its people and things: "British", "Briton", "Britons".
    #[serde(default)]
    pub demonyms: Vec<String>,
    #[serde(default)]
    pub capital: Option<String>,
    /// Names that stand for its government in news ("Downing Street", "No 10", "the Kremlin").
    #[serde(default)]
    pub seats: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// An intergovernmental body that is itself a government for our purposes (NATO, EU, UN).
    Intergovernmental,
    /// Anything else: ministries, parties, armed groups, media, companies.
    Organization,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationEntry {
    pub id: String,
    pub name: String,
    pub kind: OrganizationKind,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// For an intergovernmental body: its government code (NATO, EU, UN).
    #[serde(default)]
    pub government_code: Option<String>,
    /// For an organ of a state (a ministry, "the Pentagon"): the government its statements speak for.
    #[serde(default)]
    pub speaks_for: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleEntry {
    pub government: String,
    pub role: String,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEntry {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub roles: Vec<RoleEntry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationEntry {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The state it lies in (alpha-3), when it has one.
    #[serde(default)]
    pub country: Option<String>,
}

/// A state as the annotator needs it: names, demonyms, capital and seats of government.
#[derive(Clone, Debug)]
pub struct Country {
    pub code: GovernmentCode,
    pub entity_id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub demonyms: Vec<String>,
    pub capital: Option<String>,
    pub seats: Vec<String>,
}

/// The loaded, validated knowledge base.
#[derive(Clone, Debug, Default)]
pub struct KnowledgeBase {
    entities: BTreeMap<String, Entity>,
    countries: BTreeMap<GovernmentCode, Country>,
    /// Government code → display name (states and intergovernmental bodies).
    governments: BTreeMap<GovernmentCode, String>,
    /// Organization entity id → the government its statements speak for.
    speaks_for: HashMap<String, GovernmentCode>,
    /// Location entity id → the state it lies in.
    location_country: HashMap<String, GovernmentCode>,
}

impl KnowledgeBase {
    /// Loads knowledge-base sources in order; each is `(name for errors, TOML text)`.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<KnowledgeBase, KnowledgeBaseError> {
        let mut kb = KnowledgeBase::default();
        let mut pending_roles: Vec<(String, String, PersonEntry)> = Vec::new();
        for (source_name, text) in sources {
            let file: KnowledgeBaseFile =
                toml::from_str(text).map_err(|error| KnowledgeBaseError::Syntax {
                    source_name: source_name.to_owned(),
                    message: error.to_string(),
                })?;
            kb.add_file(source_name, file, &mut pending_roles)?;
        }
        // People are resolved last so their roles may name governments from any file.
        for (source_name, entry_name, person) in pending_roles {
            kb.add_person(&source_name, &entry_name, person)?;
        }
        let unknown = kb
            .speaks_for
            .iter()
            .chain(&kb.location_country)
            .find(|(_, code)| !kb.governments.contains_key(*code));
        if let Some((entity_id, code)) = unknown {
            return Err(KnowledgeBaseError::Invalid {
                source_name: "knowledge base".to_owned(),
                entry: format!("{entity_id:?}"),
                problem: format!("names government {code:?}, which nothing defines"),
            });
        }
        Ok(kb)
    }

    fn add_file(
        &mut self,
        source_name: &str,
        file: KnowledgeBaseFile,
        pending_roles: &mut Vec<(String, String, PersonEntry)>,
    ) -> Result<(), KnowledgeBaseError> {
        let invalid = |entry: &str, problem: String| KnowledgeBaseError::Invalid {
            source_name: source_name.to_owned(),
            entry: entry.to_owned(),
            problem,
        };
        for country in file.country {
            let entry = format!("country {:?}", country.code);
            let code = country.code.trim().to_owned();
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    &entry,
                    "code must be an ISO 3166-1 alpha-3 code in upper case".into(),
                ));
            }
            require_name(&country.name).map_err(|p| invalid(&entry, p))?;
            let entity_id = code.to_ascii_lowercase();
            self.governments.insert(code.clone(), country.name.clone());
            self.merge_entity(Entity {
                id: entity_id.clone(),
                name: country.name.clone(),
                kind: EntityKind::Country,
                aliases: country.aliases.clone(),
                affiliations: Vec::new(),
                government_code: Some(code.clone()),
            })
            .map_err(|p| invalid(&entry, p))?;
            if let Some(capital) = &country.capital {
                let capital_id = slugify(capital);
                if !self.entities.contains_key(&capital_id) {
                    self.location_country
                        .insert(capital_id.clone(), code.clone());
                    self.merge_entity(Entity {
                        id: capital_id,
                        name: capital.clone(),
                        kind: EntityKind::Location,
                        aliases: Vec::new(),
                        affiliations: Vec::new(),
                        government_code: None,
                    })
                    .map_err(|p| invalid(&entry, p))?;
                }
            }
            self.countries.insert(
                code.clone(),
                Country {
                    code,
                    entity_id,
                    name: country.name,
                    aliases: country.aliases,
                    demonyms: country.demonyms,
                    capital: country.capital,
                    seats: country.seats,
                },
            );
        }
        for organization in file.organization {
            let entry = format!("organization {:?}", organization.id);
            require_id(&organization.id).map_err(|p| invalid(&entry, p))?;
            require_name(&organization.name).map_err(|p| invalid(&entry, p))?;
            let (kind, government_code) = match organization.kind {
                OrganizationKind::Intergovernmental => {
                    let code = organization.government_code.clone().ok_or_else(|| {
                        invalid(
                            &entry,
                            "an intergovernmental organization needs a government_code".into(),
                        )
                    })?;
                    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(invalid(
                            &entry,
                            "government_code must be upper-case letters".into(),
                        ));
                    }
                    self.governments
                        .insert(code.clone(), organization.name.clone());
                    (EntityKind::IntergovernmentalOrganization, Some(code))
                }
                OrganizationKind::Organization => (EntityKind::Organization, None),
            };
            if let Some(government) = &organization.speaks_for {
                self.speaks_for
                    .insert(organization.id.clone(), government.clone());
            }
            self.merge_entity(Entity {
                id: organization.id,
                name: organization.name,
                kind,
                aliases: organization.aliases,
                affiliations: Vec::new(),
                government_code,
            })
            .map_err(|p| invalid(&entry, p))?;
        }
        for location in file.location {
            let entry = format!("location {:?}", location.id);
            require_id(&location.id).map_err(|p| invalid(&entry, p))?;
            require_name(&location.name).map_err(|p| invalid(&entry, p))?;
            if let Some(country) = &location.country {
                self.location_country
                    .insert(location.id.clone(), country.clone());
            }
            self.merge_entity(Entity {
                id: location.id,
                name: location.name,
                kind: EntityKind::Location,
                aliases: location.aliases,
                affiliations: Vec::new(),
                government_code: None,
            })
            .map_err(|p| invalid(&entry, p))?;
        }
        for person in file.person {
            let entry = format!("person {:?}", person.id);
            require_id(&person.id).map_err(|p| invalid(&entry, p))?;
            require_name(&person.name).map_err(|p| invalid(&entry, p))?;
            pending_roles.push((source_name.to_owned(), entry, person));
        }
        Ok(())
    }

    fn add_person(
        &mut self,
        source_name: &str,
        entry: &str,
        person: PersonEntry,
    ) -> Result<(), KnowledgeBaseError> {
        let invalid = |problem: String| KnowledgeBaseError::Invalid {
            source_name: source_name.to_owned(),
            entry: entry.to_owned(),
            problem,
        };
        let mut affiliations = Vec::with_capacity(person.roles.len());
        for role in person.roles {
            if !self.governments.contains_key(&role.government) {
                return Err(invalid(format!(
                    "role {:?} names government {:?}, which no country or intergovernmental organization defines",
                    role.role, role.government
                )));
            }
            let parse = |text: &Option<String>| -> Result<Option<Date>, KnowledgeBaseError> {
                text.as_deref()
                    .map(|t| t.parse::<Date>().map_err(|e| invalid(e.to_string())))
                    .transpose()
            };
            let (start, end) = (parse(&role.start)?, parse(&role.end)?);
            if let (Some(start), Some(end)) = (start, end)
                && end < start
            {
                return Err(invalid(format!(
                    "role {:?} ends ({end}) before it starts ({start})",
                    role.role
                )));
            }
            affiliations.push(Affiliation {
                government_code: role.government,
                role: role.role,
                start,
                end,
            });
        }
        self.merge_entity(Entity {
            id: person.id,
            name: person.name,
            kind: EntityKind::Person,
            aliases: person.aliases,
            affiliations,
            government_code: None,
        })
        .map_err(invalid)
    }

    /// Adds an entity, or extends the one with the same id (a user file adding aliases or roles).
    fn merge_entity(&mut self, entity: Entity) -> Result<(), String> {
        match self.entities.get_mut(&entity.id) {
            None => {
                self.entities.insert(entity.id.clone(), entity);
            }
            Some(existing) => {
                if existing.kind != entity.kind {
                    return Err(format!(
                        "id {:?} is already a {:?}, not a {:?}",
                        entity.id, existing.kind, entity.kind
                    ));
                }
                for alias in entity.aliases.into_iter().chain([entity.name]) {
                    if alias != existing.name && !existing.aliases.contains(&alias) {
                        existing.aliases.push(alias);
                    }
                }
                for affiliation in entity.affiliations {
                    if !existing.affiliations.contains(&affiliation) {
                        existing.affiliations.push(affiliation);
                    }
                }
                if existing.government_code.is_none() {
                    existing.government_code = entity.government_code;
                }
            }
        }
        Ok(())
    }

    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.entities.values()
    }

    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.entities.get(id)
    }

    pub fn countries(&self) -> impl Iterator<Item = &Country> {
        self.countries.values()
    }

    pub fn country(&self, code: &str) -> Option<&Country> {
        self.countries.get(code)
    }

    /// The display name of a government code, for states and intergovernmental bodies.
    pub fn government_name(&self, code: &str) -> Option<&str> {
        self.governments.get(code).map(String::as_str)
    }

    /// The government an organization's statements speak for (the Pentagon → USA).
    pub fn organization_speaks_for(&self, entity_id: &str) -> Option<&str> {
        self.speaks_for.get(entity_id).map(String::as_str)
    }

    /// The state a location lies in.
    pub fn location_country(&self, entity_id: &str) -> Option<&str> {
        self.location_country.get(entity_id).map(String::as_str)
    }

    /// The governments a person speaks for on `date`, from the roles the knowledge base knows.
    pub fn governments_of_person_on(&self, entity_id: &str, date: Date) -> Vec<&Affiliation> {
        self.entities
            .get(entity_id)
            .map(|entity| {
                entity
                    .affiliations
                    .iter()
                    .filter(|affiliation| affiliation.holds_on(date))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }
}

fn require_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "id {id:?} must be lower-case ASCII letters, digits and hyphens"
        ));
    }
    Ok(())
}

fn require_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("name must not be empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[[country]]
code = "GBR"
name = "United Kingdom"
aliases = ["UK", "Britain"]
demonyms = ["British"]
capital = "London"
seats = ["Downing Street"]

[[organization]]
id = "nato"
name = "NATO"
kind = "intergovernmental"
government_code = "NATO"

[[person]]
id = "boris-johnson"
name = "Boris Johnson"
roles = [{ government = "GBR", role = "Prime Minister", start = "2019-07-24", end = "2022-09-06" }]
"#;

    #[test]
    fn loads_and_resolves_roles_by_date() {
        let kb = KnowledgeBase::from_sources([("sample.toml", SAMPLE)]).unwrap();
        assert_eq!(kb.government_name("GBR"), Some("United Kingdom"));
        assert_eq!(kb.government_name("NATO"), Some("NATO"));
        assert!(kb.entity("london").is_some());
        let in_office = kb.governments_of_person_on("boris-johnson", "2020-01-05".parse().unwrap());
        assert_eq!(in_office.len(), 1);
        assert!(
            kb.governments_of_person_on("boris-johnson", "2023-01-01".parse().unwrap())
                .is_empty()
        );
    }

    #[test]
    fn a_later_file_extends_an_entry() {
        let extra = r#"
[[person]]
id = "boris-johnson"
name = "Boris Johnson"
aliases = ["BoJo"]
"#;
        let kb =
            KnowledgeBase::from_sources([("sample.toml", SAMPLE), ("extra.toml", extra)]).unwrap();
        let johnson = kb.entity("boris-johnson").unwrap();
        assert!(johnson.aliases.contains(&"BoJo".to_owned()));
        assert_eq!(johnson.affiliations.len(), 1);
    }

    #[test]
    fn errors_name_the_file_and_entry() {
        let bad = r#"
[[person]]
id = "x"
name = "X"
roles = [{ government = "ZZZ", role = "King" }]
"#;
        let error = KnowledgeBase::from_sources([("bad.toml", bad)])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("bad.toml") && error.contains("ZZZ"),
            "{error}"
        );
        let error = KnowledgeBase::from_sources([("typo.toml", "[[persn]]\nid='x'")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("typo.toml"), "{error}");
    }
}

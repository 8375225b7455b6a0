//! Behaviour tests on a small knowledge base, and a deterministic property test that
//! annotates random text (multi-byte characters, stray quote marks) and checks every span.

use crate::annotate::DateEstimate;
use communique_domain::{Act, KnowledgeBase, Statement, StatementKind, TextField};

use super::{Annotation, Annotator, ArticleText};

const KB: &str = r#"
[[country]]
code = "GBR"
name = "United Kingdom"
aliases = ["UK", "Britain"]
demonyms = ["British", "Briton"]
capital = "London"
seats = ["Downing Street", "No 10"]

[[country]]
code = "IRN"
name = "Iran"
demonyms = ["Iranian"]
capital = "Tehran"

[[country]]
code = "USA"
name = "United States"
aliases = ["US", "America"]
demonyms = ["American"]
capital = "Washington"

[[country]]
code = "DEU"
name = "Germany"
demonyms = ["German"]
capital = "Berlin"

[[country]]
code = "FRA"
name = "France"
demonyms = ["French"]
capital = "Paris"

[[country]]
code = "IRQ"
name = "Iraq"
demonyms = ["Iraqi"]
capital = "Baghdad"

[[organization]]
id = "nato"
name = "NATO"
kind = "intergovernmental"
government_code = "NATO"

[[organization]]
id = "iraqi-security-forces"
name = "Iraqi Security Forces"
kind = "organization"
speaks_for = "IRQ"
aliases = ["Iraqi military"]

[[organization]]
id = "iranian-foreign-ministry"
name = "Iranian Foreign Ministry"
kind = "organization"
speaks_for = "IRN"

[[organization]]
id = "quds-force"
name = "Quds Force"
kind = "organization"
speaks_for = "IRN"

[[person]]
id = "boris-johnson"
name = "Boris Johnson"
roles = [{ government = "GBR", role = "Prime Minister", start = "2019-07-24", end = "2022-09-06" }]

[[person]]
id = "qasem-soleimani"
name = "Qasem Soleimani"
aliases = ["Qassem Soleimani"]

[[person]]
id = "angela-merkel"
name = "Angela Merkel"
roles = [{ government = "DEU", role = "Chancellor", start = "2005-11-22", end = "2021-12-08" }]

[[person]]
id = "emmanuel-macron"
name = "Emmanuel Macron"
roles = [{ government = "FRA", role = "President", start = "2017-05-14" }]

[[person]]
id = "jens-stoltenberg"
name = "Jens Stoltenberg"
roles = [{ government = "NATO", role = "Secretary General", start = "2014-10-01", end = "2024-09-30" }]

[[person]]
id = "abbas-mousavi"
name = "Abbas Mousavi"
roles = [{ government = "IRN", role = "Foreign Ministry Spokesman", start = "2019-08-01", end = "2020-06-01" }]

[[person]]
id = "mohammad-javad-zarif"
name = "Mohammad Javad Zarif"
roles = [{ government = "IRN", role = "Foreign Minister", start = "2013-08-15", end = "2021-08-25" }]

[[person]]
id = "donald-trump"
name = "Donald Trump"
roles = [
  { government = "USA", role = "President", start = "2017-01-20", end = "2021-01-20" },
  { government = "USA", role = "President", start = "2025-01-20" },
]

[[person]]
id = "james-baker"
name = "James Baker"
roles = [
  { government = "USA", role = "White House Chief of Staff", start = "1981-01-20", end = "1985-02-03" },
  { government = "USA", role = "Secretary of the Treasury", start = "1985-02-04", end = "1988-08-17" },
  { government = "USA", role = "Secretary of State", start = "1989-01-25", end = "1992-08-23" },
]

[[person]]
id = "beryl-sprinkel"
name = "Beryl Sprinkel"
roles = [
  { government = "USA", role = "Under Secretary of the Treasury for Monetary Affairs", start = "1981-01-20", end = "1985-04-17" },
  { government = "USA", role = "Chairman of the Council of Economic Advisers", start = "1985-04-18", end = "1989-01-20" },
]

[[person]]
id = "dominic-raab"
name = "Dominic Raab"
roles = [{ government = "GBR", role = "Foreign Secretary", start = "2019-07-24", end = "2021-09-15" }]

[[person]]
id = "jeremy-hunt"
name = "Jeremy Hunt"
roles = [{ government = "GBR", role = "Foreign Secretary", start = "2018-07-09", end = "2019-07-24" }]
"#;

fn annotator() -> Annotator {
    let kb = KnowledgeBase::from_sources([("test.toml", KB)]).unwrap();
    Annotator::new(&kb)
}

fn annotate(annotator: &Annotator, body: &str) -> Annotation {
    let annotation = annotator.annotate(&ArticleText {
        title: "",
        body,
        published: "2020-01-06".parse().ok(),
    });
    check_invariants("", body, &annotation);
    annotation
}

/// [`annotate`] for an article given without a date.
fn annotate_undated(annotator: &Annotator, body: &str) -> Annotation {
    let annotation = annotator.annotate(&ArticleText {
        title: "",
        body,
        published: None,
    });
    check_invariants("", body, &annotation);
    annotation
}

/// `body` given the date `date`, read from its text (`date_from_text`) or from metadata.
fn annotate_with_date(
    annotator: &Annotator,
    body: &str,
    date: &str,
    date_from_text: bool,
) -> Annotation {
    let annotation = annotator.annotate_dated(
        &ArticleText {
            title: "",
            body,
            published: date.parse().ok(),
        },
        date_from_text,
    );
    check_invariants("", body, &annotation);
    annotation
}

/// Every span lies on character boundaries of its field and holds the text it claims.
/// The statements' texts, in order.
fn said_texts(annotation: &Annotation) -> Vec<&str> {
    annotation
        .statements
        .iter()
        .map(|s| s.text.as_str())
        .collect()
}

/// Each statement's speaker and the codes of the governments it speaks for.
fn speakers_and_governments(annotation: &Annotation) -> Vec<(&str, Vec<&str>)> {
    annotation
        .statements
        .iter()
        .map(|s| {
            let codes = s.governments.iter().map(|g| g.code.as_str()).collect();
            (s.speaker.name.as_str(), codes)
        })
        .collect()
}

fn check_invariants(title: &str, body: &str, annotation: &Annotation) {
    let field = |f: TextField| if f == TextField::Title { title } else { body };
    for mention in &annotation.mentions {
        let text = field(mention.span.field)
            .get(mention.span.start as usize..mention.span.end as usize)
            .unwrap();
        assert_eq!(text, mention.text);
        assert!(
            annotation
                .entities
                .iter()
                .any(|e| e.id == mention.entity_id)
        );
    }
    for (ordinal, statement) in annotation.statements.iter().enumerate() {
        assert_eq!(statement.ordinal as usize, ordinal);
        let text = field(statement.span.field)
            .get(statement.span.start as usize..statement.span.end as usize)
            .unwrap();
        assert_eq!(text, statement.text);
        for target in &statement.targets {
            assert!((-1.0..=1.0).contains(&target.polarity));
            assert!(annotation.entities.iter().any(|e| e.id == target.entity_id));
        }
    }
    let mut ids: Vec<&str> = annotation.entities.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "entities are listed once");
}

fn entity_ids(annotation: &Annotation) -> Vec<&str> {
    annotation
        .mentions
        .iter()
        .map(|m| m.entity_id.as_str())
        .collect()
}

#[test]
fn names_demonyms_seats_and_surnames() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Prime Minister Boris Johnson spoke about the Iranian general. Later Mr Johnson left.",
    );
    let johnson: Vec<&str> = a
        .mentions
        .iter()
        .filter(|m| m.entity_id == "boris-johnson")
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        johnson,
        ["Boris Johnson", "Johnson"],
        "titles are not names"
    );
    // A demonym describes: "the Iranian general" does not name Iran.
    assert!(!entity_ids(&a).contains(&"irn"));
}

#[test]
fn demonyms_capitals_and_possessives_are_published_as_what_they_name() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The Iraqi government said little. Washington says the strike was legal, \
         officials in Tehran said. France's president Emmanuel Macron spoke to German troops.",
    );
    let mentioned = |text: &str| -> Vec<&str> {
        a.mentions
            .iter()
            .filter(|m| m.text == text)
            .map(|m| m.entity_id.as_str())
            .collect()
    };
    assert_eq!(
        mentioned("Iraqi"),
        ["irq"],
        "the Iraqi government names the state"
    );
    assert_eq!(
        mentioned("Washington"),
        ["usa"],
        "a capital speaking is its state"
    );
    assert_eq!(mentioned("Tehran"), ["tehran"], "in Tehran is the city");
    assert!(
        mentioned("France").is_empty(),
        "France's president X is a title"
    );
    assert!(
        mentioned("German").is_empty(),
        "German troops does not name Germany"
    );
    assert!(!entity_ids(&a).contains(&"deu"));
}

#[test]
fn spelling_variants_of_unknown_names_are_one_entity() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Iraqi Prime Minister Adel Abdul Mahdi spoke. Later Adil Abdul-Mahdi said the vote was binding. Mr Abdul Mahdi left.",
    );
    let ids: Vec<&str> = a
        .mentions
        .iter()
        .filter(|m| m.text.contains("Mahdi"))
        .map(|m| m.entity_id.as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| *id == ids[0]));
    let statement = &a.statements[0];
    assert_eq!(statement.kind, StatementKind::Indirect);
    let codes = statement.government_codes();
    assert_eq!(codes, ["IRQ"], "an official role read from the text");
}

#[test]
fn headline_words_and_page_furniture_are_not_entities() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Chauffeur Driven Cars\n\nBreaking News\n\nPicture: PA\n\nJoin our commenting forum.\n\nMeanwhile, Thank you.",
    );
    assert!(a.entities.is_empty(), "{:?}", a.entities);
}

#[test]
fn quotes_with_their_speakers_and_governments() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Prime Minister Boris Johnson said: \"General Qassem Soleimani posed a threat to all our interests.\n\n\"We will not lament his death.\"\n\n‘Iran should not repeat these reckless attacks,’ he said.",
    );
    assert_eq!(a.statements.len(), 3, "{:#?}", a.statements);
    for statement in &a.statements {
        assert_eq!(statement.kind, StatementKind::Direct);
        assert_eq!(
            statement.speaker.entity_id.as_deref(),
            Some("boris-johnson")
        );
        assert_eq!(statement.governments[0].code, "GBR");
    }
    let soleimani = |s: &communique_domain::Statement| {
        s.targets
            .iter()
            .find(|t| t.entity_id == "qasem-soleimani")
            .map(|t| t.polarity)
    };
    assert!(soleimani(&a.statements[0]).unwrap() < 0.0);
    assert!(soleimani(&a.statements[1]).unwrap() < 0.0, "negated lament");
    assert_eq!(a.statements[2].act, Act::Appeal);
    let iran = a.statements[2]
        .targets
        .iter()
        .find(|t| t.entity_id == "irn");
    assert!(iran.unwrap().polarity < 0.0);
}

#[test]
fn joint_statements_and_unnamed_officials() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "In a joint statement, Mr Johnson, Germany’s Angela Merkel and France’s Emmanuel Macron said the violence “must be stopped”. A No 10 spokesman said: “It is extremely concerning.” An Iranian Embassy official said there were no plans to attack.",
    );
    let codes = |i: usize| a.statements[i].government_codes();
    assert_eq!(codes(0), ["DEU", "FRA", "GBR"]);
    assert_eq!(a.statements[0].speaker.entity_id, None);
    assert_eq!(a.statements[1].speaker.name, "A No 10 spokesman");
    assert_eq!(codes(1), ["GBR"]);
    assert_eq!(codes(2), ["IRN"]);
}

#[test]
fn seats_capitals_former_officials_and_igo_people() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Tehran warned of severe revenge. Former foreign secretary Jeremy Hunt said the move was bold. \"I condemn the attacks,\" NATO chief Jens Stoltenberg said.",
    );
    let codes: Vec<Vec<&str>> = a
        .statements
        .iter()
        .map(Statement::government_codes)
        .collect();
    assert_eq!(codes, [vec!["IRN"], vec![], vec!["NATO"]]);
    assert_eq!(a.statements[2].act, Act::Condemn);
}

#[test]
fn an_undated_article_is_dated_by_its_titled_officials() {
    let annotator = annotator();
    let body = "Prime Minister Boris Johnson met Chancellor Angela Merkel. Mr Johnson said the talks went well.";
    let a = annotate_undated(&annotator, body);
    assert_eq!(a.statements[0].governments[0].code, "GBR");
}

#[test]
fn empty_and_degenerate_input() {
    let annotator = annotator();
    for body in [
        "", " ", "\"", "'", "“", "‘’", "\n\n\n", "said:", "Mr", "é", "\"\"\"\"", "a.b.c.",
    ] {
        let a = annotator.annotate(&ArticleText {
            title: body,
            body,
            published: None,
        });
        check_invariants(body, body, &a);
    }
}

/// A xorshift generator: deterministic, no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_text_never_breaks_an_invariant() {
    const PIECES: &[&str] = &[
        " ",
        " ",
        " ",
        "\n",
        "\n\n",
        ".",
        ",",
        ":",
        ";",
        "!",
        "?",
        "\"",
        "'",
        "’",
        "‘",
        "“",
        "”",
        "-",
        "–",
        "—",
        "(",
        ")",
        "é",
        "ß",
        "İ",
        "ı",
        "😀",
        "漢字",
        "\u{a0}",
        "\t",
        "s",
        "the",
        "said",
        "told",
        "he",
        "she",
        "they",
        "it",
        "his",
        "not",
        "Mr",
        "Sir",
        "Lord",
        "President",
        "Boris Johnson",
        "Johnson",
        "Iran",
        "Iranian",
        "Iran’s",
        "Tehran",
        "No 10",
        "Downing Street",
        "Qassem Soleimani",
        "Soleimani",
        "NATO",
        "US-led",
        "Abdul-Mahdi",
        "Adel",
        "Amélie",
        "condemn",
        "should not",
        "de-escalation",
        "according to",
        "warned",
        "spokesman",
        "a",
        "A",
        "official",
        "Embassy",
        "former",
        "who",
        "and",
        "Hamid",
        "X",
        "(PMF)",
        "Popular Mobilisation Forces",
        "don't",
        "U.S.",
        "St.",
        "1500",
        "3.5",
    ];
    let annotator = annotator();
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..400 {
        let mut title = String::new();
        let mut body = String::new();
        for _ in 0..random.below(6) {
            title.push_str(PIECES[random.below(PIECES.len())]);
        }
        for _ in 0..random.below(300) {
            body.push_str(PIECES[random.below(PIECES.len())]);
            if random.below(3) == 0 {
                body.push(' ');
            }
        }
        let published = if random.below(2) == 0 {
            "2020-01-06".parse().ok()
        } else {
            None
        };
        let a = annotator.annotate(&ArticleText {
            title: &title,
            body: &body,
            published,
        });
        check_invariants(&title, &body, &a);
    }
}

#[test]
fn the_annotator_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Annotator>();
}

#[test]
fn unknown_names_get_the_same_id_in_every_article() {
    let annotator = annotator();
    let id_of = |body: &str| -> Vec<String> {
        annotate(&annotator, body)
            .entities
            .iter()
            .filter(|e| e.kind == communique_domain::EntityKind::Person)
            .map(|e| e.id.clone())
            .collect()
    };
    for body in [
        "Sheikh Karim al-Fartousi said the strike was a crime.",
        "Militia commander Karim Fartousi said the strike was a crime.",
        "Mr Karim Al-Fartousi said the strike was a crime.",
        "Karim el Fartousi said the strike was a crime.",
    ] {
        assert_eq!(id_of(body), ["karim-fartousi"], "{body}");
    }
    assert_eq!(
        id_of("General Marc Dupuis-Leclerc said France would respond."),
        ["marc-dupuis-leclerc"]
    );
}

#[test]
fn capitals_stand_for_their_state_only_when_the_text_says_so() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The talks were tense in Washington. The courts are slower than Paris. \
         Tehran has warned Iraq. Sanctions on Baghdad were lifted. \
         It was a clash between Tehran and Washington.",
    );
    let ids: Vec<(&str, &str)> = a
        .mentions
        .iter()
        .map(|m| (m.text.as_str(), m.entity_id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("Washington", "washington"),
            ("Paris", "paris"),
            ("Tehran", "irn"),
            ("Iraq", "irq"),
            ("Baghdad", "irq"),
            ("Tehran", "irn"),
            ("Washington", "usa"),
        ]
    );
}

#[test]
fn a_date_from_the_text_that_the_titles_contradict_gives_way() {
    let annotator = annotator();
    let body = "Prime Minister Boris Johnson spoke on Wednesday (January 8th). \
                He recalled the treaty of 3 March 2015.";
    let article = ArticleText {
        title: "",
        body,
        published: "2015-03-03".parse().ok(),
    };
    // Inferred from the text: 2015 is before Johnson was Prime Minister.
    let inferred = annotator.annotate_dated(&article, true);
    assert_eq!(
        inferred.estimated_date,
        "2020-01-08".parse().ok().map(DateEstimate::NamedDay)
    );
    // Given by the source: kept.
    assert_eq!(annotator.annotate(&article).estimated_date, None);
    // No date at all: the day the text names, in the year the titles allow.
    let undated = annotator.annotate(&ArticleText {
        published: None,
        ..article
    });
    assert_eq!(
        undated.estimated_date,
        "2020-01-08".parse().ok().map(DateEstimate::NamedDay)
    );
}

#[test]
fn the_demonym_as_a_speaker_is_the_person_just_named_not_the_state() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Jeremy Dupont was delighted with his victory over Angela Leclerc. \
         \"I felt pretty good,\" said the American.",
    );
    let statement = a.statements.first().expect("the quote");
    assert_eq!(statement.speaker.name, "Jeremy Dupont");
    assert!(statement.governments.is_empty());
}

#[test]
fn a_country_ending_a_company_name_is_not_the_state() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Teleglobe France said it agreed to join the project. Meanwhile France said nothing.",
    );
    let france: Vec<usize> = a
        .mentions
        .iter()
        .filter(|m| m.entity_id == "fra")
        .map(|m| m.span.start as usize)
        .collect();
    assert_eq!(france, [63], "only the second France is the state");
}

#[test]
fn a_country_or_capital_opening_a_company_name_is_not_the_state() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Iran Khodro and Marketing Co said it would build cars. \
         Berlin Industrial Holdings said its sales rose by a third. The Asia Co-operation Council met. \
         Iran said it would not negotiate.",
    );
    assert_eq!(
        speakers_and_governments(&a),
        [
            ("Iran Khodro and Marketing Co", vec![]),
            ("Berlin Industrial Holdings", vec![]),
            ("Iran", vec!["IRN"]),
        ]
    );
}

#[test]
fn market_people_and_bodies_described_by_a_noun_are_speakers() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Dealers said the dollar would stay weak this week. \
         Some economists said the central bank would cut rates soon.",
    );
    assert_eq!(
        speakers_and_governments(&a),
        [("Dealers", vec![]), ("Some economists", vec![])]
    );
}

#[test]
fn the_company_is_the_organisation_the_article_is_about() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Waste Recovery Inc won a contract from Blue Circle Industries. Waste Recovery Inc \
         expects more. The company said its profit would double this year.\n\n\
         NATO met the Security Commission. The commission said it wants more troops in Iraq.",
    );
    assert_eq!(
        speakers_and_governments(&a),
        [
            ("Waste Recovery Inc", vec![]),
            ("Security Commission", vec![])
        ]
    );
}

#[test]
fn a_lone_name_or_acronym_that_reports_speech_is_a_speaker() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Renault said the plant would close next year. IBM said it would cut jobs too. \
         Moody's said the outlook was stable. The PM said the talks went well. \
         U.S. Bancorp (Oregon) said its bid was approved.",
    );
    assert_eq!(
        speakers_and_governments(&a)
            .into_iter()
            .map(|(speaker, _)| speaker)
            .collect::<Vec<_>>(),
        ["Renault", "IBM", "Moody's"]
    );
    let kinds: Vec<(&str, communique_domain::EntityKind)> = a
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.kind))
        .collect();
    use communique_domain::EntityKind::{Organization, Other};
    assert_eq!(
        kinds,
        [
            ("Renault", Other),
            ("IBM", Organization),
            ("Moody's", Other)
        ]
    );
}

#[test]
fn a_lone_speaking_name_is_the_body_the_article_names_in_full() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Eastman Kodak Co cut prices. Kodak said demand was weaker than it expected. \
         The Securities Industry Association published figures. SIA said trading fell by a tenth.",
    );
    assert_eq!(
        speakers_and_governments(&a),
        [
            ("Eastman Kodak Co", vec![]),
            ("Securities Industry Association", vec![])
        ]
    );
}

#[test]
fn a_possessive_inside_a_company_name_does_not_end_it() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Standard and Poor's Corp said it cut the rating of the bonds. \
         Harold Wilson's Labour Party won. Friday's Norwich Union results were weak.",
    );
    let names: Vec<&str> = a.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["Standard and Poor's Corp", "Labour Party", "Norwich Union"]
    );
}

#[test]
fn company_names_are_organisations_with_or_without_their_legal_form() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Waste Recovery Inc said it won a licence from Blue Circle Industries. \
         Waste Recovery said trials start soon. Analysts at Warburg Securities agreed.",
    );
    let kinds: Vec<(&str, communique_domain::EntityKind)> = a
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.kind))
        .collect();
    use communique_domain::EntityKind::Organization;
    assert_eq!(
        kinds,
        [
            ("Waste Recovery Inc", Organization),
            ("Blue Circle Industries", Organization),
            ("Warburg Securities", Organization),
        ]
    );
}

#[test]
fn the_addressee_of_told_is_not_part_of_what_was_said() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Boris Johnson told Angela Merkel the troops would stay. Jens Stoltenberg told reporters NATO was ready. \
         Boris Johnson told his monthly press conference the matter was closed. \
         Jens Stoltenberg told members of the committee the plan was sound. \
         The deal will create jobs for 41,000 people, Boris Johnson said. \
         Boris Johnson told the newspaper workers had not been paid. \
         Jens Stoltenberg said in a statement on Sunday the deal that Iran signed was dead. \
         Jens Stoltenberg said the plan would work, IRNA reported.",
    );
    assert_eq!(
        said_texts(&a),
        [
            "the troops would stay",
            "NATO was ready",
            "the matter was closed",
            // Where the addressee ends is not known: left in.
            "members of the committee the plan was sound",
            "The deal will create jobs for 41,000 people",
            "workers had not been paid",
            "in a statement on Sunday the deal that Iran signed was dead",
            "the plan would work",
        ]
    );
}

#[test]
fn the_clause_follows_a_that_after_a_long_addressee_or_adverbial() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Angela Merkel told US TV network Fox News on Sunday that the troops would stay. \
         Jens Stoltenberg said in an interview with the German magazine Der Spiegel that NATO was ready. \
         Boris Johnson said in a television interview he was heartened that talks resumed. \
         Emmanuel Macron said in Paris on Monday, after talks with leaders that met him, that peace mattered.",
    );
    assert_eq!(
        said_texts(&a),
        [
            "the troops would stay",
            "NATO was ready",
            "in a television interview he was heartened that talks resumed",
            "in Paris on Monday, after talks with leaders that met him, that peace mattered",
        ]
    );
}

#[test]
fn a_name_with_an_apposition_is_the_subject_not_what_was_said() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Hamid Reza Asefi, an Iranian diplomat, said the talks were useless. \
         The talks had failed, an Iranian diplomat said.",
    );
    let said: Vec<(&str, &str)> = a
        .statements
        .iter()
        .map(|s| (s.speaker.name.as_str(), s.text.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            ("Hamid Reza Asefi", "the talks were useless"),
            ("an Iranian diplomat", "The talks had failed"),
        ]
    );
}

#[test]
fn who_issued_a_statement_is_its_speaker() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The Iraqi military released a statement on Friday, saying the strike was defensive. \
         The Iranian Foreign Ministry also issued a joint statement saying the deal must be saved.",
    );
    assert_eq!(
        speakers_and_governments(&a),
        [
            ("Iraqi military", vec!["IRQ"]),
            ("Iranian Foreign Ministry", vec!["IRN"]),
        ]
    );
}

#[test]
fn a_demonym_before_a_name_not_found_is_not_the_state_speaking() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Iranian MP Ali Najafi Khoshroodi has said that the summit was a failure. \
         American Motors Corp said its sales rose. \
         The German Treasury said it would sell bonds. \
         Iran said the deal was alive.",
    );
    assert_eq!(
        speakers_and_governments(&a),
        [
            ("Iranian MP Ali Najafi Khoshroodi", vec![]),
            ("American Motors Corp", vec![]),
            ("The German Treasury", vec!["DEU"]),
            ("Iran", vec!["IRN"]),
        ]
    );
}

#[test]
fn a_quote_reopened_by_the_next_sentence_is_quoted_whole() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Boris Johnson told the BBC: \"My view is that the talks went well. \"We will meet again.\"",
    );
    let said: Vec<(StatementKind, &str)> = a
        .statements
        .iter()
        .map(|s| (s.kind, s.text.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            (
                StatementKind::Direct,
                "My view is that the talks went well."
            ),
            (StatementKind::Direct, "We will meet again."),
        ]
    );
}

#[test]
fn the_spokesman_of_a_role_is_not_the_last_person_named() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Jeremy Dupont said the Cabinet was weak. \
         The prime minister's official spokesman said the Cabinet was still used. \
         But he added: \"It cannot decide everything.\"",
    );
    let speakers: Vec<&str> = a
        .statements
        .iter()
        .map(|s| s.speaker.name.as_str())
        .collect();
    assert_eq!(
        speakers,
        [
            "Jeremy Dupont",
            "The prime minister's official spokesman",
            "The prime minister's official spokesman",
        ]
    );
}

#[test]
fn the_president_is_the_holder_just_spoken_of_not_the_one_named_most() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Donald Trump said the deal was dead. Donald Trump added that talks were over. \
         Emmanuel Macron met the envoy on Monday. The president said the deal could be saved.",
    );
    let speakers: Vec<&str> = a
        .statements
        .iter()
        .map(|s| s.speaker.name.as_str())
        .collect();
    assert_eq!(
        speakers,
        ["Donald Trump", "Donald Trump", "Emmanuel Macron"]
    );
}

#[test]
fn a_capital_or_country_opening_another_name_is_not_mentioned() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The Paris Club met. US Airways cut jobs. Flights left London Airport for Paris.",
    );
    let ids: Vec<(&str, &str)> = a
        .mentions
        .iter()
        .map(|m| (m.text.as_str(), m.entity_id.as_str()))
        .collect();
    // "The Paris Club" is a body of its own (a name after "the" is no person's).
    assert_eq!(
        ids,
        [
            ("Paris Club", "paris-club"),
            ("US Airways", "us-airways"),
            ("London", "london"),
            ("Paris", "paris")
        ]
    );
}

#[test]
fn the_country_sanctions_are_against_is_not_what_they_condemn() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Emmanuel Macron said the American sanctions against Iran are unlawful.",
    );
    let statement = a.statements.first().expect("the statement");
    assert!(
        statement
            .targets
            .iter()
            .all(|t| t.entity_id != "irn" || t.polarity >= 0.0),
        "{:?}",
        statement.targets
    );
}

#[test]
fn a_body_the_text_only_describes_speaks_unnamed_for_its_state() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The Iraqi military said it sustained no casualties in the strikes on the bases.",
    );
    assert_eq!(a.statements.len(), 1);
    let speaker = &a.statements[0].speaker;
    assert_eq!(speaker.entity_id, None);
    assert_eq!(speaker.name, "Iraqi military");
    let codes = a.statements[0].government_codes();
    assert_eq!(codes, ["IRQ"]);
    assert!(!a.entities.iter().any(|e| e.id == "iraqi-security-forces"));
}

#[test]
fn untitled_names_after_the_and_repeated_words_are_not_people() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Anne Thompson of the Hollywood Reporter said the film was moving. Steve Brown wrote the musical Spend Spend Spend years ago.",
    );
    let reporter = a.entities.iter().find(|e| e.name == "Hollywood Reporter");
    assert_eq!(
        reporter.map(|e| e.kind),
        Some(communique_domain::EntityKind::Organization)
    );
    assert!(!a.entities.iter().any(|e| e.name.contains("Spend")));
}

#[test]
fn unknown_names_are_shown_as_written() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "French economist Jean-Marc Daniel said the euro was weak. Daniel said it would fall.",
    );
    let names: Vec<&str> = a.entities.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"Jean-Marc Daniel"), "{names:?}");
}

#[test]
fn a_body_before_a_title_is_part_of_it_for_an_undated_article() {
    let annotator = annotator();
    let body = "Iranian Foreign Ministry spokesman Abbas Mousavi said the sanctions were illegal.";
    let a = annotate_undated(&annotator, body);
    assert_eq!(a.statements.len(), 1);
    let codes = a.statements[0].government_codes();
    // The ministry is part of the title, not a name that cuts it off.
    assert_eq!(codes, ["IRN"]);
}

#[test]
fn the_ministry_and_the_statement_speak_for_the_state_named_with_them_before() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The US sanctions were condemned on Monday by the Iranian foreign ministry. The ministry said the measures were illegal. Prime Minister Boris Johnson released a statement after the attack. The statement said the talks would go on.",
    );
    let codes = |i: usize| a.statements[i].government_codes();
    assert_eq!(a.statements.len(), 2);
    assert_eq!(codes(0), ["IRN"]);
    assert_eq!(codes(1), ["GBR"]);
    // The same after a quote: "..., added the statement".
    let a = annotate(
        &annotator,
        "Prime Minister Boris Johnson released a statement after the attack. \u{201c}The talks will go on,\u{201d} added the statement.",
    );
    let governments: Vec<Vec<&str>> = a
        .statements
        .iter()
        .map(Statement::government_codes)
        .collect();
    assert_eq!(governments, [["GBR"]]);
}

#[test]
fn a_headline_past_participle_is_a_passive_not_speech() {
    let annotator = annotator();
    for title in [
        "Boris Johnson warned over remarks on Iran",
        "Boris Johnson told to double overseas aid",
    ] {
        let body = "The talks went on.";
        let a = annotator.annotate(&ArticleText {
            title,
            body,
            published: "2020-01-06".parse().ok(),
        });
        check_invariants(title, body, &a);
        assert!(a.statements.is_empty(), "{title}: {:?}", a.statements);
    }
    // A headline in the present is active.
    let title = "Boris Johnson warns Iran over attacks";
    let a = annotator.annotate(&ArticleText {
        title,
        body: "The talks went on.",
        published: "2020-01-06".parse().ok(),
    });
    assert_eq!(a.statements.len(), 1);
}

#[test]
fn a_body_or_place_keeps_the_title_words_it_is_named_after() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Members of the Foreign Affairs Committee met on Monday. The National Security and Foreign Policy Committee has warned the minister over the deal. Pilgrims left Imam Khomeini Airport City on Monday.",
    );
    let names: Vec<&str> = a.entities.iter().map(|e| e.name.as_str()).collect();
    for name in [
        "Foreign Affairs Committee",
        "National Security and Foreign Policy Committee",
        "Imam Khomeini Airport City",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
}

#[test]
fn affairs_ends_a_title_and_and_opens_no_name() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Minister for Political Affairs Boris Johnson said the talks would go on. The firm has worked with Dillon, Read and Co since December.",
    );
    assert!(
        entity_ids(&a).contains(&"boris-johnson"),
        "{:?}",
        a.entities
    );
    assert!(
        !a.entities
            .iter()
            .any(|e| e.name.contains("Affairs") || e.name.starts_with("and ")),
        "{:?}",
        a.entities
    );
}

#[test]
fn a_role_is_read_in_its_other_wording_and_not_in_a_deputys_title() {
    let annotator = annotator();
    let undated = |body| annotate_undated(&annotator, body);
    let a = undated("Minister of Foreign Affairs Mohammad Javad Zarif said the talks would go on.");
    let codes = a.statements[0].government_codes();
    assert_eq!(codes, ["IRN"]);
    assert!(a.estimated_date.is_some());
    // A deputy's title is not the minister's office: it dates nothing.
    let a = undated("Deputy Foreign Minister Mohammad Javad Zarif said the talks would go on.");
    assert_eq!(a.estimated_date, None);
}

#[test]
fn the_exchequer_is_a_title_and_a_plural_acronym_no_name() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Chancellor of the Exchequer Nigel Lawson said rates would fall. Labour MPs said the plan was wrong.",
    );
    let names: Vec<&str> = a.entities.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"Nigel Lawson"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.contains("Exchequer") || n.contains("MPs")),
        "{names:?}"
    );
}

#[test]
fn the_official_is_the_person_just_named_unless_an_unnamed_one_came_first() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Prime Minister Boris Johnson said the talks went well. The official added that more talks would follow.",
    );
    let speakers: Vec<Option<&str>> = a
        .statements
        .iter()
        .map(|s| s.speaker.entity_id.as_deref())
        .collect();
    assert_eq!(speakers, [Some("boris-johnson"), Some("boris-johnson")]);
    // An unnamed official described before is the one meant.
    let a = annotate(
        &annotator,
        "Prime Minister Boris Johnson said the talks went well. A NATO official said more talks would follow. The official added that the alliance was ready.",
    );
    assert_eq!(a.statements.len(), 3);
    assert_eq!(a.statements[2].speaker.entity_id, None);
    // Named with their post in words that give no title.
    let a = annotate(
        &annotator,
        "\"Investment will reach $6 billion,\" Abolfazl Koudeie said. The official noted that growth would follow.",
    );
    let speakers: Vec<&str> = a
        .statements
        .iter()
        .map(|s| s.speaker.name.as_str())
        .collect();
    assert_eq!(speakers, ["Abolfazl Koudeie", "Abolfazl Koudeie"]);
}

#[test]
fn an_unnamed_speaker_is_named_without_the_dateline_before_it() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "TEHRAN - A Chinese envoy said the talks would go on.\n\nThe firm was unavailable for comment, but a spokeswoman for the bank said rates would rise.",
    );
    let speakers: Vec<&str> = a
        .statements
        .iter()
        .map(|s| s.speaker.name.as_str())
        .collect();
    assert_eq!(speakers, ["A Chinese envoy", "a spokeswoman"]);
}

#[test]
fn a_ministry_the_knowledge_base_does_not_list_does_not_cut_off_a_title() {
    let annotator = annotator();
    let body =
        "On Monday, Foreign Ministry spokesman Abbas Mousavi said the sanctions were illegal.";
    let a = annotate_undated(&annotator, body);
    assert!(a.entities.iter().any(|e| e.name == "Foreign Ministry"));
    let codes = a.statements[0].government_codes();
    assert_eq!(codes, ["IRN"]);
}

#[test]
fn an_acronym_links_to_the_name_it_abbreviates_not_to_the_country_ending_that_name() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "The National Council of Resistance of Iran (NCRI) held a rally in Paris. NCRI members said the vote was rigged. \
         The Iraqi Security Forces (ISF) secured the embassy. The ISF said the crowd had left. \
         The Motion Picture Association of America (MPAA) sued. The MPAA said piracy was rife.",
    );
    let linked = |text: &str| -> Vec<&str> {
        a.mentions
            .iter()
            .filter(|m| m.text == text)
            .map(|m| m.entity_name.as_str())
            .collect()
    };
    // "Iran" ends the council's name, but NCRI does not abbreviate "Iran".
    assert!(
        linked("NCRI").iter().all(|name| *name != "Iran"),
        "{:?}",
        a.mentions
    );
    assert!(
        linked("MPAA").iter().all(|name| *name != "United States"),
        "{:?}",
        a.mentions
    );
    let iran = a.entities.iter().find(|e| e.name == "Iran");
    assert!(
        iran.is_none_or(|e| !e.aliases.iter().any(|alias| alias == "NCRI")),
        "{iran:?}"
    );
    // An acronym spelled by its name's initials still links to it.
    assert_eq!(
        linked("ISF"),
        ["Iraqi Security Forces"; 2],
        "{:?}",
        a.mentions
    );
}

#[test]
fn a_speaker_s_own_state_is_not_a_target_of_what_they_say() {
    let annotator = annotator();
    let a = annotate(
        &annotator,
        "Prime Minister Boris Johnson said: \"The United Kingdom will not allow Iran to continue its reckless and dangerous attacks on Britain.\"",
    );
    assert_eq!(a.statements.len(), 1, "{:?}", a.statements);
    let statement = &a.statements[0];
    let codes = statement.government_codes();
    assert_eq!(codes, ["GBR"]);
    let targets: Vec<(&str, bool)> = statement
        .targets
        .iter()
        .map(|t| (t.entity_id.as_str(), t.polarity < 0.0))
        .collect();
    assert_eq!(targets, [("irn", true)], "{:?}", statement.targets);
    // The state is still mentioned: only its place among the targets goes.
    assert!(a.mentions.iter().any(|m| m.entity_id == "gbr"));
}

#[test]
fn a_clause_setting_the_scene_before_the_subject_names_no_speaker() {
    let annotator = annotator();
    for (body, speaker) in [
        (
            "Pointing to recent remarks by American officials, the spokesman said the talks would go on.",
            "the spokesman",
        ),
        (
            "Back in August, when American officials were in town, the spokesman said the embassy was safe.",
            "the spokesman",
        ),
    ] {
        let a = annotate(&annotator, body);
        assert_eq!(a.statements.len(), 1, "{body}: {:?}", a.statements);
        let statement = &a.statements[0];
        assert_eq!(statement.speaker.name, speaker, "{body}");
        // The state the clause names is not the speaker's.
        assert!(
            statement.governments.is_empty(),
            "{body}: {:?}",
            statement.governments
        );
    }
}

#[test]
fn a_list_of_states_after_an_opening_word_stays_the_speaker() {
    let annotator = annotator();
    let body = "Moreover, Britain, France and Germany said the attacks on Iraq must stop.";
    let a = annotate(&annotator, body);
    assert_eq!(a.statements.len(), 1, "{:?}", a.statements);
    // Not cut to "France and Germany" after the comma following Britain.
    assert!(
        a.statements[0].governments.iter().any(|g| g.code == "GBR"),
        "{:?}",
        a.statements[0]
    );
}

#[test]
fn a_state_speaking_with_others_stays_their_target() {
    let annotator = annotator();
    let body = "Foreign Secretary Jeremy Hunt and Foreign Minister Mohammad Javad Zarif said Iran must not be punished.";
    let a = annotator.annotate(&ArticleText {
        title: "",
        body,
        published: "2019-03-01".parse().ok(),
    });
    check_invariants("", body, &a);
    assert_eq!(a.statements.len(), 1, "{:?}", a.statements);
    let mut codes = a.statements[0].government_codes();
    codes.sort_unstable();
    assert_eq!(codes, ["GBR", "IRN"], "{:?}", a.statements);
    // Iran is the UK's target here, though Zarif speaks for it.
    assert!(
        a.statements[0].targets.iter().any(|t| t.entity_id == "irn"),
        "{:?}",
        a.statements[0].targets
    );
}

#[test]
fn a_description_after_the_named_speaker_of_an_inverted_verb_does_not_replace_them() {
    let annotator = annotator();
    let body = "\"The talks will go on,\" said the ministry's spokesman Abbas Mousavi, a former ambassador to Italy.";
    let a = annotate(&annotator, body);
    assert_eq!(a.statements.len(), 1, "{:?}", a.statements);
    assert_eq!(
        a.statements[0].speaker.entity_id.as_deref(),
        Some("abbas-mousavi"),
        "{:?}",
        a.statements[0]
    );
}

#[test]
fn an_article_with_no_date_and_no_titles_is_dated_by_the_people_it_quotes() {
    let annotator = annotator();
    let undated = |body| annotate_undated(&annotator, body);
    // Merkel's and Johnson's terms overlap from July 2019 to December 2021: both speak for
    // their governments, where without a date neither held a role "now".
    let a = undated(
        "\"The talks must go on,\" Angela Merkel said on Friday. \
         \"We agree,\" Boris Johnson said.",
    );
    let codes: Vec<Vec<&str>> = a
        .statements
        .iter()
        .map(Statement::government_codes)
        .collect();
    assert_eq!(codes, [vec!["DEU"], vec!["GBR"]]);
    let Some(DateEstimate::PeriodMiddle(date)) = a.estimated_date else {
        panic!(
            "expected an estimate from the speakers' terms: {:?}",
            a.estimated_date
        );
    };
    assert!(
        ("2019-07-24".parse().ok()..="2021-12-08".parse().ok()).contains(&Some(date)),
        "{date:?}"
    );
    // Someone the article calls former dates nothing.
    let a = undated("\"We agree,\" former prime minister Boris Johnson said.");
    assert_eq!(a.estimated_date, None);
    assert!(a.statements.iter().all(|s| s.governments.is_empty()));
}

#[test]
fn an_undated_article_is_dated_by_the_speakers_own_roles_in_any_wording() {
    let annotator = annotator();
    for (body, speaker) in [
        // "Treasury Secretary" for the role "Secretary of the Treasury".
        (
            "Treasury Secretary James Baker said the floating exchange rate system needs stability.",
            "James Baker",
        ),
        // A role in no list of official roles, in a body that is no government's.
        (
            "Beryl Sprinkel, chairman of the Council of Economic Advisers, said growth was on track.",
            "Beryl Sprinkel",
        ),
    ] {
        let annotation = annotate_undated(&annotator, body);
        let estimated = annotation.estimated_date.map(DateEstimate::date);
        assert!(
            estimated.is_some_and(|date| date.year() >= 1985 && date.year() <= 1988),
            "{body}: {estimated:?}"
        );
        let statement = annotation
            .statements
            .iter()
            .find(|s| s.speaker.name == speaker);
        assert_eq!(
            statement.map(Statement::government_codes),
            Some(vec!["USA"]),
            "{body}: {:?}",
            annotation.statements
        );
    }
}

#[test]
fn the_people_quoted_narrow_a_long_period_the_titles_give() {
    let annotator = annotator();
    // The title alone allows 2014-2024, whose middle is after Hunt's term; Hunt, quoted with
    // no title, places the article in 2018-2019, inside it.
    let annotation = annotate_undated(
        &annotator,
        "NATO Secretary General Jens Stoltenberg said the alliance was united.\n\n\
         Jeremy Hunt said Britain would stand by its allies.",
    );
    let estimated = annotation.estimated_date.map(DateEstimate::date);
    assert!(
        estimated.is_some_and(|date| date.year() == 2018 || date.year() == 2019),
        "{estimated:?}"
    );
    let governments = |speaker: &str| {
        annotation
            .statements
            .iter()
            .find(|s| s.speaker.name == speaker)
            .map(Statement::government_codes)
    };
    assert_eq!(governments("Jeremy Hunt"), Some(vec!["GBR"]));
    assert_eq!(governments("Jens Stoltenberg"), Some(vec!["NATO"]));
}

#[test]
fn a_date_read_from_the_text_gives_way_to_the_terms_of_the_people_quoted() {
    let annotator = annotator();
    // The worker read "14 July 2015" from the text: the day the deal was signed, years
    // before Mousavi, quoted untitled, was the spokesman.
    let body = "Abbas Mousavi said Iran would keep to the deal signed on 14 July 2015.";
    let annotation = annotate_with_date(&annotator, body, "2015-07-14", true);
    let estimated = annotation.estimated_date.map(DateEstimate::date);
    assert!(
        estimated.is_some_and(|date| date.year() == 2019 || date.year() == 2020),
        "{estimated:?}"
    );
    assert_eq!(
        annotation
            .statements
            .first()
            .map(Statement::government_codes),
        Some(vec!["IRN"])
    );
    // Given by the metadata, the same date stands.
    let annotation = annotate_with_date(&annotator, body, "2015-07-14", false);
    assert_eq!(annotation.estimated_date, None);
}

#[test]
fn a_date_read_from_the_text_gives_way_to_the_nearest_of_the_terms_a_title_names() {
    let annotator = annotator();
    // "President Donald Trump" is two terms: the worker read an older event's date (1975)
    // or a plan's (2023) from the text, in neither of them; the term nearest it dates the
    // article, where before the date stood and the president spoke for no government.
    let body = "U.S. President Donald Trump said the agreement was a massive breakthrough.";
    for (text_date, years) in [("1975-10-23", 2017..=2021), ("2023-06-01", 2025..=2026)] {
        let annotation = annotate_with_date(&annotator, body, text_date, true);
        let estimated = annotation.estimated_date.map(DateEstimate::date);
        assert!(
            estimated.is_some_and(|date| years.contains(&date.year())),
            "{text_date}: {estimated:?}"
        );
        assert_eq!(
            annotation
                .statements
                .first()
                .map(Statement::government_codes),
            Some(vec!["USA"]),
            "{text_date}"
        );
    }
    // A date in either term stands.
    let annotation = annotate_with_date(&annotator, body, "2020-12-11", true);
    assert_eq!(annotation.estimated_date, None);
}

#[test]
fn a_speaker_named_by_a_role_is_its_holder_at_the_date_the_people_quoted_give() {
    let annotator = annotator();
    // Undated: "the foreign secretary" has no holder today; Mousavi, quoted, dates the
    // article to 2019-2020, when Raab held the office.
    let annotation = annotate_undated(
        &annotator,
        "Abbas Mousavi said Iran would respond.\n\n\
         Britain's foreign secretary said the country stood by its allies.",
    );
    let statement = annotation
        .statements
        .iter()
        .find(|s| s.text.contains("stood by"));
    assert_eq!(
        statement.map(Statement::government_codes),
        Some(vec!["GBR"]),
        "{:?}",
        annotation.statements
    );
}

#[test]
fn a_speaker_after_after_or_before_is_the_subject_of_the_clause_it_opens() {
    let annotator = annotator();
    // "after" is a preposition in "after the talks" but opens a clause here: the name just
    // before the verb is its subject, not the pronoun or the state spoken of before.
    for (body, speaker, government) in [
        (
            "Iran's Foreign Ministry said on Friday that the deal was bad. It came after \
             Donald Trump said that Israel and Morocco had agreed to full relations.",
            "Donald Trump",
            "USA",
        ),
        (
            "Donald Trump said on Friday that the deal was good. The move came a day after \
             Iran said that it would not negotiate.",
            "Iran",
            "IRN",
        ),
        (
            "Donald Trump said on Friday that the deal was good. Hours before Boris Johnson \
             warned that the deal would fail.",
            "Boris Johnson",
            "GBR",
        ),
    ] {
        let annotation = annotate(&annotator, body);
        let second = annotation.statements.get(1);
        assert_eq!(
            second.map(|s| (s.speaker.name.as_str(), s.government_codes())),
            Some((speaker, vec![government])),
            "{body}: {:?}",
            annotation.statements
        );
    }
}

#[test]
fn a_description_is_read_to_its_head_and_past_a_scene_setting_participle() {
    let annotator = annotator();
    for (body, speaker, government, said) in [
        // "chief" modifies "diplomat": the speaker is the diplomat, and Iranian.
        (
            "\u{201c}We support direct negotiations,\u{201d} the chief Iranian diplomat said.",
            "the chief Iranian diplomat",
            Some("IRN"),
            Some("We support direct negotiations"),
        ),
        // What was said follows the verb; the participle only sets the scene.
        (
            "Asked about the report, the Iranian president said it was a lie.",
            "the Iranian president",
            Some("IRN"),
            Some("it was a lie"),
        ),
        (
            "Broadcast live on national TV, the Iranian president described the election as \
             a celebration.",
            "the Iranian president",
            Some("IRN"),
            None,
        ),
        // A verb ends a description: the statement is the speaker, not "senior officials".
        (
            "The statement said senior officials would meet in Tehran next week.",
            "The statement",
            None,
            Some("senior officials would meet in Tehran next week"),
        ),
    ] {
        let annotation = annotate(&annotator, body);
        let statement = annotation.statements.first();
        assert_eq!(
            statement.map(|s| (s.speaker.name.as_str(), s.government_codes())),
            Some((speaker, government.into_iter().collect())),
            "{body}: {:?}",
            annotation.statements
        );
        if let Some(said) = said {
            assert!(
                statement.is_some_and(|s| s.text.starts_with(said)),
                "{body}: {statement:?}"
            );
        }
    }
}

#[test]
fn a_role_named_after_another_speaker_is_not_that_speaker_unless_it_fits() {
    let annotator = annotator();
    for (body, speaker, governments) in [
        // Mousavi is Iran's and no chancellor, nor foreign secretary.
        (
            "Abbas Mousavi said Iran would respond. The German chancellor said Germany would \
             stand by its allies.",
            "The German chancellor",
            vec!["DEU"],
        ),
        (
            "Abbas Mousavi said Iran would respond.\n\nThe foreign secretary said Britain \
             would stand by its allies.",
            "The foreign secretary",
            vec![],
        ),
        // Raab is the foreign secretary: the role names him again.
        (
            "Dominic Raab said Britain was worried.\n\nThe foreign secretary said Britain \
             would stand by its allies.",
            "Dominic Raab",
            vec!["GBR"],
        ),
    ] {
        let annotation = annotate(&annotator, body);
        let second = annotation.statements.get(1);
        assert_eq!(
            second.map(|s| (s.speaker.name.as_str(), s.government_codes())),
            Some((speaker, governments)),
            "{body}: {:?}",
            annotation.statements
        );
    }
}

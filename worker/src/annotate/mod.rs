//! PLACEHOLDER until the annotate module lands.
use communique_domain::{Date, Entity, KnowledgeBase, Mention, Statement};

pub struct ArticleText<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub published: Option<Date>,
}
pub struct Annotation {
    pub mentions: Vec<Mention>,
    pub statements: Vec<Statement>,
    pub entities: Vec<Entity>,
}
pub struct Annotator {}
impl Annotator {
    pub fn new(_kb: &KnowledgeBase) -> Annotator {
        Annotator {}
    }
    pub fn annotate(&self, _text: &ArticleText<'_>) -> Annotation {
        Annotation {
            mentions: vec![],
            statements: vec![],
            entities: vec![],
        }
    }
}

//! communique's domain: the annotated-article model, the knowledge base of actors, identifiers,
//! pagination and the query types the services answer. It knows neither tonic nor sled.

mod date;
mod id;
pub mod kb;
pub mod model;
pub mod query;
mod validate;

pub use date::{Date, DateError};
pub use id::{
    ArticleIdError, SIGNATURE_HASHES, content_hash, name_phonetic_key, name_similarity,
    near_duplicate_signature, normalize_name, phonetic_key, signature_similarity, slugify,
    validate_article_id,
};
pub use kb::{KnowledgeBase, KnowledgeBaseError};
pub use model::*;
pub use validate::{InvalidArticle, MAX_TITLE_BYTES};

//! communique's batch worker: reads news articles (text or JSONL, plain or gzip), cleans them,
//! annotates them against the knowledge base, and writes them into a store or streams them to a
//! running server. The `communique-worker` binary is a thin command line over this library.

pub mod annotate;
pub mod input;
pub mod knowledge_base;
pub mod pipeline;
pub mod sink;

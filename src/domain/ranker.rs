//! Which signals rank the profiles: a choice every caller (CLI, API, pages, selection) makes and
//! the ranking code obeys.

use serde::Serialize;

/// Which signals rank the profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Ranker {
    /// BM25 over the per-language analysed fields only.
    Lexical,
    /// Cosine similarity of multilingual-e5 embeddings only.
    Dense,
    /// Both, fused (see `rank::hybrid`).
    #[default]
    Hybrid,
}

impl Ranker {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Ranker::Lexical => "lexical",
            Ranker::Dense => "dense",
            Ranker::Hybrid => "hybrid",
        }
    }
}

//! A supplier's copy of everything pitchmatch keeps about its profile (the right of access and
//! portability): the record as stored, its state in the derived data (version, index, embeddings)
//! and its edit token described without the secret. It is assembled here, from the store and the
//! index, so that the API and the pages hand out the same document.

use serde::Serialize;

use super::Engine;
use crate::domain::Profile;
use crate::error::Result;

/// Everything stored about one profile.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfileExport {
    /// When this export was made (seconds since 1970-01-01 UTC).
    pub exported_at_unix: u64,
    /// The record exactly as stored (it is what the search index and the embeddings are made of).
    pub profile: Profile,
    /// The record's state in the store and in the data derived from it.
    pub status: ExportStatus,
    /// The edit token, described: the token itself is not stored and cannot be shown again.
    pub edit_token: ExportToken,
    /// What pitchmatch does not keep about the profile, for the avoidance of doubt.
    pub not_stored: Vec<String>,
}

/// A profile's state in the store and in the derived data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportStatus {
    /// The store's change number of this version (it grows with every write to any profile).
    pub version: u64,
    /// Whether the search index holds it (its words are indexed for matching).
    pub indexed: bool,
    /// The embeddings computed from its text, if any.
    pub embeddings: Option<ExportEmbeddings>,
}

/// Embeddings of a profile's text, described (they are numbers computed from the record).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportEmbeddings {
    /// The model that computed them.
    pub model: String,
    /// One vector per passage of the text.
    pub passages: u64,
    /// Numbers per vector.
    pub dimensions: u64,
    /// Whether they were computed from the current version of the record.
    pub current: bool,
}

/// An edit token, described without its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportToken {
    /// Whether the profile has one.
    pub exists: bool,
    /// How it is kept.
    pub stored_as: String,
    /// When it was made: handed out once, on submission (the store keeps no time for it).
    pub created: String,
}

impl Engine {
    /// Everything stored about profile `id`, or `None` when there is no such profile.
    pub fn export_profile(&self, id: &str) -> Result<Option<ProfileExport>> {
        let store = &self.indexer.store;
        let (Some(profile), Some(facts)) = (store.profile(id)?, store.profile_facts(id)?) else {
            return Ok(None);
        };
        let indexed = self.indexer.index.all_ids()?.binary_search(&profile.id).is_ok();
        let embeddings = facts.vectors.map(|v| ExportEmbeddings {
            current: v.of_version == facts.version,
            model: v.model,
            passages: v.passages,
            dimensions: v.dimensions,
        });
        let exported_at_unix =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Ok(Some(ProfileExport {
            exported_at_unix,
            profile,
            status: ExportStatus { version: facts.version, indexed, embeddings },
            edit_token: ExportToken {
                exists: facts.has_edit_token,
                stored_as: "its SHA-256 hash only; the token itself is not stored".into(),
                created: "on submission, shown once".into(),
            },
            not_stored: vec![
                "the edit token itself".into(),
                "the submitter's IP address (held in memory only, to limit submissions per minute)".into(),
                "the times of submission and changes".into(),
            ],
        }))
    }
}

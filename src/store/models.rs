//! The learned interest models: each one that was kept, with when, from what and how well it did
//! in cross-validation. The newest is the one in use.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, Result};
use crate::learn::InterestModel;

/// A kept model and its record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredInterestModel {
    /// Increasing version number.
    pub version: i64,
    /// When it was trained (RFC 3339).
    pub trained_at: String,
    /// What it was trained on (`decisions` or the judgments file).
    pub source: String,
    /// Examples it was trained on.
    pub examples: usize,
    /// Cross-validated nDCG@10 of the untrained ranking.
    pub untrained_ndcg10: f64,
    /// Cross-validated nDCG@10 of the model.
    pub model_ndcg10: f64,
    /// The model.
    pub model: InterestModel,
}

impl Store {
    /// Stores a kept model as the newest version and returns its version.
    pub fn save_interest_model(&self, m: &StoredInterestModel) -> Result<i64> {
        let json = serde_json::to_string(&m.model).map_err(|e| Error::Internal(e.to_string()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO interest_models (trained_at, source, examples, untrained_ndcg10, model_ndcg10, model)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![m.trained_at, m.source, m.examples as i64, m.untrained_ndcg10, m.model_ndcg10, json],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// The model in use: the newest kept one.
    pub fn latest_interest_model(&self) -> Result<Option<StoredInterestModel>> {
        let row = self.with_conn(|conn| {
            Ok(conn
                .query_row(
                    "SELECT version, trained_at, source, examples, untrained_ndcg10, model_ndcg10, model
                     FROM interest_models ORDER BY version DESC LIMIT 1",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, f64>(4)?,
                            r.get::<_, f64>(5)?,
                            r.get::<_, String>(6)?,
                        ))
                    },
                )
                .optional()?)
        })?;
        let Some((version, trained_at, source, examples, untrained_ndcg10, model_ndcg10, json)) = row else {
            return Ok(None);
        };
        let model: InterestModel = serde_json::from_str(&json)
            .map_err(|e| Error::Internal(format!("stored interest model {version} is unreadable: {e}")))?;
        Ok(Some(StoredInterestModel {
            version,
            trained_at,
            source,
            examples: usize::try_from(examples).unwrap_or(0),
            untrained_ndcg10,
            model_ndcg10,
            model,
        }))
    }
}

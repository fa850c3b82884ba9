//! Credentials of the HTTP service. They live in the store because they must survive restarts and
//! follow the records they guard (a profile's edit token disappears with the profile, in the same
//! transaction). Only SHA-256 hashes are stored: a leaked database file gives no usable token, and
//! a token is shown exactly once, when it is made.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{next_seq, set_seq, Store};
use crate::domain::Profile;
use crate::error::{Error, Result, UserError};

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenRole {
    /// Runs Co-Innovation Days: sees every profile, manages demands and events, ranks.
    Organiser,
    /// An OEM's innovation department: sees its own organisation's demand areas, events and
    /// shortlists, and records decisions on them.
    Reviewer,
}

impl TokenRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRole::Organiser => "organiser",
            TokenRole::Reviewer => "reviewer",
        }
    }

    /// Parses a stored or user-given role name.
    pub fn parse(s: &str) -> Option<TokenRole> {
        match s {
            "organiser" | "organizer" => Some(TokenRole::Organiser),
            "reviewer" => Some(TokenRole::Reviewer),
            _ => None,
        }
    }
}

/// A named API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    /// Unique name given at creation.
    pub name: String,
    /// What it may do.
    pub role: TokenRole,
    /// The organisation a reviewer token is scoped to.
    pub organisation: Option<String>,
    /// Unix seconds of creation.
    pub created_at: i64,
    /// Unix seconds of revocation; a revoked token authenticates nothing.
    pub revoked_at: Option<i64>,
}

/// Makes a new random secret: `prefix` followed by 32 random bytes in hex.
pub fn generate_token(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    let mut out = String::with_capacity(prefix.len() + 64);
    out.push_str(prefix);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    Ok(out)
}

/// The hex SHA-256 of a token: the only form in which tokens are stored or compared.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Records a new API token under `name`. A revoked token's name may be reused; an active one's
    /// may not.
    pub fn create_api_token(&self, name: &str, role: TokenRole, token_hash: &str) -> Result<()> {
        self.create_scoped_api_token(name, role, None, token_hash)
    }

    /// [`Store::create_api_token`] for a token scoped to an organisation (reviewers).
    pub fn create_scoped_api_token(
        &self,
        name: &str,
        role: TokenRole,
        organisation: Option<&str>,
        token_hash: &str,
    ) -> Result<()> {
        if name.trim().is_empty() || name.chars().count() > 100 {
            return Err(
                UserError::BadArgument { field: "name".into(), message: "must be 1-100 characters".into() }.into()
            );
        }
        self.write(|tx| {
            let active: Option<i64> = tx
                .query_row("SELECT 1 FROM api_tokens WHERE name = ?1 AND revoked_at IS NULL", [name], |r| r.get(0))
                .optional()?;
            if active.is_some() {
                return Err(UserError::BadArgument {
                    field: "name".into(),
                    message: format!("an active token named {name:?} exists; revoke it first"),
                }
                .into());
            }
            tx.execute(
                "INSERT INTO api_tokens (name, role, token_hash, created_at, revoked_at, organisation)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)
                 ON CONFLICT(name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash,
                 created_at = excluded.created_at, revoked_at = NULL, organisation = excluded.organisation",
                params![name, role.as_str(), token_hash, now(), organisation],
            )?;
            Ok(())
        })
    }

    /// Revokes the token named `name`. False when there is no active token of that name.
    pub fn revoke_api_token(&self, name: &str) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now()],
            )?;
            Ok(n > 0)
        })
    }

    /// All API tokens (active and revoked), by name.
    pub fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.with_conn(|conn| {
            let mut stmt =
                conn.prepare("SELECT name, role, created_at, revoked_at, organisation FROM api_tokens ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (name, role, created_at, revoked_at, organisation) = row?;
                let role =
                    TokenRole::parse(&role).ok_or_else(|| Error::Internal(format!("unknown token role {role}")))?;
                out.push(ApiToken { name, role, organisation, created_at, revoked_at });
            }
            Ok(out)
        })
    }

    /// The active API token with this hash, if any.
    pub fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        self.with_conn(|conn| {
            let row = conn
                .query_row(
                    "SELECT name, role, created_at, token_hash, organisation FROM api_tokens
                     WHERE token_hash = ?1 AND revoked_at IS NULL",
                    [token_hash],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, Option<String>>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((name, role, created_at, stored, organisation)) = row else { return Ok(None) };
            if !bool::from(stored.as_bytes().ct_eq(token_hash.as_bytes())) {
                return Ok(None);
            }
            let role = TokenRole::parse(&role).ok_or_else(|| Error::Internal(format!("unknown token role {role}")))?;
            Ok(Some(ApiToken { name, role, organisation, created_at, revoked_at: None }))
        })
    }

    /// The profile whose edit token has this hash, if any.
    pub fn profile_id_by_token_hash(&self, token_hash: &str) -> Result<Option<String>> {
        self.with_conn(|conn| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT profile_id, token_hash FROM profile_tokens WHERE token_hash = ?1",
                    [token_hash],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(row.filter(|(_, stored)| bool::from(stored.as_bytes().ct_eq(token_hash.as_bytes()))).map(|(id, _)| id))
        })
    }

    /// Stores a newly submitted profile together with its edit-token hash, in one transaction.
    /// False (and nothing written) when a profile with that id already exists.
    pub fn insert_profile_with_token(&self, profile: &Profile, token_hash: &str) -> Result<bool> {
        self.write(|tx| {
            let exists: Option<i64> =
                tx.query_row("SELECT 1 FROM profiles WHERE id = ?1", [&profile.id], |r| r.get(0)).optional()?;
            let pending: Option<i64> =
                tx.query_row("SELECT 1 FROM pending_profiles WHERE id = ?1", [&profile.id], |r| r.get(0)).optional()?;
            if exists.is_some() || pending.is_some() {
                return Ok(false);
            }
            let seq = next_seq(tx)? + 1;
            tx.execute(
                "INSERT INTO profiles (id, record, language, seq) VALUES (?1, ?2, ?3, ?4)",
                params![profile.id, serde_json::to_string(profile)?, profile.language.code(), seq as i64],
            )?;
            tx.execute("DELETE FROM profile_tombstones WHERE id = ?1", [&profile.id])?;
            tx.execute(
                "INSERT INTO profile_tokens (profile_id, token_hash) VALUES (?1, ?2)",
                params![profile.id, token_hash],
            )?;
            set_seq(tx, seq)?;
            Ok(true)
        })
    }

    /// Replaces an existing profile (keeping its edit token). False when it does not exist.
    pub fn replace_profile(&self, profile: &Profile) -> Result<bool> {
        self.write(|tx| {
            let seq = next_seq(tx)? + 1;
            let n = tx.execute(
                "UPDATE profiles SET record = ?2, language = ?3, seq = ?4 WHERE id = ?1",
                params![profile.id, serde_json::to_string(profile)?, profile.language.code(), seq as i64],
            )?;
            if n == 0 {
                return Ok(false);
            }
            set_seq(tx, seq)?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: &str) -> Profile {
        Profile::minimal(id, &format!("{id} B.V."), "We build lightweight composite battery housings.")
    }

    #[test]
    fn api_tokens_create_lookup_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let token = generate_token("pmo_").unwrap();
        assert_eq!(token.len(), 4 + 64);
        let hash = hash_token(&token);
        store.create_api_token("alice", TokenRole::Organiser, &hash).unwrap();
        assert!(store.create_api_token("alice", TokenRole::Organiser, &hash_token("x")).is_err());
        assert_eq!(store.api_token_by_hash(&hash).unwrap().unwrap().name, "alice");
        assert!(store.api_token_by_hash(&hash_token("wrong")).unwrap().is_none());
        assert!(store.revoke_api_token("alice").unwrap());
        assert!(!store.revoke_api_token("alice").unwrap());
        assert!(store.api_token_by_hash(&hash).unwrap().is_none());
        assert!(store.api_tokens().unwrap()[0].revoked_at.is_some());
    }

    #[test]
    fn profile_token_follows_profile() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let hash = hash_token("secret");
        assert!(store.insert_profile_with_token(&profile("a"), &hash).unwrap());
        assert!(!store.insert_profile_with_token(&profile("a"), &hash_token("other")).unwrap());
        assert_eq!(store.profile_seq().unwrap(), 1);
        assert_eq!(store.profile_id_by_token_hash(&hash).unwrap().as_deref(), Some("a"));
        assert!(store.replace_profile(&profile("a")).unwrap());
        assert!(!store.replace_profile(&profile("b")).unwrap());
        assert!(store.delete_profile("a").unwrap());
        assert!(store.profile_id_by_token_hash(&hash).unwrap().is_none());
    }
}

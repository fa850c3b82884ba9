//! Who may do what: organiser and reviewer API tokens are made and revoked here, a presented
//! token (or the hash a sign-in session keeps) is resolved to its principal, and secrets for
//! edit tokens, sessions and CSRF values are made in one format. Only hashes are ever stored.

use crate::domain::Principal;
use crate::error::{Result, UserError};
use crate::store::{generate_token, hash_token, ApiToken, TokenRole};

use super::{Actor, Engine};

/// Prefix of organiser API tokens.
pub const API_TOKEN_PREFIX: &str = "pmo_";
/// Prefix of profile edit tokens.
pub const EDIT_TOKEN_PREFIX: &str = "pme_";

impl Engine {
    /// Makes a new API token named `name` and returns it (shown once; only its hash is stored).
    /// Only the command line makes tokens, so the log names it.
    pub fn create_token(&self, name: &str, role: TokenRole) -> Result<String> {
        let token = generate_token(API_TOKEN_PREFIX)?;
        let _writes = self.indexer.lock_writes();
        self.indexer.store.create_api_token(name, role, &hash_token(&token))?;
        self.audit(&Actor::command_line(), "create-token", "token", name)?;
        Ok(token)
    }

    /// Revokes the active API token named `name` (from the command line).
    pub fn revoke_token(&self, name: &str) -> Result<()> {
        let _writes = self.indexer.lock_writes();
        if !self.indexer.store.revoke_api_token(name)? {
            return Err(UserError::not_found("active token", name).into());
        }
        self.audit(&Actor::command_line(), "revoke-token", "token", name)
    }

    /// Every API token (names, roles, dates; never the tokens).
    pub fn tokens(&self) -> Result<Vec<ApiToken>> {
        self.indexer.store.api_tokens()
    }

    /// Who holds `token`: `None` when it matches no active token.
    pub fn principal(&self, token: &str) -> Result<Option<Principal>> {
        self.principal_for_hash(&hash_token(token))
    }

    /// Who holds the token with this hash (sign-in sessions keep only the hash).
    pub fn principal_for_hash(&self, hash: &str) -> Result<Option<Principal>> {
        if let Some(t) = self.indexer.store.api_token_by_hash(hash)? {
            return Ok(Some(match t.role {
                TokenRole::Organiser => Principal::Organiser(t.name),
                TokenRole::Reviewer => {
                    Principal::Reviewer { name: t.name, organisation: t.organisation.unwrap_or_default() }
                }
            }));
        }
        if let Some(id) = self.indexer.store.profile_id_by_token_hash(hash)? {
            return Ok(Some(Principal::Supplier(id)));
        }
        Ok(self.indexer.store.pending_id_by_token_hash(hash)?.map(Principal::Supplier))
    }

    /// A new random secret in the tokens' format: `prefix` and 32 random bytes in hex. The web
    /// pages' sign-in session ids and CSRF values are made the same way as tokens.
    pub fn new_secret(prefix: &str) -> Result<String> {
        generate_token(prefix)
    }

    /// The form in which a token is stored and compared (its hex SHA-256): a sign-in session keeps
    /// this instead of the token and checks it with [`Engine::principal_for_hash`].
    pub fn token_hash(token: &str) -> String {
        hash_token(token)
    }
}

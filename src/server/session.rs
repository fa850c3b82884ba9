//! Organiser sign-in sessions for the web pages, kept in the server's shared state. Browsers cannot send bearer tokens with a link
//! or a plain form, so an organiser pastes the API token once and gets a session cookie instead: a
//! random id (the server keeps only its SHA-256) mapped in memory to the token's hash. Every request
//! checks that the token is still active in the store, so `pitchmatch token revoke` ends sessions
//! too. The cookie is `HttpOnly` (no script can read it), `SameSite=Strict` (no other site can make
//! the browser send it), `Secure` and named with the `__Host-` prefix, which makes browsers refuse
//! it unless it came over https for this exact host (no sibling subdomain can plant or overwrite
//! it). Only a server explicitly set up for plain-http local use drops both (see
//! [`CookiePolicy`]). Sessions live in memory: a restart signs organisers out, which is the safe
//! direction.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::engine::Engine;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "pm_session";
/// How long a session lasts after sign-in (a working day).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Upper bound on live sessions; the oldest are dropped first when it is reached.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
struct Session {
    organiser: String,
    token_hash: String,
    expires: Instant,
}

/// The live sessions, keyed by the hash of the session id.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id_hash: Mutex<HashMap<String, Session>>,
}

/// A signed-in organiser, as far as the session knows; [`Sessions::lookup`] callers still check the
/// token against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOrganiser {
    /// The API token's name.
    pub organiser: String,
    /// The API token's hash, to check it has not been revoked.
    pub token_hash: String,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // Every update is a single insert or remove: a panic elsewhere cannot leave the map torn.
        self.by_id_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session for an organiser whose token was just checked; returns the new session id.
    pub fn start(&self, organiser: &str, token_hash: &str, now: Instant) -> crate::Result<String> {
        let id = Engine::new_secret("pms_")?;
        let mut map = self.map();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        let session = Session {
            organiser: organiser.to_string(),
            token_hash: token_hash.to_string(),
            expires: now + SESSION_LIFETIME,
        };
        map.insert(Engine::token_hash(&id), session);
        Ok(id)
    }

    /// The organiser of a live session.
    pub fn lookup(&self, id: &str, now: Instant) -> Option<SessionOrganiser> {
        let key = Engine::token_hash(id);
        let mut map = self.map();
        match map.get(&key) {
            Some(s) if s.expires > now => {
                Some(SessionOrganiser { organiser: s.organiser.clone(), token_hash: s.token_hash.clone() })
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session (sign-out). Unknown ids are ignored.
    pub fn end(&self, id: &str) {
        self.map().remove(&Engine::token_hash(id));
    }
}

/// How the pages' cookies are named and flagged. Deciding `Secure` per request from the scheme
/// the request claims would let a plain-http hop (or a client forging `X-Forwarded-Proto`) get
/// cookies without it; the decision is the operator's, once, in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    /// `Secure` and the `__Host-` prefix; false only for plain-http local use.
    pub secure: bool,
}

impl Default for CookiePolicy {
    fn default() -> Self {
        CookiePolicy { secure: true }
    }
}

impl CookiePolicy {
    /// The policy of the app serving `req` (the secure default when there is none).
    pub fn of(req: &HttpRequest) -> CookiePolicy {
        req.app_data::<actix_web::web::Data<crate::server::AppState>>().map(|s| s.cookies).unwrap_or_default()
    }

    /// The name cookie `base` is sent under.
    pub fn name(self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }
}

/// The value of cookie `name` (its base name; see [`CookiePolicy::name`]) in the request.
pub fn read_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    let name = CookiePolicy::of(req).name(name);
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value with the flags every cookie of these pages carries. `__Host-` cookies
/// must have `Path=/`, `Secure` and no `Domain`.
pub fn cookie(req: &HttpRequest, name: &str, value: &str, max_age: Duration) -> String {
    let policy = CookiePolicy::of(req);
    let secure = if policy.secure { "; Secure" } else { "" };
    format!("{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", policy.name(name), max_age.as_secs())
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn expired_cookie(req: &HttpRequest, name: &str) -> String {
    cookie(req, name, "", Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_end() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let id = sessions.start("alice", "hash", now).unwrap();
        assert!(id.starts_with("pms_") && id.len() == 68);
        let who = sessions.lookup(&id, now).unwrap();
        assert_eq!(who.organiser, "alice");
        assert_eq!(sessions.lookup("pms_forged", now), None);
        assert_eq!(sessions.lookup(&id, now + SESSION_LIFETIME), None, "expired session still valid");
        let id = sessions.start("alice", "hash", now).unwrap();
        sessions.end(&id);
        assert_eq!(sessions.lookup(&id, now), None, "signed-out session still valid");
    }

    #[test]
    fn cookie_flags() {
        // Without an app (and so without a setting to the contrary) cookies are secure, and a
        // claimed scheme changes nothing.
        let req =
            actix_web::test::TestRequest::default().insert_header(("x-forwarded-proto", "http")).to_http_request();
        let c = cookie(&req, SESSION_COOKIE, "v", SESSION_LIFETIME);
        assert_eq!(c, "__Host-pm_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure");
        let req = actix_web::test::TestRequest::default()
            .insert_header(("cookie", "a=1; pm_session=plain; __Host-pm_session=xyz"))
            .to_http_request();
        assert_eq!(read_cookie(&req, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(read_cookie(&req, "b"), None);
        assert_eq!(CookiePolicy { secure: false }.name(SESSION_COOKIE), "pm_session");
    }
}

//! The budget every write is charged against before it reaches the engine. A write is expensive
//! (a profile is embedded on the CPU, the index and the cached rankings take it in), and the service
//! is open to anyone with an edit token, so a loop of `PUT`s from one script could keep the machine
//! busy for everyone. Each write is counted three times: against the client's address (so one host
//! cannot use many tokens), against the token (so one token cannot use many hosts) and against a
//! global budget (so many hosts and tokens together still leave the machine usable). API and pages
//! charge the same buckets: a supplier's edits through the form and through the API add up.

use std::net::IpAddr;

use actix_web::HttpRequest;

use super::limit::{client_key, GlobalLimit, KeyedLimit};
use super::{ApiError, AppState, HttpConfig};
use crate::domain::Principal;

/// The write budgets of the service.
pub(crate) struct WriteLimits {
    per_client: KeyedLimit<IpAddr>,
    per_token: KeyedLimit<String>,
    global: GlobalLimit,
}

impl WriteLimits {
    pub(crate) fn new(config: &HttpConfig) -> WriteLimits {
        WriteLimits {
            per_client: KeyedLimit::per_minute(config.writes_per_minute),
            per_token: KeyedLimit::per_minute(config.writes_per_minute),
            global: GlobalLimit::per_minute(config.global_writes_per_minute),
        }
    }

    /// Charges one write by `who` from `client`; `Err(seconds)` says when to come back.
    pub(crate) fn charge(&self, client: Option<IpAddr>, who: &Principal) -> Result<(), u64> {
        if let Some(ip) = client {
            self.per_client.check(&ip)?;
        }
        let token = match who {
            Principal::Organiser(name) => Some(format!("o:{name}")),
            Principal::Supplier(id) => Some(format!("s:{id}")),
            Principal::Reviewer { name, .. } => Some(format!("r:{name}")),
            Principal::Anonymous => None,
        };
        if let Some(token) = token {
            self.per_token.check(&token)?;
        }
        self.global.check()
    }

    /// Charges one anonymous submission to the global budget (its per-client budget is the
    /// submissions limit).
    pub(crate) fn charge_global(&self) -> Result<(), u64> {
        self.global.check()
    }
}

impl AppState {
    /// The rate-limiting key of the request's client (see [`super::limit`]); `None` when the
    /// connection has no peer address (in-process test requests).
    pub(crate) fn client_key(&self, req: &HttpRequest) -> Option<IpAddr> {
        req.peer_addr().map(|peer| client_key(self.proxies.client_ip(peer.ip(), req.headers())))
    }

    /// Charges one write of `who` made with `req`; `Err(seconds)` says when to come back.
    pub(crate) fn charge_write(&self, req: &HttpRequest, who: &Principal) -> Result<(), u64> {
        self.writes.charge(self.client_key(req), who)
    }
}

/// [`AppState::charge_write`] for the API's handlers: a refusal is a 429 with `Retry-After`.
pub(crate) fn charge_api_write(state: &AppState, req: &HttpRequest, who: &Principal) -> Result<(), ApiError> {
    state.charge_write(req, who).map_err(|retry_after| ApiError::RateLimited { retry_after })
}

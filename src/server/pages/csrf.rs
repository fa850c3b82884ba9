//! Cross-site request forgery protection for every form that posts (submit, edit, delete, sign-in,
//! sign-out, run selection). It uses the double-submit pattern: the first page a browser loads sets
//! a random `pm_csrf` cookie (HttpOnly, SameSite=Strict; `__Host-`-prefixed and `Secure` unless the
//! server runs on plain http for local use) and every form carries the same value in a hidden field; a POST is accepted only when both are present and equal. Another site can make a
//! browser post a form, but it can neither read nor set our cookie, so it cannot supply the match.
//! This works for anonymous suppliers too, who have no session.

use std::time::Duration;

use actix_web::HttpRequest;
use subtle::ConstantTimeEq;

use crate::engine::Engine;
use crate::server::session::{cookie, read_cookie};

/// Name of the cookie and of the hidden form field.
pub const CSRF_FIELD: &str = "csrf";
const CSRF_COOKIE: &str = "pm_csrf";
const CSRF_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The CSRF token a page's forms carry.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    value: String,
    /// True when the browser had none yet and the response must set the cookie.
    fresh: bool,
}

fn well_formed(v: &str) -> bool {
    v.len() == 68 && v.starts_with("pmc_") && v[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl CsrfToken {
    /// The browser's token, or a new one when it has none (or a malformed one).
    pub fn for_request(req: &HttpRequest) -> crate::Result<CsrfToken> {
        match read_cookie(req, CSRF_COOKIE).filter(|v| well_formed(v)) {
            Some(value) => Ok(CsrfToken { value, fresh: false }),
            None => Ok(CsrfToken { value: Engine::new_secret("pmc_")?, fresh: true }),
        }
    }

    /// The value for the hidden form field.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The `Set-Cookie` header value, when the cookie must be (re)set.
    pub fn set_cookie(&self, req: &HttpRequest) -> Option<String> {
        self.fresh.then(|| cookie(req, CSRF_COOKIE, &self.value, CSRF_LIFETIME))
    }
}

/// Whether a posted form's token matches the browser's cookie (compared in constant time).
pub fn verify(req: &HttpRequest, submitted: Option<&str>) -> bool {
    match (read_cookie(req, CSRF_COOKIE), submitted) {
        (Some(cookie), Some(field)) if well_formed(&cookie) => cookie.as_bytes().ct_eq(field.as_bytes()).into(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_post_needs_the_cookie_and_the_same_field() {
        let token = CsrfToken::for_request(&TestRequest::default().to_http_request()).unwrap();
        assert!(token.fresh && well_formed(token.value()));
        let with_cookie = TestRequest::default()
            .insert_header(("cookie", format!("__Host-pm_csrf={}", token.value())))
            .to_http_request();
        assert!(verify(&with_cookie, Some(token.value())));
        assert!(!verify(&with_cookie, None), "missing field accepted");
        assert!(!verify(&with_cookie, Some("pmc_0000")), "wrong field accepted");
        let no_cookie = TestRequest::default().to_http_request();
        assert!(!verify(&no_cookie, Some(token.value())), "field without cookie accepted");
        // A returning browser keeps its token; the cookie is not set again.
        let again = CsrfToken::for_request(&with_cookie).unwrap();
        assert_eq!(again.value(), token.value());
        assert!(again.set_cookie(&with_cookie).is_none());
    }
}

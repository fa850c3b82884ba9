//! Who a request comes from, and per-key rate limits. The service is open to anyone, so every write
//! is counted against the client that sent it; "the client" must mean the same person however the
//! service is deployed. Behind a TLS proxy the TCP peer is the proxy for everyone, so the proxy's
//! `X-Forwarded-For` is believed — but only when the peer is a configured trusted proxy, and only up
//! to the right-most address no trusted proxy vouches for (everything left of it the client could
//! have written itself). An IPv6 client gets a whole /64 from its provider, so it is keyed by its
//! /64, or it could step through 2^64 fresh buckets. The buckets are governor's GCRA cells in a
//! concurrent map; idle ones are swept out now and then (never an O(n) scan per request), and past a
//! hard cap new keys share one overflow bucket, so a flood of addresses cannot grow memory without
//! bound.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::StateStore;
use governor::{Quota, RateLimiter};
use ipnet::IpNet;

/// Keys tracked per limiter before new ones share the overflow bucket.
const MAX_TRACKED: usize = 100_000;
/// Idle buckets are swept at most this often (milliseconds) ...
const SWEEP_EVERY_MS: u64 = 10_000;
/// ... or this often once the cap is reached.
const SWEEP_AT_CAP_EVERY_MS: u64 = 1_000;

/// The addresses whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub(crate) fn new(nets: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the TCP peer, or — when the peer is a trusted proxy — the right-most
    /// `X-Forwarded-For` address that is not itself a trusted proxy. An entry that is not an
    /// address ends the walk at the last hop that could be trusted to have written it.
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }

    /// Whether a trusted proxy in front says the browser used https.
    pub(crate) fn forwarded_https(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        peer.is_some_and(|p| self.trusts(p))
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// IPv4-mapped IPv6 addresses (a dual-stack socket's view of IPv4 clients) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The rate-limiting key of a client address: IPv4 as is, IPv6 by its /64.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The buckets of a keyed limiter, shared with the limiter so that the cap can look a key up
/// without creating it (checking a key through the limiter inserts it).
struct SharedStore<K: Hash + Eq + Clone>(Arc<DashMapStateStore<K>>);

impl<K: Hash + Eq + Clone> StateStore for SharedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for SharedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.retain_recent(drop_below)
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&*self.0)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

type Keyed<K> = RateLimiter<Option<K>, SharedStore<Option<K>>, DefaultClock>;
/// The limiter, its buckets (for lookups that must not insert) and its clock.
type Buckets<K> = (Keyed<K>, Arc<DashMapStateStore<Option<K>>>, DefaultClock);

/// A budget of `n` per minute (bursts of up to `n`) per key; `0` is unlimited.
pub(crate) struct KeyedLimit<K: Hash + Eq + Clone> {
    limiter: Option<Buckets<K>>,
    started: Instant,
    last_sweep_ms: AtomicU64,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    pub(crate) fn per_minute(n: u32) -> KeyedLimit<K> {
        let limiter = NonZeroU32::new(n).map(|n| {
            let clock = DefaultClock::default();
            let store = Arc::new(DashMapStateStore::default());
            let limiter = RateLimiter::new(Quota::per_minute(n), SharedStore(Arc::clone(&store)), clock.clone());
            (limiter, store, clock)
        });
        KeyedLimit { limiter, started: Instant::now(), last_sweep_ms: AtomicU64::new(0) }
    }

    /// Takes one cell for `key`. `Err(seconds)` says when the next one will be there.
    pub(crate) fn check(&self, key: &K) -> Result<(), u64> {
        let Some((limiter, store, clock)) = &self.limiter else { return Ok(()) };
        let full = self.sweep(limiter);
        let key = Some(key.clone());
        // `None` is the overflow bucket: keys beyond the cap that are not tracked already share it.
        let key = if full && !store.contains_key(&key) { None } else { key };
        limiter.check_key(&key).map_err(|not_until| retry_secs(not_until.wait_time_from(clock.now())))
    }

    /// Keys tracked now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, |(l, _, _)| l.len())
    }

    /// Drops idle buckets when due; returns whether the map is at its cap.
    fn sweep(&self, limiter: &Keyed<K>) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        let full = limiter.len() >= MAX_TRACKED;
        let every = if full { SWEEP_AT_CAP_EVERY_MS } else { SWEEP_EVERY_MS };
        // One thread sweeps; the others go on with the map as it is.
        if now.saturating_sub(last) >= every
            && self.last_sweep_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
            return limiter.len() >= MAX_TRACKED;
        }
        full
    }
}

/// A global budget of `n` per minute; `0` is unlimited.
pub(crate) struct GlobalLimit(KeyedLimit<()>);

impl GlobalLimit {
    pub(crate) fn per_minute(n: u32) -> GlobalLimit {
        GlobalLimit(KeyedLimit::per_minute(n))
    }

    pub(crate) fn check(&self) -> Result<(), u64> {
        self.0.check(&())
    }
}

fn retry_secs(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HeaderName::from_static("x-forwarded-for"), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    #[test]
    fn ipv4_is_its_own_key_and_ipv6_is_keyed_by_its_64() {
        assert_eq!(client_key(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2::1")), client_key(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(client_key(ip("2001:db8:1:2::1")), client_key(ip("2001:db8:1:3::1")));
        // A dual-stack socket's view of an IPv4 client is that IPv4 client.
        assert_eq!(client_key(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/8", "fd00::/8"]);
        let headers = xff(&["198.51.100.9"]);
        // From the proxy: the address it forwarded.
        assert_eq!(trusted.client_ip(ip("10.1.2.3"), &headers), ip("198.51.100.9"));
        assert_eq!(trusted.client_ip(ip("fd00::1"), &headers), ip("198.51.100.9"));
        // From anyone else the header is the client's own word: ignored.
        assert_eq!(trusted.client_ip(ip("203.0.113.5"), &headers), ip("203.0.113.5"));
        assert_eq!(TrustedProxies::default().client_ip(ip("10.1.2.3"), &headers), ip("10.1.2.3"));
        // No header from the proxy: the proxy itself.
        assert_eq!(trusted.client_ip(ip("10.1.2.3"), &HeaderMap::new()), ip("10.1.2.3"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client wrote "1.1.1.1" itself; our proxy appended what it saw, then a second
        // trusted proxy appended the first.
        let headers = xff(&["1.1.1.1, 198.51.100.9, 10.0.0.2"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers), ip("198.51.100.9"));
        // The same over several header lines, with ports and brackets.
        let headers = xff(&["1.1.1.1", "[2001:db8::5]:443", "10.0.0.2:8080"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers), ip("2001:db8::5"));
        // Every hop trusted: the left-most.
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &xff(&["10.0.0.3, 10.0.0.2"])), ip("10.0.0.3"));
        // Garbage ends the walk at the last hop that can be vouched for.
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &xff(&["1.1.1.1, not-an-ip"])), ip("10.0.0.1"));
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &xff(&["not-an-ip, 10.0.0.7"])), ip("10.0.0.7"));
    }

    #[test]
    fn forwarded_proto_is_believed_only_from_a_trusted_proxy() {
        let trusted = proxies(&["127.0.0.1/32"]);
        let mut h = HeaderMap::new();
        h.insert(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static("https"));
        assert!(trusted.forwarded_https(Some(ip("127.0.0.1")), &h));
        assert!(!trusted.forwarded_https(Some(ip("192.0.2.1")), &h));
        assert!(!trusted.forwarded_https(None, &h));
        assert!(!trusted.forwarded_https(Some(ip("127.0.0.1")), &HeaderMap::new()));
    }

    #[test]
    fn buckets_refill_and_zero_is_unlimited() {
        let limit = KeyedLimit::per_minute(2);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        assert!(limit.check(&a).is_ok());
        assert!(limit.check(&a).is_ok());
        let retry = limit.check(&a).unwrap_err();
        assert!((1..=30).contains(&retry), "{retry}");
        assert!(limit.check(&b).is_ok(), "another client has its own bucket");
        assert_eq!(limit.tracked(), 2);
        let unlimited = KeyedLimit::per_minute(0);
        assert!((0..100).all(|_| unlimited.check(&a).is_ok()));
        let global = GlobalLimit::per_minute(1);
        assert!(global.check().is_ok());
        assert!(global.check().is_err());
    }
}

//! Per-client rate limiting of profile submissions. Submission is the one endpoint open to anyone,
//! so it is the one a script could flood; a token bucket per peer IP allows short bursts (up to the
//! per-minute budget) and a steady refill, and tells a refused client when to come back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before idle, full ones are dropped.
const MAX_TRACKED: usize = 10_000;

/// A token bucket per client IP.
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `n` requests per minute per client; 0 disables limiting.
    pub fn per_minute(n: u32) -> RateLimiter {
        RateLimiter { capacity: f64::from(n), per_second: f64::from(n) / 60.0, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `client` at `now`. `Err(seconds)` says when the next one will be there.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if self.capacity <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (cap, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, (tokens, at)| *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < cap);
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.capacity, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.per_second).min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bucket_refills() {
        let limiter = RateLimiter::per_minute(2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!(limiter.check(ip, t0).is_ok());
        assert!(limiter.check(ip, t0).is_ok());
        assert_eq!(limiter.check(ip, t0), Err(30));
        assert!(limiter.check(other, t0).is_ok());
        assert!(limiter.check(ip, t0 + Duration::from_secs(31)).is_ok());
        assert!(RateLimiter::per_minute(0).check(ip, t0).is_ok());
    }
}

//! In-process request metrics for Prometheus: request counts by method, route and status, latency
//! histograms by route, and the profile count. The app's outermost wrapper records every request
//! here, the API's `/metrics` renders it; labels come from closed sets (route patterns, a fixed list
//! of methods) so no client can grow the map.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// In-process request metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.requests.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        let h = inner.latency.entry(route.to_string()).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// The Prometheus text format, with the profile count when the store answered.
    pub fn render(&self, profiles: Option<usize>) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP pitchmatch_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE pitchmatch_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "pitchmatch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                esc(route)
            );
        }
        out.push_str("# HELP pitchmatch_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE pitchmatch_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let route = esc(route);
            for (le, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "pitchmatch_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "pitchmatch_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "pitchmatch_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "pitchmatch_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        if let Some(n) = profiles {
            out.push_str("# HELP pitchmatch_profiles Profiles in the store.\n# TYPE pitchmatch_profiles gauge\n");
            let _ = writeln!(out, "pitchmatch_profiles {n}");
        }
        out
    }
}

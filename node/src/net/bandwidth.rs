//! Real traffic counters for `stats bw`: libp2p's bandwidth transport wrapper counts every byte
//! read from and written to every connection's substreams; rates come from a moving window of
//! one-second samples.

use libp2p::metrics::Registry;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How far back the rate window reaches.
const WINDOW: Duration = Duration::from_secs(10);

/// Totals and rates, Kubo's `stats bw` fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Bandwidth {
    /// Bytes received since start.
    #[serde(rename = "TotalIn")]
    pub total_in: u64,
    /// Bytes sent since start.
    #[serde(rename = "TotalOut")]
    pub total_out: u64,
    /// Bytes per second received, over the last few seconds.
    #[serde(rename = "RateIn")]
    pub rate_in: f64,
    /// Bytes per second sent, over the last few seconds.
    #[serde(rename = "RateOut")]
    pub rate_out: f64,
}

struct Inner {
    registry: Registry,
    samples: VecDeque<(Instant, u64, u64)>,
}

/// The counters' registry plus the sample window. Cheap to clone.
#[derive(Clone)]
pub(crate) struct BandwidthMeter(Arc<Mutex<Inner>>);

impl BandwidthMeter {
    /// Wraps the registry the bandwidth transport registered its counters in.
    pub(crate) fn new(registry: Registry) -> Self {
        BandwidthMeter(Arc::new(Mutex::new(Inner {
            registry,
            samples: VecDeque::new(),
        })))
    }

    /// Records a sample now (the event loop calls this once a second).
    pub(crate) fn sample(&self) {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (tin, tout) = totals(&inner.registry);
        let now = Instant::now();
        inner.samples.push_back((now, tin, tout));
        while inner
            .samples
            .front()
            .is_some_and(|(t, _, _)| now.duration_since(*t) > WINDOW)
        {
            inner.samples.pop_front();
        }
    }

    /// Current totals and windowed rates.
    pub(crate) fn read(&self) -> Bandwidth {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (total_in, total_out) = totals(&inner.registry);
        let now = Instant::now();
        let (rate_in, rate_out) = match inner.samples.front() {
            Some((t, i, o)) if now.duration_since(*t) >= Duration::from_millis(500) => {
                let secs = now.duration_since(*t).as_secs_f64();
                (
                    total_in.saturating_sub(*i) as f64 / secs,
                    total_out.saturating_sub(*o) as f64 / secs,
                )
            }
            _ => (0.0, 0.0),
        };
        Bandwidth {
            total_in,
            total_out,
            rate_in,
            rate_out,
        }
    }
}

/// Sums the `libp2p_bandwidth_bytes` counters by direction.
fn totals(registry: &Registry) -> (u64, u64) {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, registry).is_err() {
        return (0, 0);
    }
    parse_totals(&text)
}

/// Parses the text exposition: `libp2p_bandwidth_bytes_total{…direction="Inbound"} N`.
fn parse_totals(text: &str) -> (u64, u64) {
    let (mut tin, mut tout) = (0u64, 0u64);
    for line in text.lines() {
        if !line.starts_with("libp2p_bandwidth_bytes_total{") {
            continue;
        }
        let Some(n) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        if line.contains("direction=\"Inbound\"") {
            tin += n as u64;
        } else if line.contains("direction=\"Outbound\"") {
            tout += n as u64;
        }
    }
    (tin, tout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_by_direction() {
        let text = "# HELP x\n\
            libp2p_bandwidth_bytes_total{protocols=\"/ip4/tcp\",direction=\"Inbound\"} 100\n\
            libp2p_bandwidth_bytes_total{protocols=\"/ip4/tcp\",direction=\"Outbound\"} 7\n\
            libp2p_bandwidth_bytes_total{protocols=\"/ip4/udp/quic-v1\",direction=\"Inbound\"} 5\n\
            other_total 9\n";
        assert_eq!(parse_totals(text), (105, 7));
    }
}

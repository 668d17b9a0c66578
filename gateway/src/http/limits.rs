//! Per-request limits shared by both listeners:
//! - [`RequestLimits`]: a cap on requests in flight, in all and per client address, answered
//!   429 beyond it. A request counts until its response body has been sent (a long download
//!   holds its slot), so one client cannot take every slot.
//! - [`TimedBody`]: a request body must keep arriving — no gap longer than
//!   [`BodyTimeouts::idle`], and at least [`BodyTimeouts::min_rate`] bytes/s over every
//!   [`BodyTimeouts::window`] — or the read fails, so a slow client cannot hold a connection,
//!   a staging file or a worker forever.

use super::ConnInfo;
use super::serve::canonical_ip;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Builds an error response in the listener's own format (WANDA's envelope, Kubo's error).
pub type Refusal = fn(StatusCode, &'static str, String) -> Response;

/// Caps on requests in flight.
pub struct RequestLimits {
    all: Arc<Semaphore>,
    max_all: usize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    max_per_client: usize,
    /// Paths that are not counted (they have limits of their own, e.g. long-lived streams).
    exempt: fn(&str) -> bool,
    refuse: Refusal,
}

/// Holds a request's slots until dropped.
struct Slots {
    _all: OwnedSemaphorePermit,
    client: Option<(Arc<RequestLimits>, IpAddr)>,
}

impl Drop for Slots {
    fn drop(&mut self) {
        if let Some((limits, ip)) = self.client.take() {
            let mut map = limits.per_client.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = map.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
    }
}

impl RequestLimits {
    /// At most `max_all` requests in flight, `max_per_client` from one address; paths for
    /// which `exempt` is true are not counted; refusals are built by `refuse`.
    pub fn new(
        max_all: usize,
        max_per_client: usize,
        exempt: fn(&str) -> bool,
        refuse: Refusal,
    ) -> Arc<Self> {
        Arc::new(RequestLimits {
            all: Arc::new(Semaphore::new(max_all)),
            max_all,
            per_client: Mutex::new(HashMap::new()),
            max_per_client,
            exempt,
            refuse,
        })
    }

    fn take(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Slots, String> {
        let all = self.all.clone().try_acquire_owned().map_err(|_| {
            format!(
                "the telescope is answering {} requests already; try again in a moment",
                self.max_all
            )
        })?;
        let client = match ip {
            Some(ip) => {
                let mut map = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
                let n = map.entry(ip).or_insert(0);
                if *n >= self.max_per_client {
                    return Err(format!(
                        "too many requests at once from {ip} (at most {}); try again when some finish",
                        self.max_per_client
                    ));
                }
                *n += 1;
                Some((self.clone(), ip))
            }
            None => None,
        };
        Ok(Slots { _all: all, client })
    }
}

/// The middleware: counts the request (until its response body ends) or answers 429.
pub async fn limit_requests(
    State(limits): State<Arc<RequestLimits>>,
    req: Request,
    next: Next,
) -> Response {
    if (limits.exempt)(req.uri().path()) {
        return next.run(req).await;
    }
    let ip = req
        .extensions()
        .get::<ConnInfo>()
        .map(|c| canonical_ip(c.peer.ip()));
    let slots = match limits.take(ip) {
        Ok(s) => s,
        Err(why) => {
            let mut resp = (limits.refuse)(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", why);
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return resp;
        }
    };
    let resp = next.run(req).await;
    resp.map(|body| {
        Body::new(Guarded {
            inner: body,
            _guard: slots,
        })
    })
}

/// A body that holds `G` until it is dropped.
pub struct Guarded<G> {
    inner: Body,
    _guard: G,
}

impl<G: Send + Unpin + 'static> HttpBody for Guarded<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// How slowly a request body may arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeouts {
    /// Longest gap between two pieces of the body.
    pub idle: Duration,
    /// Bytes per second the body must average over each `window`.
    pub min_rate: u64,
    /// The window `min_rate` is measured over.
    pub window: Duration,
}

impl Default for BodyTimeouts {
    fn default() -> Self {
        BodyTimeouts {
            idle: Duration::from_secs(30),
            min_rate: 1024,
            window: Duration::from_secs(60),
        }
    }
}

/// A request body under [`BodyTimeouts`]. Only time spent waiting for the client counts:
/// while the reader is busy elsewhere (back-pressure), the clock stops.
pub struct TimedBody {
    inner: Body,
    limits: BodyTimeouts,
    timer: Pin<Box<Sleep>>,
    /// Since when the reader has been waiting for the next piece (`None`: not waiting).
    waiting_since: Option<Instant>,
    /// Time spent waiting in the current rate window, before `waiting_since`.
    waited: Duration,
    /// Bytes received in the current rate window.
    window_bytes: u64,
}

fn timed_out(why: String) -> axum::Error {
    axum::Error::new(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
}

impl TimedBody {
    /// Wraps `inner`.
    pub fn new(inner: Body, limits: BodyTimeouts) -> Self {
        TimedBody {
            inner,
            limits,
            timer: Box::pin(tokio::time::sleep(limits.idle)),
            waiting_since: None,
            waited: Duration::ZERO,
            window_bytes: 0,
        }
    }

    /// Adds the wait that ended at `now` to the window; checks the idle gap and, when the
    /// window is complete, the rate (then starts a new window).
    fn account(&mut self, now: Instant) -> Result<(), String> {
        let Some(since) = self.waiting_since else {
            return Ok(());
        };
        let gap = now.saturating_duration_since(since);
        if gap >= self.limits.idle {
            return Err(format!(
                "the request body stalled: nothing arrived for {} s",
                self.limits.idle.as_secs()
            ));
        }
        self.waited += gap;
        self.waiting_since = Some(now);
        if self.waited >= self.limits.window {
            let need = self.limits.min_rate * self.waited.as_secs();
            if self.window_bytes < need {
                return Err(format!(
                    "the request body arrived too slowly: {} bytes in {} s (at least {} bytes/s are needed)",
                    self.window_bytes,
                    self.waited.as_secs(),
                    self.limits.min_rate
                ));
            }
            self.waited = Duration::ZERO;
            self.window_bytes = 0;
        }
        Ok(())
    }

    /// When the current wait must be looked at again.
    fn deadline(&self, since: Instant) -> Instant {
        since
            + self
                .limits
                .idle
                .min(self.limits.window.saturating_sub(self.waited))
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.waiting_since.is_none() {
            let now = Instant::now();
            this.waiting_since = Some(now);
            let deadline = this.deadline(now);
            this.timer.as_mut().reset(deadline);
        }
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                    this.window_bytes += len;
                    let result = this.account(Instant::now());
                    this.waiting_since = None;
                    return Poll::Ready(Some(result.map(|()| frame).map_err(timed_out)));
                }
                other @ Poll::Ready(_) => {
                    this.waiting_since = None;
                    return other;
                }
                Poll::Pending => {}
            }
            match this.timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    let now = Instant::now();
                    if let Err(why) = this.account(now) {
                        return Poll::Ready(Some(Err(timed_out(why))));
                    }
                    let deadline = this.deadline(now);
                    this.timer.as_mut().reset(deadline);
                    // poll the body again so both wakers are registered
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The middleware: every request body becomes a [`TimedBody`].
pub async fn time_bodies(State(limits): State<BodyTimeouts>, req: Request, next: Next) -> Response {
    next.run(req.map(|b| Body::new(TimedBody::new(b, limits))))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http_body_util::BodyExt;

    fn limits() -> BodyTimeouts {
        BodyTimeouts {
            idle: Duration::from_secs(5),
            min_rate: 100,
            window: Duration::from_secs(10),
        }
    }

    /// A body that sends `chunk` bytes every `every`, `n` times.
    fn trickle(chunk: usize, every: Duration, n: usize) -> Body {
        let s = futures::stream::iter(0..n).then(move |_| async move {
            tokio::time::sleep(every).await;
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; chunk]))
        });
        Body::from_stream(s)
    }

    async fn read(body: Body) -> Result<usize, String> {
        let mut b = TimedBody::new(body, limits());
        let mut n = 0;
        while let Some(frame) = b.frame().await {
            match frame {
                Ok(f) => n += f.data_ref().map_or(0, |d| d.len()),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_body_passes() {
        assert_eq!(
            read(trickle(200, Duration::from_secs(1), 30)).await,
            Ok(6000)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_idle_limit() {
        let started = Instant::now();
        let e = read(trickle(10_000, Duration::from_secs(60), 2))
            .await
            .unwrap_err();
        assert!(e.contains("stalled"), "{e}");
        assert_eq!(started.elapsed().as_secs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_below_the_rate_fails_after_one_window() {
        // 50 bytes/s: never idle for 5 s, but half the rate
        let started = Instant::now();
        let e = read(trickle(50, Duration::from_secs(1), 100))
            .await
            .unwrap_err();
        assert!(e.contains("too slowly"), "{e}");
        assert!((10..=11).contains(&started.elapsed().as_secs()));
    }

    #[tokio::test]
    async fn requests_beyond_the_caps_are_refused_until_slots_free() {
        fn refuse(s: StatusCode, _: &'static str, m: String) -> Response {
            (s, m).into_response()
        }
        use axum::response::IntoResponse;
        let l = RequestLimits::new(3, 2, |_| false, refuse);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = l.take(Some(a)).unwrap();
        let _a2 = l.take(Some(a)).unwrap();
        assert!(l.take(Some(a)).err().unwrap().contains("10.0.0.1"));
        let _b1 = l.take(Some(b)).unwrap();
        assert!(l.take(Some(b)).err().unwrap().contains("3 requests"));
        drop(a1);
        assert!(l.take(Some(a)).is_ok());
    }
}

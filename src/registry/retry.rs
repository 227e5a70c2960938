//! When and how long to wait before repeating a request: throttling (429), timeouts (408),
//! server errors (5xx, as the Go client; 501 and 505 say the request can never work) and broken
//! connections, honouring `Retry-After`, with
//! exponential backoff and jitter, a bounded number of attempts and a bounded total wait.

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::RegistryError;

/// Attempts per request, the first included.
pub const MAX_ATTEMPTS: u32 = 5;
const BASE_DELAY: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(3);
/// A `Retry-After` longer than this is not waited for: the request fails instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[must_use]
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || ((500..600).contains(&status) && !matches!(status, 501 | 505))
}

/// Whether an error is worth a new attempt: a retryable status, or a connection that failed or
/// broke (not a TLS or protocol problem, which would fail the same way again).
#[must_use]
pub fn is_retryable(error: &RegistryError) -> bool {
    match error {
        RegistryError::Status { status, .. } => is_retryable_status(*status),
        RegistryError::Stalled(_) | RegistryError::ContentRead(_) => true,
        RegistryError::Transport { source, .. } => {
            let text = chain_text(source);
            // The same again on every attempt: a TLS failure (a plain-HTTP server answering a
            // handshake shows as a corrupt message), or nothing listening (the Go client does
            // not retry that either).
            let tls = [
                "certificate",
                "tls",
                "alert",
                "corrupt message",
                "handshake",
                "connection refused",
            ]
            .iter()
            .any(|t| text.contains(t));
            // A body cut short surfaces as a decode error wrapping hyper's incomplete body.
            let cut = source.is_decode()
                && [
                    "end of file",
                    "incomplete",
                    "connection reset",
                    "unexpected eof",
                ]
                .iter()
                .any(|t| text.contains(t));
            !tls && (source.is_connect()
                || source.is_timeout()
                || source.is_request()
                || source.is_body()
                || cut)
        }
        _ => false,
    }
}

/// Whether a caller that repeats a whole exchange (an upload, a manifest read) should do so for
/// this error: a retryable failure of a request the client could not repeat itself (one with a
/// streamed body), or a body cut short. Requests the client already repeated (connection
/// failures, statuses of requests without a streamed body) are not repeated again: that would
/// multiply the attempts.
#[must_use]
pub fn is_retryable_exchange(error: &RegistryError) -> bool {
    match error {
        RegistryError::Status { method, status, .. } => {
            matches!(method.as_str(), "PUT" | "PATCH") && is_retryable_status(*status)
        }
        RegistryError::Transport { source, .. } => is_retryable(error) && !source.is_connect(),
        RegistryError::Stalled(_) | RegistryError::ContentRead(_) => true,
        _ => false,
    }
}

/// Every cause's message, lower-cased.
fn chain_text(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cur {
        out.push_str(&c.to_string().to_lowercase());
        out.push('\n');
        cur = c.source();
    }
    out
}

/// The `Retry-After` of a response, in seconds (HTTP dates are treated as absent).
#[must_use]
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// How long to wait before attempt `attempt + 1` (`attempt` starts at 1), or `None` to give up.
#[must_use]
pub fn delay(attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    if let Some(wait) = retry_after {
        return (wait <= MAX_RETRY_AFTER).then_some(wait);
    }
    let backoff = BASE_DELAY
        .saturating_mul(1 << (attempt - 1).min(10))
        .min(MAX_BACKOFF);
    // Full jitter over the upper half, so that parallel clients spread out.
    let half = backoff / 2;
    let jitter = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % (u64::try_from(half.as_millis()).unwrap_or(1).max(1));
    Some(half + Duration::from_millis(jitter))
}

/// Tells the user what is being retried (stderr).
#[allow(clippy::print_stderr)]
pub fn report(what: &str, why: &str, wait: Duration, attempt: u32) {
    eprintln!(
        "Warning: {what}: {why}; retrying in {} (attempt {} of {MAX_ATTEMPTS})",
        humanize(wait),
        attempt + 1
    );
}

/// Tells the user that a download cut off mid-blob continues from the bytes it already has
/// (stderr).
#[allow(clippy::print_stderr)]
pub fn report_resume(received: u64, size: u64, why: &str, wait: Duration, attempt: u32, most: u32) {
    eprintln!(
        "Warning: the download stopped after {received} of {size} bytes ({why}); resuming from there in {} (attempt {attempt} of {most})",
        humanize(wait)
    );
}

fn humanize(d: Duration) -> String {
    if d.as_millis() >= 1000 && d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop() {
        for attempt in 1..MAX_ATTEMPTS {
            let d = delay(attempt, None).unwrap();
            let cap = BASE_DELAY
                .saturating_mul(1 << (attempt - 1))
                .min(MAX_BACKOFF);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
        assert_eq!(delay(MAX_ATTEMPTS, None), None);
        assert_eq!(
            delay(1, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(delay(1, Some(Duration::from_secs(3600))), None);
    }

    #[test]
    fn statuses() {
        // Cloudflare's 520–524 and other 5xx are as passing as a 503.
        for s in [408, 429, 500, 502, 503, 504, 507, 520, 522, 524, 599] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 501, 505, 600] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn parses_retry_after_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}

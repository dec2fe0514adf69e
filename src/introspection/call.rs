//! The introspection call: one form POST, bounded in time and size, and how its failures are
//! answered (RFC 7662 §2.1, §2.3).

use super::client_auth::FormRequest;
use crate::error::{AuthError, ErrorCode};
use crate::fetch::{self, BoxFuture, FetchError, HttpFetcher};
use std::time::Duration;

/// When a client may retry after the endpoint failed. 1 s.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Something that can POST a form; the HTTP client in production.
pub trait Poster: Send + Sync + 'static {
    /// POSTs `request` to `url`, giving up after `timeout`; the body of a 200 answer (at most
    /// [`fetch::MAX_BODY_BYTES`]) or why there is none. Redirects are not followed.
    fn post_form<'a>(
        &'a self,
        url: &'a str,
        request: &'a FormRequest,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Vec<u8>, FetchError>>;
}

async fn post_bounded(url: &str, request: &FormRequest) -> Result<Vec<u8>, FetchError> {
    let mut builder = fetch::client()?
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(authorization) = &request.authorization {
        builder = builder.header("authorization", authorization);
    }
    let response =
        builder.body(request.body.clone()).send().await.map_err(|e| FetchError::Unreachable(fetch::without_url(&e)))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(FetchError::Status(status));
    }
    fetch::read_bounded(response).await
}

impl Poster for HttpFetcher {
    fn post_form<'a>(
        &'a self,
        url: &'a str,
        request: &'a FormRequest,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(async move {
            tokio::time::timeout(timeout, post_bounded(url, request)).await.unwrap_or(Err(FetchError::TimedOut))
        })
    }
}

/// How a failed call is answered: 400, 401 and 403 mean this server's credentials or request are
/// wrong (500, `introspection_refused`), as do other non-transient statuses such as 404 or a
/// redirect; an outage, a timeout, 5xx, 408, 429 or a body over the limit is 503 with
/// `Retry-After`. The reason names the endpoint and the status, nothing of the answer.
pub fn failure(e: &FetchError, url: &str) -> AuthError {
    let reason = format!("The introspection call failed: {}", e.describe(url));
    match e {
        FetchError::Status(_) if !e.is_transient() => AuthError::with_reason(ErrorCode::IntrospectionRefused, reason),
        _ => AuthError::unavailable(reason, RETRY_AFTER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_refused_request_is_a_500_and_outages_are_503() {
        for status in [400, 401, 403, 404, 302] {
            let e = failure(&FetchError::Status(status), "https://as/i");
            assert_eq!((e.code, e.retry_after), (ErrorCode::IntrospectionRefused, None), "{status}");
        }
        for e in [
            FetchError::Status(500),
            FetchError::Status(503),
            FetchError::Status(429),
            FetchError::TimedOut,
            FetchError::TooLarge,
            FetchError::Unreachable("reset".into()),
        ] {
            let got = failure(&e, "https://as/i");
            assert_eq!((got.code, got.retry_after), (ErrorCode::TemporarilyUnavailable, Some(RETRY_AFTER)), "{e:?}");
        }
    }

    #[test]
    fn the_reason_names_the_status_only() {
        let e = failure(&FetchError::Status(401), "https://as/i");
        assert_eq!(e.reason(), Some("The introspection call failed: https://as/i answered HTTP 401."));
    }
}

//! Fetching JWK Sets and metadata documents over HTTP, bounded in time and size.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

/// The largest JWKS or metadata body accepted. 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No connection, a reset, or a TLS failure.
    Unreachable(String),
    /// No complete answer within the timeout.
    TimedOut,
    /// An answer with a status other than 200 (redirects are not followed).
    Status(u16),
    /// A body over [`MAX_BODY_BYTES`].
    TooLarge,
}

impl FetchError {
    /// A sentence for error details.
    pub fn describe(&self, url: &str) -> String {
        match self {
            FetchError::Unreachable(why) => format!("{url} could not be reached: {why}"),
            FetchError::TimedOut => format!("{url} did not answer in time."),
            FetchError::Status(code) => format!("{url} answered HTTP {code}."),
            FetchError::TooLarge => format!("{url} answered with more than {MAX_BODY_BYTES} bytes."),
        }
    }

    /// Whether a later attempt may succeed (as opposed to a configuration problem).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status(code) => *code >= 500 || *code == 429 || *code == 408,
            _ => true,
        }
    }
}

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that can GET a URL; the HTTP client in production, a fake in core tests.
pub trait Fetcher: Send + Sync + 'static {
    /// Fetches `url`, giving up after `timeout`.
    fn get<'a>(&'a self, url: &'a str, timeout: Duration) -> BoxFuture<'a, Result<Vec<u8>, FetchError>>;
}

/// The reqwest client: no redirects, no cookies, rustls.
#[derive(Debug, Default)]
pub struct HttpFetcher;

/// The shared HTTP client: no redirects, no cookies, rustls.
pub(crate) fn client() -> Result<&'static reqwest::Client, FetchError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("mcp-auth-native/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| FetchError::Unreachable(format!("HTTP client unavailable: {e}")))
}

async fn get_bounded(url: &str) -> Result<Vec<u8>, FetchError> {
    let response = client()?
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| FetchError::Unreachable(without_url(&e)))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(FetchError::Status(status));
    }
    read_bounded(response).await
}

/// Reads a response body of at most [`MAX_BODY_BYTES`].
pub(crate) async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
    if response.content_length().is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Unreachable(without_url(&e)))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error's message without the URL it names.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

impl Fetcher for HttpFetcher {
    fn get<'a>(&'a self, url: &'a str, timeout: Duration) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(
            async move { tokio::time::timeout(timeout, get_bounded(url)).await.unwrap_or(Err(FetchError::TimedOut)) },
        )
    }
}

/// An in-memory stand-in for HTTP in core tests: answers per URL and counts requests.
#[cfg(test)]
pub(crate) mod fake {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub(crate) struct FakeHttp {
        answers: Mutex<HashMap<String, Result<Vec<u8>, FetchError>>>,
        calls: Mutex<HashMap<String, usize>>,
    }

    impl FakeHttp {
        pub(crate) fn answer(&self, url: &str, answer: Result<Vec<u8>, FetchError>) {
            self.answers.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_owned(), answer);
        }
        pub(crate) fn calls(&self, url: &str) -> usize {
            self.calls.lock().unwrap_or_else(|p| p.into_inner()).get(url).copied().unwrap_or(0)
        }
        pub(crate) fn total_calls(&self) -> usize {
            self.calls.lock().unwrap_or_else(|p| p.into_inner()).values().sum()
        }
    }

    impl Fetcher for FakeHttp {
        fn get<'a>(&'a self, url: &'a str, _: Duration) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
            *self.calls.lock().unwrap_or_else(|p| p.into_inner()).entry(url.to_owned()).or_default() += 1;
            let answer = self.answers.lock().unwrap_or_else(|p| p.into_inner()).get(url).cloned();
            Box::pin(async move { answer.unwrap_or(Err(FetchError::Status(404))) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Serves one canned HTTP response per connection on 127.0.0.1.
    async fn serve(response: Vec<u8>, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    tokio::time::sleep(delay).await;
                    let _ = socket.write_all(&response).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        format!("http://{addr}/jwks")
    }

    fn http(status: &str, body: &[u8]) -> Vec<u8> {
        let mut r =
            format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()).into_bytes();
        r.extend_from_slice(body);
        r
    }

    #[tokio::test]
    async fn returns_the_body_of_a_200() {
        let url = serve(http("200 OK", b"{\"keys\":[]}"), Duration::ZERO).await;
        assert_eq!(HttpFetcher.get(&url, Duration::from_secs(5)).await, Ok(b"{\"keys\":[]}".to_vec()));
    }

    #[tokio::test]
    async fn other_statuses_and_redirects_are_errors() {
        let url = serve(http("503 Service Unavailable", b""), Duration::ZERO).await;
        assert_eq!(HttpFetcher.get(&url, Duration::from_secs(5)).await, Err(FetchError::Status(503)));
        let redirect = b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.2/\r\ncontent-length: 0\r\n\r\n".to_vec();
        let url = serve(redirect, Duration::ZERO).await;
        assert_eq!(HttpFetcher.get(&url, Duration::from_secs(5)).await, Err(FetchError::Status(302)));
    }

    #[tokio::test]
    async fn slow_servers_time_out() {
        let url = serve(http("200 OK", b"{}"), Duration::from_secs(3)).await;
        let started = std::time::Instant::now();
        assert_eq!(HttpFetcher.get(&url, Duration::from_millis(200)).await, Err(FetchError::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let url = serve(http("200 OK", &big), Duration::ZERO).await;
        assert_eq!(HttpFetcher.get(&url, Duration::from_secs(5)).await, Err(FetchError::TooLarge));
        let chunked = format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            MAX_BODY_BYTES + 1,
            " ".repeat(MAX_BODY_BYTES + 1)
        );
        let url = serve(chunked.into_bytes(), Duration::ZERO).await;
        assert_eq!(HttpFetcher.get(&url, Duration::from_secs(5)).await, Err(FetchError::TooLarge));
    }

    #[tokio::test]
    async fn refused_connections_are_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let got = HttpFetcher.get(&format!("http://{addr}/"), Duration::from_secs(5)).await;
        assert!(matches!(got, Err(FetchError::Unreachable(_))), "{got:?}");
    }
}

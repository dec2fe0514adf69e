//! Introspection (RFC 7662) against a real HTTP endpoint on 127.0.0.1 that counts its calls:
//! single flight, the cache and its bounds, failure answers and recovery, and the composition
//! with the guard's issuer, audience and scope checks. Time is a manual clock, so the cache ages
//! are exact and nothing sleeps.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mcp_auth_native::clock::{Clock, ManualClock};
use mcp_auth_native::config::AuthConfig;
use mcp_auth_native::error::{AuthError, ErrorCode};
use mcp_auth_native::fetch::{HttpFetcher, MAX_BODY_BYTES};
use mcp_auth_native::guard::Guard;
use mcp_auth_native::introspection::{Introspected, Introspector};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ISSUER: &str = "https://as.example.com";
const RESOURCE: &str = "https://api.example.com/mcp";
const NOW: f64 = 1_700_000_000.0;

/// One request the endpoint received.
#[derive(Debug, Clone)]
struct Request {
    head: String,
    headers: HashMap<String, String>,
    form: HashMap<String, String>,
}

/// What the endpoint answers.
struct Reply {
    status: u16,
    body: Vec<u8>,
    delay: Duration,
}

fn json_reply(v: Value) -> Reply {
    Reply { status: 200, body: v.to_string().into_bytes(), delay: Duration::ZERO }
}

type Handler = Box<dyn Fn(&Request) -> Reply + Send + Sync>;

/// An HTTP/1.1 server on 127.0.0.1 answering with the current handler and counting requests.
struct Endpoint {
    base: String,
    calls: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Request>>>,
    handler: Arc<Mutex<Handler>>,
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + len {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = &buf[head_end..(head_end + len).min(buf.len())];
    let form = url::form_urlencoded::parse(body).into_owned().collect();
    Some(Request { head: first, headers, form })
}

impl Endpoint {
    async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Mutex<Handler>> = Arc::new(Mutex::new(Box::new(handler)));
        let (c, r, h) = (calls.clone(), requests.clone(), handler.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (c, r, h) = (c.clone(), r.clone(), h.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else { return };
                    c.fetch_add(1, Ordering::SeqCst);
                    let reply = (h.lock().unwrap())(&request);
                    r.lock().unwrap().push(request);
                    tokio::time::sleep(reply.delay).await;
                    let head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&reply.body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Endpoint { base, calls, requests, handler }
    }

    fn url(&self) -> String {
        format!("{}/introspect", self.base)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last(&self) -> Request {
        self.requests.lock().unwrap().last().cloned().unwrap()
    }

    fn answer(&self, handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        *self.handler.lock().unwrap() = Box::new(handler);
    }
}

/// An active answer for every token, in the shape oidc-provider gives for client credentials.
fn active(extra: Value) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |_| {
        let mut v = json!({
            "active": true, "iss": ISSUER, "client_id": "mcp-client", "aud": RESOURCE,
            "scope": "read write", "exp": NOW + 3600.0, "iat": NOW, "token_type": "Bearer"
        });
        if let (Some(m), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            m.extend(extra.clone());
        }
        json_reply(v)
    }
}

struct Setup {
    introspector: Arc<Introspector>,
    guard: Guard,
    clock: Arc<ManualClock>,
}

fn config_value() -> Value {
    json!({ "protectedResources": { "metadata": {
        "resource": RESOURCE,
        "authorizationServers": [{ "type": "oauth", "metadata": { "issuer": ISSUER } }]
    }}})
}

fn setup_with(config: Value, options: Value) -> Setup {
    let config = AuthConfig::parse(&config).unwrap();
    let mut options = options;
    options["resource"] = json!(RESOURCE);
    let clock = Arc::new(ManualClock::new(NOW));
    let http = Arc::new(HttpFetcher);
    let (options, introspector) =
        Introspector::configure(&config, Some(&options), http.clone(), http.clone(), clock.clone()).unwrap();
    let guard = Guard::new(&config, options, false, http, clock.clone()).unwrap();
    Setup { introspector: Arc::new(introspector), guard, clock }
}

fn setup(endpoint: &Endpoint, introspection: Value, extra: Value) -> Setup {
    let mut i = json!({ "endpoint": endpoint.url(), "clientId": "rs:1", "clientSecret": "s@cret pw" });
    if let (Some(m), Some(more)) = (i.as_object_mut(), introspection.as_object()) {
        m.extend(more.clone());
    }
    let mut options = extra;
    options["introspection"] = i;
    setup_with(config_value(), options)
}

fn code(r: &Result<Introspected, AuthError>) -> Option<ErrorCode> {
    r.as_ref().err().map(|e| e.code)
}

#[tokio::test]
async fn an_active_answer_becomes_auth_info_and_passes_the_guard() {
    let endpoint = Endpoint::start(active(json!({ "sub": "u1", "username": "ann" }))).await;
    let s = setup(&endpoint, json!({}), json!({ "requiredScopes": ["read"] }));
    let got = s.introspector.introspect("opaque-token.with+special/chars=").await.unwrap();
    let info = &got.info;
    assert_eq!(info.token, "opaque-token.with+special/chars=");
    assert_eq!((info.issuer.as_str(), info.client_id.as_str()), (ISSUER, "mcp-client"));
    assert_eq!(
        (info.scopes.clone(), info.subject.as_deref()),
        (vec!["read".to_owned(), "write".to_owned()], Some("u1"))
    );
    assert_eq!(info.expires_at, Some(NOW + 3600.0));
    assert_eq!(info.claims.as_ref().and_then(|c| c.get("username")), Some(&json!("ann")));
    assert!(got.called);
    assert_eq!(got.until, NOW + 60.0, "the default cacheMaxAge of 60 s, before exp");
    assert_eq!(s.guard.authorize(info), Ok(()));

    let request = endpoint.last();
    assert_eq!(request.head, "POST /introspect HTTP/1.1");
    assert_eq!(request.headers.get("content-type").map(String::as_str), Some("application/x-www-form-urlencoded"));
    assert_eq!(request.headers.get("accept").map(String::as_str), Some("application/json"));
    let basic = request.headers.get("authorization").and_then(|h| h.strip_prefix("Basic ")).unwrap();
    assert_eq!(String::from_utf8(STANDARD.decode(basic).unwrap()).unwrap(), "rs%3A1:s%40cret+pw");
    let mut form: Vec<_> = request.form.into_iter().collect();
    form.sort();
    assert_eq!(
        form,
        [
            ("token".to_owned(), "opaque-token.with+special/chars=".to_owned()),
            ("token_type_hint".to_owned(), "access_token".to_owned())
        ]
    );
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_body_only() {
    let endpoint = Endpoint::start(active(json!({}))).await;
    let s = setup(&endpoint, json!({ "authMethod": "client_secret_post" }), json!({}));
    s.introspector.introspect("t").await.unwrap();
    let request = endpoint.last();
    assert_eq!(request.headers.get("authorization"), None);
    assert_eq!(request.form.get("client_id").map(String::as_str), Some("rs:1"));
    assert_eq!(request.form.get("client_secret").map(String::as_str), Some("s@cret pw"));
    assert_eq!(request.form.get("token").map(String::as_str), Some("t"));
}

#[tokio::test]
async fn the_answer_flows_into_the_guards_audience_and_scope_checks() {
    let endpoint = Endpoint::start(active(json!({ "aud": "https://other.example.com" }))).await;
    let s = setup(&endpoint, json!({}), json!({}));
    let info = s.introspector.introspect("t").await.unwrap().info;
    let e = s.guard.authorize(&info).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidAudience);
    assert_eq!(s.guard.reject(&e).status, 401);

    let endpoint = Endpoint::start(active(json!({ "scope": "read" }))).await;
    let s = setup(&endpoint, json!({}), json!({ "requiredScopes": ["read", "admin"] }));
    let info = s.introspector.introspect("t").await.unwrap().info;
    let r = s.guard.reject(&s.guard.authorize(&info).unwrap_err());
    assert_eq!(r.status, 403);
    let challenge = r.www_authenticate.unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"read admin\""),
        "{challenge}"
    );
    assert_eq!(serde_json::from_str::<Value>(&r.body).unwrap()["missing_scopes"], json!(["admin"]));
}

#[tokio::test]
async fn concurrent_requests_with_one_token_make_one_call() {
    let endpoint =
        Endpoint::start(|r: &Request| Reply { delay: Duration::from_millis(200), ..active(json!({}))(r) }).await;
    let s = setup(&endpoint, json!({}), json!({}));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let i = s.introspector.clone();
            tokio::spawn(async move { i.introspect("same-token").await })
        })
        .collect();
    let mut called = 0;
    for t in tasks {
        let got = t.await.unwrap().unwrap();
        assert_eq!(got.info.token, "same-token");
        called += usize::from(got.called);
    }
    assert_eq!((endpoint.calls(), called), (1, 1));
    let tasks: Vec<_> = (0..5)
        .map(|n| {
            let i = s.introspector.clone();
            tokio::spawn(async move { i.introspect(&format!("token-{n}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(endpoint.calls(), 6, "distinct tokens are not merged");
}

#[tokio::test]
async fn active_answers_are_reused_for_cache_max_age() {
    let endpoint = Endpoint::start(active(json!({}))).await;
    let s = setup(&endpoint, json!({ "cacheMaxAge": 30000 }), json!({}));
    assert_eq!(s.introspector.introspect("t").await.unwrap().until, NOW + 30.0);
    s.clock.advance(Duration::from_millis(29_900));
    let again = s.introspector.introspect("t").await.unwrap();
    assert_eq!((again.called, again.until, endpoint.calls()), (false, NOW + 30.0, 1));
    s.clock.advance(Duration::from_millis(100));
    let fresh = s.introspector.introspect("t").await.unwrap();
    assert_eq!((fresh.called, endpoint.calls()), (true, 2));
    assert_eq!(fresh.until, s.clock.unix_seconds() + 30.0);
}

#[tokio::test]
async fn active_answers_are_never_reused_past_exp() {
    let endpoint = Endpoint::start(active(json!({ "exp": NOW + 10.0 }))).await;
    let s = setup(&endpoint, json!({ "cacheMaxAge": 600000 }), json!({}));
    assert_eq!(s.introspector.introspect("t").await.unwrap().until, NOW + 10.0);
    s.clock.advance(Duration::from_secs(9));
    s.introspector.introspect("t").await.unwrap();
    assert_eq!(endpoint.calls(), 1);
    endpoint.answer(|_| json_reply(json!({ "active": false })));
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(code(&s.introspector.introspect("t").await), Some(ErrorCode::InvalidToken));
    assert_eq!(endpoint.calls(), 2);
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_the_latest_cache_max_age_later() {
    let endpoint = Endpoint::start(active(json!({}))).await;
    let s = setup(&endpoint, json!({ "cacheMaxAge": 2000 }), json!({}));
    s.introspector.introspect("t").await.unwrap();
    endpoint.answer(|_| json_reply(json!({ "active": false }))); // revoked at the provider
    s.clock.advance(Duration::from_millis(1999));
    assert!(s.introspector.introspect("t").await.is_ok(), "still the kept answer");
    s.clock.advance(Duration::from_millis(1));
    assert_eq!(code(&s.introspector.introspect("t").await), Some(ErrorCode::InvalidToken));
}

#[tokio::test]
async fn inactive_answers_are_reused_for_five_seconds_only() {
    let endpoint = Endpoint::start(|_: &Request| json_reply(json!({ "active": false }))).await;
    let s = setup(&endpoint, json!({}), json!({}));
    for _ in 0..20 {
        let r = s.introspector.introspect("junk").await;
        assert_eq!(code(&r), Some(ErrorCode::InvalidToken));
        let rejection = s.guard.reject(&r.unwrap_err());
        assert_eq!(rejection.status, 401);
        assert!(rejection.www_authenticate.unwrap().starts_with("Bearer error=\"invalid_token\""));
    }
    assert_eq!(endpoint.calls(), 1);
    s.clock.advance(Duration::from_millis(4999));
    s.introspector.introspect("junk").await.unwrap_err();
    assert_eq!(endpoint.calls(), 1);
    s.clock.advance(Duration::from_millis(1));
    s.introspector.introspect("junk").await.unwrap_err();
    assert_eq!(endpoint.calls(), 2);
}

#[tokio::test]
async fn a_cache_max_age_of_zero_keeps_nothing_but_still_shares_calls_in_flight() {
    let endpoint =
        Endpoint::start(|r: &Request| Reply { delay: Duration::from_millis(100), ..active(json!({}))(r) }).await;
    let s = setup(&endpoint, json!({ "cacheMaxAge": 0 }), json!({}));
    let (a, b) = tokio::join!(s.introspector.introspect("t"), s.introspector.introspect("t"));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(endpoint.calls(), 1);
    s.introspector.introspect("t").await.unwrap();
    assert_eq!((endpoint.calls(), s.introspector.cached()), (2, 0));
}

#[tokio::test]
async fn the_cache_is_bounded_and_evicts_the_least_recently_used() {
    let endpoint = Endpoint::start(active(json!({}))).await;
    let s = setup(&endpoint, json!({}), json!({}));
    let introspector = Arc::try_unwrap(s.introspector).ok().unwrap().with_cache_capacity(3);
    for t in ["a", "b", "c"] {
        introspector.introspect(t).await.unwrap();
    }
    introspector.introspect("a").await.unwrap(); // "b" is now the least recently used
    introspector.introspect("d").await.unwrap();
    assert_eq!((endpoint.calls(), introspector.cached()), (4, 3));
    for t in ["a", "c", "d"] {
        assert!(!introspector.introspect(t).await.unwrap().called, "{t} is kept");
    }
    assert!(introspector.introspect("b").await.unwrap().called, "b was evicted");
    assert_eq!(endpoint.calls(), 5);
}

fn assert_unavailable(r: &Result<Introspected, AuthError>, s: &Setup, what: &str) {
    let e = r.as_ref().err().unwrap_or_else(|| panic!("{what}: accepted"));
    assert_eq!(e.code, ErrorCode::TemporarilyUnavailable, "{what}");
    let rejection = s.guard.reject(e);
    assert_eq!(
        (rejection.status, rejection.retry_after, rejection.www_authenticate.as_deref()),
        (503, Some(1), None),
        "{what}"
    );
    assert_eq!(serde_json::from_str::<Value>(&rejection.body).unwrap()["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn server_errors_slow_huge_and_non_json_answers_are_503_with_retry_after() {
    let endpoint =
        Endpoint::start(|_: &Request| Reply { status: 500, body: b"{}".to_vec(), delay: Duration::ZERO }).await;
    let s = setup(&endpoint, json!({ "timeoutDuration": 300 }), json!({}));
    let cases: Vec<(&str, Handler)> = vec![
        ("500", Box::new(|_| Reply { status: 500, body: b"{}".to_vec(), delay: Duration::ZERO })),
        ("503", Box::new(|_| Reply { status: 503, body: Vec::new(), delay: Duration::ZERO })),
        ("429", Box::new(|_| Reply { status: 429, body: Vec::new(), delay: Duration::ZERO })),
        ("slow", Box::new(|r| Reply { delay: Duration::from_secs(3), ..active(json!({}))(r) })),
        ("huge", Box::new(|_| Reply { status: 200, body: vec![b' '; MAX_BODY_BYTES + 1], delay: Duration::ZERO })),
        (
            "html",
            Box::new(|_| Reply { status: 200, body: b"<html>Service down</html>".to_vec(), delay: Duration::ZERO }),
        ),
        ("array", Box::new(|_| json_reply(json!([{ "active": true }])))),
    ];
    for (what, handler) in cases {
        endpoint.answer(handler);
        let started = std::time::Instant::now();
        let r = s.introspector.introspect(&format!("token-{what}")).await;
        assert!(started.elapsed() < Duration::from_secs(2), "{what} took {:?}", started.elapsed());
        assert_unavailable(&r, &s, what);
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/introspect", closed.local_addr().unwrap());
    drop(closed);
    let s = setup_with(
        config_value(),
        json!({ "resource": RESOURCE, "introspection": { "endpoint": dead, "clientId": "rs", "clientSecret": "s" } }),
    );
    assert_unavailable(&s.introspector.introspect("t").await, &s, "unreachable");
}

#[tokio::test]
async fn refused_credentials_are_500_and_reflect_nothing_of_the_answer() {
    for status in [400u16, 401, 403] {
        let endpoint = Endpoint::start(move |_: &Request| Reply {
            status,
            body: br#"{"error":"invalid_client","error_description":"MARKER-from-the-endpoint"}"#.to_vec(),
            delay: Duration::ZERO,
        })
        .await;
        let s = setup(&endpoint, json!({}), json!({ "showErrorDetails": true }));
        let e = s.introspector.introspect("t").await.unwrap_err();
        assert_eq!(e.code, ErrorCode::IntrospectionRefused, "{status}");
        let r = s.guard.reject(&e);
        assert_eq!((r.status, r.www_authenticate, r.retry_after), (500, None, None), "{status}");
        assert!(!r.body.contains("MARKER") && !r.body.contains("invalid_client"), "{}", r.body);
        assert!(!r.body.contains("s@cret") && !r.body.contains(&STANDARD.encode("rs%3A1:s%40cret+pw")), "{}", r.body);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "server_error");
        assert_eq!(body["error_description"], ErrorCode::IntrospectionRefused.description());
        assert_eq!(
            body["cause"]["cause"],
            format!("The introspection call failed: {} answered HTTP {status}.", endpoint.url())
        );
    }
}

#[tokio::test]
async fn requests_succeed_again_when_the_endpoint_recovers() {
    let endpoint = Endpoint::start(|_: &Request| Reply { status: 502, body: Vec::new(), delay: Duration::ZERO }).await;
    let s = setup(&endpoint, json!({}), json!({}));
    assert_eq!(code(&s.introspector.introspect("t").await), Some(ErrorCode::TemporarilyUnavailable));
    assert_eq!(code(&s.introspector.introspect("t").await), Some(ErrorCode::TemporarilyUnavailable));
    assert_eq!(endpoint.calls(), 2, "failures are not kept");
    endpoint.answer(active(json!({})));
    let got = s.introspector.introspect("t").await.unwrap();
    assert_eq!((got.called, endpoint.calls()), (true, 3));
}

#[tokio::test]
async fn answers_that_fail_validation_are_401_and_kept_like_inactive_ones() {
    let endpoint = Endpoint::start(|_: &Request| json_reply(json!({}))).await;
    let s = setup(&endpoint, json!({}), json!({}));
    let cases = [
        ("string-true", json!({ "active": "true" }), ErrorCode::InvalidToken),
        ("expired", json!({ "active": true, "exp": NOW - 120.0 }), ErrorCode::InvalidToken),
        ("foreign-iss", json!({ "active": true, "iss": "https://evil.example.com" }), ErrorCode::InvalidIssuer),
        ("refresh", json!({ "active": true, "token_type": "refresh_token" }), ErrorCode::InvalidToken),
        ("nbf-string", json!({ "active": true, "nbf": "0" }), ErrorCode::InvalidToken),
    ];
    for (token, answer, expected) in cases {
        endpoint.answer(move |_| json_reply(answer.clone()));
        let before = endpoint.calls();
        for _ in 0..3 {
            let r = s.introspector.introspect(token).await;
            assert_eq!(code(&r), Some(expected), "{token}");
            assert_eq!(s.guard.reject(&r.unwrap_err()).status, 401, "{token}");
        }
        assert_eq!(endpoint.calls(), before + 1, "{token}");
    }
}

#[tokio::test]
async fn the_endpoint_is_discovered_once_from_the_issuer_metadata() {
    let metadata_calls = Arc::new(AtomicUsize::new(0));
    let base = Arc::new(Mutex::new(String::new()));
    let (m, b) = (metadata_calls.clone(), base.clone());
    let endpoint = Endpoint::start(move |r: &Request| {
        let base = b.lock().unwrap().clone();
        if r.head.starts_with("GET /.well-known/oauth-authorization-server ") {
            m.fetch_add(1, Ordering::SeqCst);
            json_reply(json!({ "issuer": base, "introspection_endpoint": format!("{base}/introspect") }))
        } else {
            json_reply(json!({ "active": true, "iss": base, "client_id": "c", "aud": RESOURCE }))
        }
    })
    .await;
    *base.lock().unwrap() = endpoint.base.clone();
    let config = json!({ "protectedResources": { "metadata": {
        "resource": RESOURCE, "authorizationServers": [{ "type": "oauth", "issuer": endpoint.base }]
    }}});
    let s =
        setup_with(config, json!({ "resource": RESOURCE, "introspection": { "clientId": "rs", "clientSecret": "s" } }));
    for t in ["a", "b", "c"] {
        let info = s.introspector.introspect(t).await.unwrap().info;
        assert_eq!(info.issuer, endpoint.base);
        assert_eq!(s.guard.authorize(&info), Ok(()));
    }
    assert_eq!((metadata_calls.load(Ordering::SeqCst), endpoint.calls()), (1, 4));
}

#[tokio::test]
async fn tokens_over_16_kib_are_refused_without_a_call() {
    let endpoint = Endpoint::start(active(json!({}))).await;
    let s = setup(&endpoint, json!({}), json!({}));
    let big = "a".repeat(16 * 1024 + 1);
    assert_eq!(code(&s.introspector.introspect(&big).await), Some(ErrorCode::InvalidToken));
    assert!(s.introspector.introspect(&big[1..]).await.is_ok(), "16 KiB exactly is handled");
    assert_eq!(endpoint.calls(), 1);
}

mod inspect {
    use super::*;
    use mcp_auth_native::inspect::{Inspection, Status};
    use mcp_auth_native::introspection::inspect::{inspect, IntrospectRequest};

    fn request(endpoint: &Endpoint, token: &str) -> IntrospectRequest {
        IntrospectRequest {
            token: token.into(),
            issuer: ISSUER.into(),
            endpoint: Some(endpoint.url()),
            client_id: "rs".into(),
            client_secret: "top-secret-value".into(),
            resource: Some(RESOURCE.into()),
            scopes: vec!["read".into()],
            ..IntrospectRequest::default()
        }
    }

    async fn run(req: &IntrospectRequest) -> Inspection {
        let http = Arc::new(HttpFetcher);
        inspect(req, http.clone(), http, Arc::new(ManualClock::new(NOW))).await.unwrap()
    }

    fn verdicts(i: &Inspection) -> Vec<(&'static str, Status)> {
        i.checks.iter().map(|c| (c.name, c.status)).collect()
    }

    fn assert_nothing_secret(i: &Inspection, token: &str) {
        let text = format!("{:?} {:?}", i.checks, i.claims);
        assert!(!text.contains(token) && !text.contains("top-secret-value"), "{text}");
    }

    #[tokio::test]
    async fn every_check_of_an_accepted_token_passes() {
        let endpoint = Endpoint::start(active(json!({}))).await;
        let i = run(&request(&endpoint, "opaque-abc")).await;
        use Status::Passed as P;
        assert_eq!(
            verdicts(&i),
            [
                ("endpoint", P),
                ("call", P),
                ("answer", P),
                ("active", P),
                ("exp", P),
                ("nbf", P),
                ("iat", P),
                ("issuer", P),
                ("token_type", P),
                ("claim types", P),
                ("audience", P),
                ("scopes", P)
            ]
        );
        assert!(i.accepted());
        let call = &i.checks[1].detail;
        assert!(call.starts_with("HTTP 200, ") && call.ends_with(" bytes; client_secret_basic as rs"), "{call}");
        assert_eq!(i.claims.get("client_id"), Some(&json!("mcp-client")));
        assert_eq!(endpoint.last().form.get("token").map(String::as_str), Some("opaque-abc"));
        assert_nothing_secret(&i, "opaque-abc");
    }

    #[tokio::test]
    async fn a_refused_call_is_named_and_the_rest_is_skipped() {
        let endpoint = Endpoint::start(|_: &Request| Reply {
            status: 401,
            body: br#"{"error":"invalid_client"}"#.to_vec(),
            delay: Duration::ZERO,
        })
        .await;
        let i = run(&request(&endpoint, "opaque-abc")).await;
        assert!(!i.accepted());
        assert_eq!(verdicts(&i)[..2], [("endpoint", Status::Passed), ("call", Status::Failed)]);
        assert!(i.checks[1].detail.ends_with("answered HTTP 401."), "{}", i.checks[1].detail);
        assert!(i.checks[2..].iter().all(|c| c.status == Status::Skipped));
        assert_nothing_secret(&i, "opaque-abc");
    }

    #[tokio::test]
    async fn each_failing_member_is_named() {
        let endpoint = Endpoint::start(active(json!({ "iss": "https://evil.example.com", "scope": "write" }))).await;
        let i = run(&request(&endpoint, "t")).await;
        let failed: Vec<_> = i.checks.iter().filter(|c| c.status == Status::Failed).map(|c| c.name).collect();
        assert_eq!(failed, ["issuer", "scopes"]);
        let issuer = i.checks.iter().find(|c| c.name == "issuer").unwrap();
        assert_eq!(issuer.detail, format!("expected \"{ISSUER}\", got \"https://evil.example.com\""));
    }

    #[tokio::test]
    async fn bad_arguments_are_reported_without_the_secret() {
        let endpoint = Endpoint::start(active(json!({}))).await;
        let mut req = request(&endpoint, "t");
        req.endpoint = Some("http://as.example.com/introspect".into());
        let http = Arc::new(HttpFetcher);
        let e = inspect(&req, http.clone(), http, Arc::new(ManualClock::new(NOW))).await.unwrap_err().to_string();
        assert!(e.contains("https") && !e.contains("top-secret-value"), "{e}");
        assert_eq!(endpoint.calls(), 0);
        assert!(!format!("{req:?}").contains("top-secret-value"));
    }
}

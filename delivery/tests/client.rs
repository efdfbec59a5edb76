//! End-to-end tests of `DeliveryClient` against a tiny HTTP/1.1 server on `127.0.0.1:0`.
//!
//! The server counts accepted connections and records each request before it answers, so a test can
//! tell from the counter or from the connection number it returns whether anything reached it,
//! without sleeping.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use moja_delivery::client::{
    ClientConfig, DEFAULT_RESPONSE_BODY_CAP, DeliveryClient, OutboundRequest, Outcome,
};
use moja_delivery::retry::{self, Verdict};
use moja_delivery::signing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How the test server answers every request.
#[derive(Clone)]
enum Reply {
    /// A response with this status line, these extra headers and this body; the server adds
    /// `content-length`, `connection: close` and `x-connection-number`.
    Respond {
        status: &'static str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then never answer and keep the connection open.
    Silent,
    /// Read the request, then close the connection without answering.
    Hangup,
}

/// A request as the server received it.
#[derive(Debug)]
struct Recorded {
    connection: usize,
    method: String,
    target: String,
    /// Names in lower case, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

struct TestServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    requests: mpsc::UnboundedReceiver<Recorded>,
}

impl TestServer {
    async fn spawn(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (sender, requests) = mpsc::unbounded_channel();
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let connection = counter.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(serve(stream, connection, reply.clone(), sender.clone()));
            }
        });
        Self {
            addr,
            accepted,
            requests,
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut stream: TcpStream,
    connection: usize,
    reply: Reply,
    sender: mpsc::UnboundedSender<Recorded>,
) {
    let Some(request) = read_request(&mut stream, connection).await else {
        return;
    };
    // The test may already have dropped its receiver; the request is simply not recorded then.
    let _ = sender.send(request);
    match reply {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\
                 x-connection-number: {connection}\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            // The client may stop reading early (body cap): write errors are expected then.
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
        Reply::Silent => {
            std::future::pending::<()>().await;
        }
        Reply::Hangup => drop(stream),
    }
}

async fn read_request(stream: &mut TcpStream, connection: usize) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(index) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break index;
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, value)| value.parse().unwrap_or(0));
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Recorded {
        connection,
        method,
        target,
        headers,
        body,
    })
}

fn ok_reply() -> Reply {
    Reply::Respond {
        status: "200 OK",
        headers: vec![("x-receiver".to_owned(), "test".to_owned())],
        body: b"ok".to_vec(),
    }
}

fn client(allow_private_targets: bool) -> DeliveryClient {
    DeliveryClient::new(ClientConfig {
        allow_private_targets,
        ..ClientConfig::default()
    })
    .unwrap()
}

fn get(url: impl Into<String>) -> OutboundRequest {
    OutboundRequest {
        method: "GET".to_owned(),
        url: url.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn header<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a str> {
    let Outcome::Response { headers, .. } = outcome else {
        return None;
    };
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Sends one request with private targets allowed and asserts it was the server's first connection,
/// which proves that nothing sent before it connected.
async fn assert_first_connection(server: &TestServer) {
    let report = client(true).send(&get(server.url("/probe"))).await;
    assert!(
        matches!(report.outcome, Outcome::Response { status: 200, .. }),
        "{:?}",
        report.outcome
    );
    assert_eq!(header(&report.outcome, "x-connection-number"), Some("1"));
    assert_eq!(server.accepted(), 1);
}

#[tokio::test]
async fn the_guard_refuses_internal_targets_without_connecting() {
    let server = TestServer::spawn(ok_reply()).await;
    let port = server.port();
    let guarded = client(false);
    let cases = [
        (
            format!("http://127.0.0.1:{port}/"),
            "127.0.0.1 is a loopback address",
        ),
        (format!("http://localhost:{port}/"), "is a loopback address"),
        (format!("http://[::1]:{port}/"), "::1 is a loopback address"),
        (
            format!("http://0.0.0.0:{port}/"),
            "0.0.0.0 is the unspecified address",
        ),
        (
            format!("http://2130706433:{port}/"),
            "127.0.0.1 is a loopback address",
        ),
        (
            format!("http://0x7f000001:{port}/"),
            "127.0.0.1 is a loopback address",
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            "::ffff:127.0.0.1 is a loopback address",
        ),
    ];
    for (url, expected) in &cases {
        let report = guarded.send(&get(url.as_str())).await;
        let Outcome::Refused { reason } = &report.outcome else {
            panic!("{url}: expected a refusal, got {:?}", report.outcome);
        };
        assert!(reason.contains(expected), "{url}: {reason}");
        assert!(reason.contains("MOJA_ALLOW_PRIVATE_TARGETS"), "{reason}");
        assert_eq!(retry::verdict(&report.outcome), Verdict::Fail);
    }
    // A POST with a body is refused the same way.
    let mut post = get(format!("http://localhost:{port}/hook"));
    post.method = "POST".to_owned();
    post.body = b"{}".to_vec();
    assert!(matches!(
        guarded.send(&post).await.outcome,
        Outcome::Refused { .. }
    ));
    assert_eq!(server.accepted(), 0);
    assert_first_connection(&server).await;
}

#[tokio::test]
async fn a_post_arrives_with_its_headers_and_body() {
    let mut server = TestServer::spawn(ok_reply()).await;
    let body = br#"{"call_id":"c-1","caller":"+13105559876","note":"caf\u00e9"}"#.to_vec();
    let request = OutboundRequest {
        method: "POST".to_owned(),
        url: server.url("/hooks/calls?source=moja&x=%20y"),
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Api-Key".to_owned(), "k-123".to_owned()),
            ("X-Repeat".to_owned(), "1".to_owned()),
            ("X-Repeat".to_owned(), "2".to_owned()),
        ],
        body: body.clone(),
    };
    let report = client(true).send(&request).await;
    let Outcome::Response {
        status,
        body: response_body,
        body_truncated,
        ..
    } = &report.outcome
    else {
        panic!("expected a response, got {:?}", report.outcome);
    };
    assert_eq!(*status, 200);
    assert_eq!(response_body, b"ok");
    assert!(!body_truncated);
    assert_eq!(header(&report.outcome, "x-receiver"), Some("test"));
    assert_eq!(report.outcome.error_message(), None);
    assert_eq!(retry::verdict(&report.outcome), Verdict::Success);

    let received = server.requests.recv().await.unwrap();
    assert_eq!(received.connection, 1);
    assert_eq!(received.method, "POST");
    assert_eq!(received.target, "/hooks/calls?source=moja&x=%20y");
    assert_eq!(received.body, body);
    assert_eq!(received.header("content-type"), Some("application/json"));
    assert_eq!(received.header("x-api-key"), Some("k-123"));
    let length = body.len().to_string();
    assert_eq!(received.header("content-length"), Some(length.as_str()));
    let repeats: Vec<&str> = received
        .headers
        .iter()
        .filter(|(name, _)| name == "x-repeat")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(repeats, ["1", "2"]);
    let user_agent = received.header("user-agent").unwrap();
    assert!(user_agent.starts_with("Moja-Webhooks/"), "{user_agent}");
    assert_eq!(
        received.header("host"),
        Some(format!("127.0.0.1:{}", server.port()).as_str())
    );
}

#[tokio::test]
async fn an_empty_body_has_a_length_only_where_the_method_takes_a_body() {
    let mut server = TestServer::spawn(ok_reply()).await;
    let unguarded = client(true);
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let mut request = get(server.url("/empty"));
        request.method = method.to_owned();
        let report = unguarded.send(&request).await;
        assert!(matches!(
            report.outcome,
            Outcome::Response { status: 200, .. }
        ));
        let received = server.requests.recv().await.unwrap();
        assert_eq!(received.method, method);
        assert!(received.body.is_empty());
        let expected = match method {
            "POST" | "PUT" | "PATCH" => Some("0"),
            _ => None,
        };
        assert_eq!(received.header("content-length"), expected, "{method}");
        assert_eq!(received.header("transfer-encoding"), None, "{method}");
    }
}

#[tokio::test]
async fn a_signed_request_verifies_at_the_receiver() {
    let mut server = TestServer::spawn(ok_reply()).await;
    let secret = signing::generate_secret();
    let body = br#"{"event":"call.completed"}"#.to_vec();
    let mut request = OutboundRequest {
        method: "POST".to_owned(),
        url: server.url("/signed"),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.clone(),
    };
    let signed = signing::headers(&secret, "msg_2b7f", 1_700_000_000, &body).unwrap();
    request
        .headers
        .extend(signed.map(|(name, value)| (name.to_owned(), value)));
    let report = client(true).send(&request).await;
    assert!(matches!(
        report.outcome,
        Outcome::Response { status: 200, .. }
    ));

    let received = server.requests.recv().await.unwrap();
    let id = received.header("webhook-id").unwrap();
    let timestamp: i64 = received
        .header("webhook-timestamp")
        .unwrap()
        .parse()
        .unwrap();
    let expected = signing::sign(&secret, id, timestamp, &received.body).unwrap();
    assert_eq!(id, "msg_2b7f");
    assert_eq!(
        received.header("webhook-signature"),
        Some(expected.as_str())
    );
}

#[tokio::test]
async fn a_redirect_is_returned_not_followed() {
    // The redirect points at a second server: following it would connect there.
    let mut target = TestServer::spawn(ok_reply()).await;
    let redirecting = TestServer::spawn(Reply::Respond {
        status: "302 Found",
        headers: vec![("location".to_owned(), target.url("/elsewhere"))],
        body: b"moved".to_vec(),
    })
    .await;

    let report = client(true).send(&get(redirecting.url("/start"))).await;
    let Outcome::Response { status, body, .. } = &report.outcome else {
        panic!("expected a response, got {:?}", report.outcome);
    };
    assert_eq!(*status, 302);
    assert_eq!(body, b"moved");
    assert_eq!(
        header(&report.outcome, "location"),
        Some(target.url("/elsewhere").as_str())
    );
    assert_eq!(retry::verdict(&report.outcome), Verdict::Fail);
    assert_eq!(redirecting.accepted(), 1);
    assert_eq!(target.accepted(), 0);
    assert!(target.requests.try_recv().is_err());
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_times_out() {
    let mut server = TestServer::spawn(Reply::Silent).await;
    let client = DeliveryClient::new(ClientConfig {
        allow_private_targets: true,
        timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    })
    .unwrap();
    let report = client.send(&get(server.url("/slow"))).await;
    assert_eq!(report.outcome, Outcome::Timeout);
    assert_eq!(
        retry::verdict(&report.outcome),
        Verdict::Retry { retry_after: None }
    );
    // The request did arrive: the timeout is on the answer.
    assert_eq!(server.requests.recv().await.unwrap().target, "/slow");
}

#[tokio::test]
async fn a_body_larger_than_the_cap_is_truncated_and_flagged() {
    let large: Vec<u8> = (0..100_000u32).map(|index| (index % 251) as u8).collect();
    let server = TestServer::spawn(Reply::Respond {
        status: "200 OK",
        headers: Vec::new(),
        body: large.clone(),
    })
    .await;
    let report = client(true).send(&get(server.url("/large"))).await;
    let Outcome::Response {
        status,
        body,
        body_truncated,
        ..
    } = &report.outcome
    else {
        panic!("expected a response, got {:?}", report.outcome);
    };
    assert_eq!(*status, 200);
    assert!(*body_truncated);
    assert_eq!(body.len(), DEFAULT_RESPONSE_BODY_CAP);
    assert_eq!(body.as_slice(), &large[..DEFAULT_RESPONSE_BODY_CAP]);
}

#[tokio::test]
async fn a_body_exactly_at_the_cap_is_not_truncated() {
    let exact = vec![b'x'; 1000];
    let server = TestServer::spawn(Reply::Respond {
        status: "500 Internal Server Error",
        headers: Vec::new(),
        body: exact.clone(),
    })
    .await;
    let client = DeliveryClient::new(ClientConfig {
        allow_private_targets: true,
        response_body_cap: 1000,
        ..ClientConfig::default()
    })
    .unwrap();
    let report = client.send(&get(server.url("/exact"))).await;
    let Outcome::Response {
        status,
        body,
        body_truncated,
        ..
    } = &report.outcome
    else {
        panic!("expected a response, got {:?}", report.outcome);
    };
    assert_eq!(*status, 500);
    assert_eq!(*body, exact);
    assert!(!body_truncated);
    assert_eq!(
        retry::verdict(&report.outcome),
        Verdict::Retry { retry_after: None }
    );
}

#[tokio::test]
async fn a_429_retry_after_reaches_the_verdict() {
    let server = TestServer::spawn(Reply::Respond {
        status: "429 Too Many Requests",
        headers: vec![("Retry-After".to_owned(), "120".to_owned())],
        body: Vec::new(),
    })
    .await;
    let report = client(true).send(&get(server.url("/limited"))).await;
    assert_eq!(
        retry::verdict(&report.outcome),
        Verdict::Retry {
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[tokio::test]
async fn invalid_requests_are_not_sent() {
    let server = TestServer::spawn(ok_reply()).await;
    let unguarded = client(true);
    let mut bad_method = get(server.url("/"));
    bad_method.method = "BAD METHOD".to_owned();
    let mut bad_value = get(server.url("/"));
    bad_value.headers = vec![("x-tag".to_owned(), "line\r\nx-injected: yes".to_owned())];
    let mut bad_name = get(server.url("/"));
    bad_name.headers = vec![("x tag".to_owned(), "1".to_owned())];
    let mut framing = get(server.url("/"));
    framing.headers = vec![("Content-Length".to_owned(), "5".to_owned())];
    let bad_scheme = get(format!("ftp://127.0.0.1:{}/", server.port()));
    let bad_url = get("http://127.0.0.1:notaport/");
    for request in [
        &bad_method,
        &bad_value,
        &bad_name,
        &framing,
        &bad_scheme,
        &bad_url,
    ] {
        let report = unguarded.send(request).await;
        assert!(
            matches!(report.outcome, Outcome::Invalid { .. }),
            "{request:?}: {:?}",
            report.outcome
        );
        assert_eq!(retry::verdict(&report.outcome), Verdict::Fail);
        assert!(
            report
                .outcome
                .error_message()
                .unwrap()
                .starts_with("invalid request: ")
        );
    }
    assert_eq!(server.accepted(), 0);
    assert_first_connection(&server).await;
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let report = client(true).send(&get(format!("http://{addr}/"))).await;
    let Outcome::Connect { error } = &report.outcome else {
        panic!("expected a connect error, got {:?}", report.outcome);
    };
    assert!(!error.is_empty());
    assert_eq!(
        retry::verdict(&report.outcome),
        Verdict::Retry { retry_after: None }
    );
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_a_transport_error() {
    let server = TestServer::spawn(Reply::Hangup).await;
    let report = client(true).send(&get(server.url("/hangup"))).await;
    let Outcome::Transport { error } = &report.outcome else {
        panic!("expected a transport error, got {:?}", report.outcome);
    };
    assert!(!error.is_empty());
    assert_eq!(
        retry::verdict(&report.outcome),
        Verdict::Retry { retry_after: None }
    );
    assert_eq!(server.accepted(), 1);
}

//! One outbound HTTP attempt behind the SSRF guard.
//!
//! [`DeliveryClient`] owns a single reqwest client: system proxies ignored, redirects never
//! followed, rustls, one timeout per attempt and, unless private targets are allowed, a DNS
//! resolver that refuses a name when any address it resolves to is forbidden by [`crate::guard`].
//! IP-literal URLs never reach a resolver, so [`DeliveryClient::send`] checks them itself before
//! sending.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::guard::{self, Forbidden};

/// The default time allowed for one attempt (`MOJA_DELIVERY_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default number of response body bytes kept for the attempt log.
pub const DEFAULT_RESPONSE_BODY_CAP: usize = 20 * 1024;

/// The methods an outgoing webhook may use.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Headers that frame or route the HTTP exchange: the client sets them, a rendered request may not.
const MANAGED_HEADERS: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// How the delivery client behaves; one per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Allow loopback, private and other internal targets (`MOJA_ALLOW_PRIVATE_TARGETS`).
    pub allow_private_targets: bool,
    /// Time allowed for one attempt, from connecting to the end of the response body
    /// (`MOJA_DELIVERY_TIMEOUT`).
    pub timeout: Duration,
    /// Response body bytes kept; the rest is not read.
    pub response_body_cap: usize,
    /// The `User-Agent` header sent with every request.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: DEFAULT_TIMEOUT,
            response_body_cap: DEFAULT_RESPONSE_BODY_CAP,
            user_agent: concat!("Moja-Webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Why the delivery client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The configured user agent is not a valid header value.
    #[error("invalid user agent {user_agent:?}: {source}")]
    UserAgent {
        /// The configured value.
        user_agent: String,
        /// Why it is not a header value.
        source: http::header::InvalidHeaderValue,
    },
    /// reqwest refused the configuration (e.g. the TLS backend failed to initialise).
    #[error("could not build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// A rendered request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboundRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// Header names and values, in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body, sent as is.
    pub body: Vec<u8>,
}

/// The result of one attempt and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// What happened.
    pub outcome: Outcome,
    /// From the start of [`DeliveryClient::send`] to the end of reading the response.
    pub latency: Duration,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered, with any status.
    Response {
        /// The HTTP status code.
        status: u16,
        /// Response headers in order; values that are not UTF-8 are converted lossily.
        headers: Vec<(String, String)>,
        /// The response body, at most the configured cap.
        body: Vec<u8>,
        /// Whether the body was longer than the cap and cut there.
        body_truncated: bool,
    },
    /// The SSRF guard refused the target: nothing was sent.
    Refused {
        /// The guard's message, naming the address.
        reason: String,
    },
    /// No complete response within the timeout.
    Timeout,
    /// The connection could not be made (DNS failure, refused, TLS handshake).
    Connect {
        /// The error chain.
        error: String,
    },
    /// The request itself is invalid (method, URL, header): nothing was sent.
    Invalid {
        /// What is wrong.
        error: String,
    },
    /// The exchange failed after the connection was made.
    Transport {
        /// The error chain.
        error: String,
    },
}

impl Outcome {
    /// A one-line description of what went wrong for the attempt log, `None` for a 2xx response.
    pub fn error_message(&self) -> Option<String> {
        match self {
            Self::Response { status, .. } => {
                if (200..300).contains(status) {
                    return None;
                }
                let reason = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|code| code.canonical_reason())
                    .map(|reason| format!(" {reason}"))
                    .unwrap_or_default();
                let redirect = if (300..400).contains(status) {
                    " (redirects are not followed)"
                } else {
                    ""
                };
                Some(format!("endpoint answered HTTP {status}{reason}{redirect}"))
            }
            Self::Refused { reason } => Some(format!("refused: {reason}")),
            Self::Timeout => Some("timed out waiting for the endpoint".to_owned()),
            Self::Connect { error } => Some(format!("could not connect: {error}")),
            Self::Invalid { error } => Some(format!("invalid request: {error}")),
            Self::Transport { error } => Some(format!("transport error: {error}")),
        }
    }
}

/// Sends rendered requests; cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct DeliveryClient {
    http: reqwest::Client,
    allow_private_targets: bool,
    response_body_cap: usize,
}

impl DeliveryClient {
    /// Builds the client and its connection pool.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let user_agent =
            HeaderValue::from_str(&config.user_agent).map_err(|source| ClientError::UserAgent {
                user_agent: config.user_agent.clone(),
                source,
            })?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .timeout(config.timeout)
            .user_agent(user_agent);
        if !config.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let http = builder.build().map_err(ClientError::Build)?;
        Ok(Self {
            http,
            allow_private_targets: config.allow_private_targets,
            response_body_cap: config.response_body_cap,
        })
    }

    /// Makes one attempt. Never fails: every failure is an [`Outcome`].
    pub async fn send(&self, request: &OutboundRequest) -> AttemptReport {
        let start = Instant::now();
        let outcome = self.attempt(request).await;
        AttemptReport {
            outcome,
            latency: start.elapsed(),
        }
    }

    async fn attempt(&self, request: &OutboundRequest) -> Outcome {
        let prepared = match prepare(request) {
            Ok(prepared) => prepared,
            Err(error) => return Outcome::Invalid { error },
        };
        if !self.allow_private_targets
            && let Some(forbidden) = literal_host_forbidden(&prepared.url)
        {
            return Outcome::Refused {
                reason: forbidden.to_string(),
            };
        }
        let sent = self
            .http
            .request(prepared.method, prepared.url)
            .headers(prepared.headers)
            .body(request.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return outcome_of_error(error),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        match read_capped(&mut response, self.response_body_cap).await {
            Ok((body, body_truncated)) => Outcome::Response {
                status,
                headers,
                body,
                body_truncated,
            },
            Err(error) => outcome_of_error(error),
        }
    }
}

/// A request checked and converted to reqwest's types.
struct Prepared {
    method: Method,
    url: Url,
    headers: HeaderMap,
}

fn prepare(request: &OutboundRequest) -> Result<Prepared, String> {
    let method = METHODS
        .into_iter()
        .find(|method| method.as_str() == request.method)
        .ok_or_else(|| {
            format!(
                "unsupported method {:?} (expected GET, POST, PUT, PATCH or DELETE)",
                request.method
            )
        })?;
    let url = Url::parse(&request.url).map_err(|error| format!("invalid URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "unsupported URL scheme {:?} (expected http or https)",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("the URL has no host".to_owned());
    }
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        if MANAGED_HEADERS.contains(&header_name.as_str()) {
            return Err(format!(
                "header {name:?} is set by the delivery client and cannot be overridden"
            ));
        }
        let header_value = HeaderValue::from_str(value).map_err(|_| {
            format!(
                "invalid value for header {name:?} \
                 (control characters such as CR or LF are not allowed)"
            )
        })?;
        headers.append(header_name, header_value);
    }
    // hyper omits the length of an empty body; some servers answer 411 to a POST without one.
    if request.body.is_empty() && [Method::POST, Method::PUT, Method::PATCH].contains(&method) {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    Ok(Prepared {
        method,
        url,
        headers,
    })
}

/// The guard's verdict on a URL whose host is an IP literal; names go through [`GuardedResolver`].
///
/// The `url` crate has already normalised the host the WHATWG way (`http://2130706433/` and
/// `http://0x7f000001/` are `127.0.0.1`), and that serialisation is what reqwest connects to.
fn literal_host_forbidden(url: &Url) -> Option<Forbidden> {
    match url.host()? {
        Host::Ipv4(ip) => guard::classify(IpAddr::V4(ip)),
        Host::Ipv6(ip) => guard::classify(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// Reads the body up to `cap` bytes; whether more followed is the second value.
async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let expected = response
        .content_length()
        .map_or(0, |length| usize::try_from(length).unwrap_or(usize::MAX));
    let mut body = Vec::with_capacity(expected.min(cap));
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn outcome_of_error(error: reqwest::Error) -> Outcome {
    if let Some(forbidden) = find_source::<Forbidden>(&error) {
        return Outcome::Refused {
            reason: forbidden.to_string(),
        };
    }
    let error = error.without_url();
    let message = error_chain(&error);
    if error.is_timeout() {
        Outcome::Timeout
    } else if error.is_builder() {
        Outcome::Invalid { error: message }
    } else if error.is_connect() {
        Outcome::Connect { error: message }
    } else {
        Outcome::Transport { error: message }
    }
}

/// The first error of type `T` in the source chain of `error`, `error` itself included.
fn find_source<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// Every message in the source chain below reqwest's generic "error sending request", joined with
/// `": "`, repeated messages once.
fn error_chain(error: &reqwest::Error) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut current = match error.source() {
        Some(source) => Some(source),
        None => Some(error as &(dyn StdError + 'static)),
    };
    while let Some(error) = current {
        let message = error.to_string();
        if !messages.iter().any(|seen| seen.contains(&message)) {
            messages.push(message);
        }
        current = error.source();
    }
    messages.join(": ")
}

/// A name resolved to no address at all.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolved to no address")]
struct NoAddresses {
    name: String,
}

/// Resolves with the system resolver and refuses the name when any address is forbidden.
///
/// reqwest connects only to the addresses returned here, so the addresses checked are the addresses
/// connected to: a name that resolves differently on a second lookup (DNS rebinding) is checked
/// again.
#[derive(Debug)]
struct GuardedResolver;

/// Names that are this machine by definition (RFC 6761 §6.3: `localhost` and every name under
/// it), trailing dot or not: refused without asking DNS, whose answer for `localhost.` may be
/// anything.
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move {
            if is_localhost(&name) {
                let loopback = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
                return Err(
                    Box::new(Forbidden::Loopback(loopback)) as Box<dyn StdError + Send + Sync>
                );
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let addrs = check_resolved(&name, addrs)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The resolved addresses when every one of them is allowed.
fn check_resolved(
    name: &str,
    addrs: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, Box<dyn StdError + Send + Sync>> {
    if addrs.is_empty() {
        return Err(Box::new(NoAddresses {
            name: name.to_owned(),
        }));
    }
    if let Some(forbidden) = addrs.iter().find_map(|addr| guard::classify(addr.ip())) {
        return Err(Box::new(forbidden));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, url: &str) -> OutboundRequest {
        OutboundRequest {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn literal(url: &str) -> Option<Forbidden> {
        let prepared = prepare(&request("GET", url)).unwrap();
        literal_host_forbidden(&prepared.url)
    }

    #[test]
    fn whatwg_parsing_normalises_numeric_hosts_before_the_guard() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.0.1./",
        ] {
            assert_eq!(literal(url), Some(Forbidden::Loopback(loopback)), "{url}");
        }
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            literal("http://[::ffff:127.0.0.1]/"),
            Some(Forbidden::Loopback(mapped))
        );
        assert_eq!(
            literal("http://[::1]:8080/"),
            Some(Forbidden::Loopback("::1".parse().unwrap()))
        );
        assert_eq!(
            literal("http://0.0.0.0/"),
            Some(Forbidden::Unspecified("0.0.0.0".parse().unwrap()))
        );
        assert_eq!(literal("http://8.8.8.8/"), None);
        assert_eq!(literal("https://[2606:4700::1111]/"), None);
        // Names are left to the resolver.
        assert_eq!(literal("http://localhost/"), None);
    }

    /// `localhost` and the names under it are loopback by definition, with or without a
    /// trailing dot: refused by the resolver without a lookup.
    #[tokio::test]
    async fn localhost_names_are_refused_without_dns() {
        for name in [
            "localhost",
            "localhost.",
            "LOCALHOST.",
            "api.localhost",
            "a.b.localhost.",
        ] {
            let refused = GuardedResolver
                .resolve(name.parse().unwrap())
                .await
                .err()
                .unwrap_or_else(|| panic!("{name} resolved"));
            assert_eq!(
                refused.downcast_ref::<Forbidden>(),
                Some(&Forbidden::Loopback("127.0.0.1".parse().unwrap())),
                "{name}"
            );
        }
        assert!(!is_localhost("localhost.example.com"));
        assert!(!is_localhost("notlocalhost"));
    }

    #[test]
    fn only_the_webhook_methods_are_accepted() {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            assert!(prepare(&request(method, "http://example.com/")).is_ok());
        }
        for method in ["get", "CONNECT", "TRACE", "BAD METHOD", ""] {
            let error = prepare(&request(method, "http://example.com/"))
                .err()
                .unwrap();
            assert!(error.contains("unsupported method"), "{error}");
        }
    }

    #[test]
    fn only_http_and_https_urls_are_accepted() {
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "data:text/plain,hi",
        ] {
            let error = prepare(&request("GET", url)).err().unwrap();
            assert!(error.contains("unsupported URL scheme"), "{url}: {error}");
        }
        for url in ["not a url", "http://", "/relative", "http://[::1/"] {
            let error = prepare(&request("GET", url)).err().unwrap();
            assert!(error.starts_with("invalid URL"), "{url}: {error}");
        }
    }

    #[test]
    fn headers_are_checked() {
        let mut bad_value = request("POST", "http://example.com/");
        bad_value.headers = vec![("x-token".to_owned(), "a\r\nx-injected: 1".to_owned())];
        assert!(prepare(&bad_value).err().unwrap().contains("x-token"));

        let mut bad_name = request("POST", "http://example.com/");
        bad_name.headers = vec![("bad name".to_owned(), "1".to_owned())];
        assert!(
            prepare(&bad_name)
                .err()
                .unwrap()
                .contains("invalid header name")
        );

        for managed in ["Host", "content-length", "Transfer-Encoding", "connection"] {
            let mut framing = request("POST", "http://example.com/");
            framing.headers = vec![(managed.to_owned(), "1".to_owned())];
            let error = prepare(&framing).err().unwrap();
            assert!(error.contains("cannot be overridden"), "{error}");
        }

        let mut fine = request("POST", "http://example.com/");
        fine.headers = vec![
            ("X-Repeat".to_owned(), "1".to_owned()),
            ("x-repeat".to_owned(), "2".to_owned()),
            ("X-Emoji".to_owned(), "café ☎".to_owned()),
        ];
        let prepared = prepare(&fine).unwrap();
        assert_eq!(prepared.headers.get_all("x-repeat").iter().count(), 2);
    }

    #[test]
    fn a_name_is_refused_when_any_resolved_address_is_forbidden() {
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();
        let private: SocketAddr = "10.0.0.7:0".parse().unwrap();
        assert_eq!(
            check_resolved("example.com", vec![public]).unwrap(),
            vec![public]
        );
        let error = check_resolved("rebind.example", vec![public, private]).unwrap_err();
        let forbidden = error.downcast_ref::<Forbidden>().unwrap();
        assert_eq!(*forbidden, Forbidden::Private(private.ip()));
        let error = check_resolved("empty.example", Vec::new()).unwrap_err();
        assert_eq!(error.to_string(), "empty.example resolved to no address");
    }

    #[test]
    fn error_messages_describe_failures_only() {
        let ok = Outcome::Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
        };
        assert_eq!(ok.error_message(), None);
        let redirect = Outcome::Response {
            status: 302,
            headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
        };
        assert_eq!(
            redirect.error_message().unwrap(),
            "endpoint answered HTTP 302 Found (redirects are not followed)"
        );
        let unknown = Outcome::Response {
            status: 599,
            headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
        };
        assert_eq!(
            unknown.error_message().unwrap(),
            "endpoint answered HTTP 599"
        );
        assert_eq!(
            Outcome::Timeout.error_message().unwrap(),
            "timed out waiting for the endpoint"
        );
        let refused = Outcome::Refused {
            reason: "10.0.0.1 is a private network address".to_owned(),
        };
        assert!(refused.error_message().unwrap().contains("10.0.0.1"));
    }

    #[test]
    fn default_config_matches_the_specification() {
        let config = ClientConfig::default();
        assert!(!config.allow_private_targets);
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.response_body_cap, 20 * 1024);
        assert!(config.user_agent.starts_with("Moja-Webhooks/"));
    }

    #[test]
    fn an_invalid_user_agent_is_a_clear_error() {
        let config = ClientConfig {
            user_agent: "bad\nagent".to_owned(),
            ..ClientConfig::default()
        };
        let error = DeliveryClient::new(config).unwrap_err();
        assert!(
            error.to_string().starts_with("invalid user agent"),
            "{error}"
        );
    }
}

//! The one HTTP client of the process, the runtime it runs on, and how calls
//! are retried ([`retry`]): the transport under both [`crate::forge`] (GitHub, GitLab) and
//! [`crate::registry`] (image registries). No API is spoken here.
//!
//! Built once, on first use ([`shared`]), and shared by every
//! forge client and every registry:
//! `gitops check` over many repositories opens one connection pool, loads the
//! system's root certificates once and starts one runtime, whatever the number
//! of repositories. What differs per server (the base URL, the credentials) is
//! layered on top, in `forge/github.rs`, `forge/gitlab.rs` and `registry/client.rs`.
//!
//! Proxies are read from the environment as curl reads them, once per process:
//! `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http URLs, `ALL_PROXY` for both
//! when the specific one is unset (each also lowercase, which wins), and
//! `NO_PROXY` for the hosts to reach directly ([`proxies_from`]). An http URL goes to the proxy
//! as an absolute-form request (`GET http://host/path`); an https URL goes
//! through a `CONNECT` tunnel, inside which TLS is negotiated with GitHub itself,
//! so certificates are checked against the server's name as without a proxy.
//! `user:password@` in the proxy URL is sent as `Proxy-Authorization: Basic`.
//! Only http:// proxies are spoken to: an https:// or SOCKS proxy is refused by
//! [`proxy_for`] rather than bypassed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use hyper::header::{HeaderValue, PROXY_AUTHORIZATION};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioExecutor;
use tower_http::follow_redirect::FollowRedirect;
use tower_service::Service;

pub mod retry;

pub use retry::{no_answer, Attempt, GaveUp, RetryPolicy};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request body: octocrab's, which the one client must take for octocrab to
/// run over it; the registry builds it from bytes (`Body::from(Vec<u8>)`,
/// `Body::empty()`).
pub type Body = octocrab::OctoBody;

/// The client octocrab is given: pooled, proxy-aware, TLS with rustls, and
/// following redirects (renamed and transferred repositories answer with one).
pub type Client = FollowRedirect<ProxyAuth>;

/// An HTTP answer, read whole.
pub struct Answer {
    pub status: u16,
    pub reason: &'static str,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        Some(self.headers.get(name)?.to_str().ok()?.trim().to_owned())
    }

    /// What `Retry-After` asks for (seconds or an HTTP-date).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        retry::retry_after(&self.header("retry-after")?, std::time::SystemTime::now())
    }
}

/// The process's runtime and HTTP client.
pub struct Http {
    /// A current-thread runtime: whichever thread is blocked on it drives the
    /// I/O of all (`gitops check` calls GitHub from several threads at once).
    pub runtime: tokio::runtime::Runtime,
    pub client: Client,
    proxies: Arc<Matcher>,
}

/// The runtime and client, built on first use with the environment's proxies;
/// an error (no usable root certificates, no runtime) is kept and returned to
/// every caller.
pub fn shared() -> Result<&'static Http, String> {
    static SHARED: OnceLock<Result<Http, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| Http::new(proxies_from(|name| std::env::var(name).ok())))
        .as_ref()
        .map_err(Clone::clone)
}

impl Http {
    fn new(proxies: Matcher) -> Result<Http, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("could not start the HTTP client: {e}"))?;
        let proxies = Arc::new(proxies);
        let mut tcp = HttpConnector::new();
        // https URLs reach the TCP connector too: TLS is layered above it.
        tcp.enforce_http(false);
        let connector = ProxyConnector {
            tcp,
            proxies: proxies.clone(),
        };
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| root_cause(&e))?
            // http:// for GITHUB_API_URL pointing at a local double or a plain proxy.
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let pooled = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(tls);
        let client = FollowRedirect::new(ProxyAuth {
            inner: pooled,
            proxies: proxies.clone(),
        });
        Ok(Http {
            runtime,
            client,
            proxies,
        })
    }

    /// Sends one request and reads its answer whole (at most `max_body`
    /// bytes): the one exchange under the registry and GitLab clients (GitHub's
    /// goes through octocrab, over the same client). `Err` is the transport's
    /// root cause.
    pub async fn exchange(
        &self,
        request: Request<Body>,
        max_body: usize,
    ) -> Result<Answer, String> {
        use http_body_util::BodyExt;
        let mut client = self.client.clone();
        std::future::poll_fn(|cx| client.poll_ready(cx))
            .await
            .map_err(|e| root_cause(&e))?;
        let response = client.call(request).await.map_err(|e| root_cause(&e))?;
        let (parts, body) = response.into_parts();
        let body = http_body_util::Limited::new(body, max_body)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        Ok(Answer {
            status: parts.status.as_u16(),
            reason: parts.status.canonical_reason().unwrap_or(""),
            headers: parts.headers,
            body,
        })
    }

    /// The proxy requests to `url` go through, as [`proxy_for`] says.
    pub fn proxy_for(&self, url: &Uri) -> Result<Option<String>, String> {
        proxy_for(&self.proxies, url)
    }
}

/// The process's client and the proxy requests to `base` go through, for a
/// server named `server` in messages ("the GitHub API", "the registry
/// ghcr.io"): no client (no root certificates) is a remote failure (exit 3), a
/// proxy gitops cannot speak to is refused (exit 2).
pub fn connect(
    base: &Uri,
    server: &str,
) -> Result<(&'static Http, Option<String>), crate::error::Failure> {
    let http = shared().map_err(|cause| {
        crate::error::remote(format!("could not set up HTTPS for {server}: {cause}"))
            .hint("install the system's CA certificates (ca-certificates), or set SSL_CERT_FILE")
    })?;
    let proxy = http.proxy_for(base).map_err(|cause| {
        crate::error::refused(cause).hint(format!(
            "set it to http://HOST:PORT, or name the host of {server} in NO_PROXY"
        ))
    })?;
    Ok((http, proxy))
}

/// The proxies the environment `var` names, as curl reads them: for each of
/// `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy` the lowercase name
/// first, then the uppercase one, an empty value counting as unset. `NO_PROXY`
/// is [`Matcher`]'s (domains and their subdomains, IP addresses, networks), and
/// `*` in it turns every proxy off, addresses included.
pub fn proxies_from(var: impl Fn(&str) -> Option<String>) -> Matcher {
    let first = |lower: &str| {
        [lower.to_owned(), lower.to_ascii_uppercase()]
            .iter()
            .find_map(|name| var(name).filter(|v| !v.trim().is_empty()))
            .unwrap_or_default()
    };
    let no = first("no_proxy");
    if no.split(',').any(|entry| entry.trim() == "*") {
        return Matcher::builder().build();
    }
    Matcher::builder()
        .all(first("all_proxy"))
        .http(first("http_proxy"))
        .https(first("https_proxy"))
        .no(no)
        .build()
}

/// The proxy that requests to `url` go through: `None` for a direct connection
/// (no proxy variable for its scheme, or a `NO_PROXY` match), else the proxy's
/// URL without its credentials (for messages). An https:// or SOCKS proxy is an
/// error: gitops speaks to http:// proxies only.
pub fn proxy_for(proxies: &Matcher, url: &Uri) -> Result<Option<String>, String> {
    let Some(intercept) = proxies.intercept(url) else {
        return Ok(None);
    };
    let proxy = intercept.uri();
    let shown = format!(
        "{}://{}",
        proxy.scheme_str().unwrap_or("http"),
        proxy.authority().map_or("", |a| a.as_str())
    );
    if proxy.scheme() == Some(&hyper::http::uri::Scheme::HTTP) {
        Ok(Some(shown))
    } else {
        let var = if url.scheme() == Some(&hyper::http::uri::Scheme::HTTPS) {
            "HTTPS_PROXY"
        } else {
            "HTTP_PROXY"
        };
        Err(format!(
            "the proxy {shown} ({var} or ALL_PROXY) is not an http:// proxy, the only kind gitops speaks to"
        ))
    }
}

/// A proxy's address with curl's default port, 1080, when its URL has none.
fn proxy_address(proxy: &Uri) -> Uri {
    if proxy.port().is_some() {
        return proxy.clone();
    }
    let host = proxy.host().unwrap_or_default();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    format!("http://{host}:1080/")
        .parse()
        .unwrap_or_else(|_| proxy.clone())
}

/// The connector under TLS: a TCP connection to the destination, to its proxy
/// (an http URL: requests are then written in absolute form), or through a
/// `CONNECT` tunnel opened by its proxy (an https URL).
#[derive(Clone)]
struct ProxyConnector {
    tcp: HttpConnector,
    proxies: Arc<Matcher>,
}

type Tcp = <HttpConnector as Service<Uri>>::Response;

impl Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let Some(intercept) = self.proxies.intercept(&dst) else {
            let connecting = self.tcp.call(dst);
            return Box::pin(async move {
                let io = connecting.await?;
                Ok::<_, BoxError>(Conn { io, proxied: false })
            });
        };
        let shown = match proxy_for(&self.proxies, &dst) {
            Ok(shown) => shown.unwrap_or_default(),
            Err(refusal) => return Box::pin(std::future::ready(Err(refusal.into()))),
        };
        let proxy = proxy_address(intercept.uri());
        if dst.scheme() == Some(&hyper::http::uri::Scheme::HTTPS) {
            let mut tunnel = Tunnel::new(proxy, self.tcp.clone());
            if let Some(auth) = intercept.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            let connecting = tunnel.call(dst);
            Box::pin(async move {
                let io = connecting
                    .await
                    .map_err(|e| ProxyError::boxed(&shown, &e))?;
                Ok::<_, BoxError>(Conn { io, proxied: false })
            })
        } else {
            let connecting = self.tcp.call(proxy);
            Box::pin(async move {
                let io = connecting
                    .await
                    .map_err(|e| ProxyError::boxed(&shown, &e))?;
                Ok::<_, BoxError>(Conn { io, proxied: true })
            })
        }
    }
}

/// A failure to reach or use a proxy, naming it: the root cause alone ("connection
/// refused") would send the reader to GitHub or the registry.
#[derive(Debug)]
struct ProxyError(String);

impl ProxyError {
    fn boxed(proxy: &str, err: &(dyn std::error::Error + 'static)) -> BoxError {
        let mut text = err.to_string();
        let cause = root_cause(err);
        if cause != text {
            text = format!("{text}: {cause}");
        }
        Box::new(ProxyError(format!("through the proxy {proxy}: {text}")))
    }
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProxyError {}

/// A TCP connection that says whether it leads to a proxy which wants
/// absolute-form requests.
struct Conn {
    io: Tcp,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

type Pooled =
    hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<ProxyConnector>, Body>;

/// The pooled client, adding `Proxy-Authorization` to the requests an http://
/// URL sends to its proxy (an https URL's credentials go with `CONNECT`).
#[derive(Clone)]
pub struct ProxyAuth {
    inner: Pooled,
    proxies: Arc<Matcher>,
}

impl Service<Request<Body>> for ProxyAuth {
    type Response = hyper::Response<hyper::body::Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = hyper_util::client::legacy::ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if request.uri().scheme() == Some(&hyper::http::uri::Scheme::HTTP) {
            if let Some(auth) = self
                .proxies
                .intercept(request.uri())
                .and_then(|i| i.basic_auth().cloned())
            {
                request.headers_mut().insert(PROXY_AUTHORIZATION, auth);
            }
        }
        self.inner.call(request)
    }
}

/// A header value that is never printed in debug output.
pub fn secret_header(value: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The innermost error's message ("Connection refused (os error 111)").
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(http: &str, https: &str, no: &str) -> Matcher {
        Matcher::builder().http(http).https(https).no(no).build()
    }

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn each_scheme_has_its_proxy_and_no_proxy_wins() {
        let m = matcher("http://plain:3128", "http://user:pw@secure:8080", "");
        let cases = [
            ("https://api.github.com/repos", Some("http://secure:8080")),
            ("http://127.0.0.1:9/x", Some("http://plain:3128")),
        ];
        for (url, want) in cases {
            assert_eq!(proxy_for(&m, &uri(url)).unwrap().as_deref(), want, "{url}");
        }
        // The credentials are sent, never shown.
        let i = m.intercept(&uri("https://api.github.com")).unwrap();
        assert!(i.basic_auth().is_some());

        let m = matcher(
            "http://p:1",
            "http://p:1",
            "127.0.0.1, .example.com,10.0.0.0/8",
        );
        for url in [
            "http://127.0.0.1:8080/",
            "https://ghe.example.com/api/v3",
            "https://example.com/",
            "https://10.1.2.3/",
        ] {
            assert_eq!(proxy_for(&m, &uri(url)).unwrap(), None, "{url}");
        }
        for url in [
            "http://127.0.0.2/",
            "https://api.github.com/",
            "https://notexample.com/",
        ] {
            assert!(proxy_for(&m, &uri(url)).unwrap().is_some(), "{url}");
        }
        assert_eq!(
            proxy_for(&matcher("", "", ""), &uri("https://api.github.com")).unwrap(),
            None
        );
    }

    #[test]
    fn the_environment_is_read_as_curl_reads_it() {
        let read = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            proxies_from(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        };
        let github = uri("https://api.github.com/graphql");
        let local = uri("http://127.0.0.1:8080/graphql");
        // The variables; then the proxy for an https URL, and for an http one.
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, Option<&'a str>);
        let cases: &[Case] = &[
            (&[], None, None),
            (&[("HTTPS_PROXY", "http://up:1")], Some("http://up:1"), None),
            (
                &[("https_proxy", "http://low:1")],
                Some("http://low:1"),
                None,
            ),
            (
                &[("http_proxy", "http://low:2")],
                None,
                Some("http://low:2"),
            ),
            (&[("HTTP_PROXY", "http://up:2")], None, Some("http://up:2")),
            // Lowercase wins; an empty value is unset.
            (
                &[
                    ("https_proxy", "http://low:1"),
                    ("HTTPS_PROXY", "http://up:1"),
                ],
                Some("http://low:1"),
                None,
            ),
            (
                &[("https_proxy", ""), ("HTTPS_PROXY", "http://up:1")],
                Some("http://up:1"),
                None,
            ),
            // ALL_PROXY when the specific one is unset.
            (
                &[
                    ("ALL_PROXY", "http://all:3"),
                    ("http_proxy", "http://low:2"),
                ],
                Some("http://all:3"),
                Some("http://low:2"),
            ),
            (
                &[("all_proxy", "http://all:3"), ("NO_PROXY", "127.0.0.1")],
                Some("http://all:3"),
                None,
            ),
            (
                &[("ALL_PROXY", "http://all:3"), ("no_proxy", "github.com")],
                None,
                Some("http://all:3"),
            ),
            // `*`: no proxy at all, addresses included.
            (
                &[("ALL_PROXY", "http://all:3"), ("NO_PROXY", "*")],
                None,
                None,
            ),
            (
                &[("ALL_PROXY", "http://all:3"), ("NO_PROXY", "a.example, *")],
                None,
                None,
            ),
            // Not a URL: ignored.
            (&[("HTTPS_PROXY", "http://bad host:1")], None, None),
        ];
        for (vars, want_github, want_local) in cases {
            let m = read(vars);
            assert_eq!(
                proxy_for(&m, &github).unwrap().as_deref(),
                *want_github,
                "{vars:?}"
            );
            assert_eq!(
                proxy_for(&m, &local).unwrap().as_deref(),
                *want_local,
                "{vars:?}"
            );
        }
    }

    #[test]
    fn only_http_proxies_are_spoken_to() {
        for proxy in ["https://secure:443", "socks5h://s:1080"] {
            let m = matcher(proxy, proxy, "");
            let err = proxy_for(&m, &uri("https://api.github.com")).unwrap_err();
            assert!(err.contains("is not an http:// proxy"), "{err}");
            assert!(err.contains("HTTPS_PROXY"), "{err}");
        }
        // No scheme: http, as curl reads it.
        let m = matcher("", "proxy.corp:3128", "");
        assert_eq!(
            proxy_for(&m, &uri("https://api.github.com"))
                .unwrap()
                .as_deref(),
            Some("http://proxy.corp:3128")
        );
    }

    #[test]
    fn a_proxy_without_a_port_is_on_curls_1080() {
        assert_eq!(
            proxy_address(&uri("http://proxy.corp/")),
            uri("http://proxy.corp:1080/")
        );
        assert_eq!(
            proxy_address(&uri("http://proxy.corp:3128/")),
            uri("http://proxy.corp:3128/")
        );
        assert_eq!(
            proxy_address(&uri("http://[::1]/")),
            uri("http://[::1]:1080/")
        );
    }

    #[test]
    fn one_client_per_process() {
        let first = shared().unwrap();
        let second = shared().unwrap();
        assert!(std::ptr::eq(first, second));
    }
}

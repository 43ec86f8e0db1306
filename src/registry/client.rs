//! One registry, spoken to over the process's HTTP client ([`crate::http`]):
//! its tags, paged; an image's creation time; authentication as the registry
//! asks for it (anonymous, basic, or a bearer token from the challenge's realm,
//! for a docker identity token by the OAuth2 refresh grant);
//! retries with backoff on 5xx and 429 (`Retry-After` honoured); a timeout per
//! request and for each call in all; and at most
//! `GITOPS_REGISTRY_CONCURRENCY` requests in flight per registry (8 by default).
//!
//! The methods block on the process's runtime, like [`crate::forge::github`]'s;
//! failures are [`Failure`]s whose messages never hold a secret: the
//! credentials' and tokens' values are cut out of anything shown ([`Registry::redact`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::{Request, Uri};

use super::credentials::Credentials;
use super::name::Location;
use super::protocol::{self, Challenge, Created, Manifest, TagList, TokenAnswer};
use crate::error::{refused, remote, Failure};
use crate::http::{no_answer, secret_header, Attempt, Body, Http, RetryPolicy};

/// The variable that caps the requests in flight to one registry.
pub const CONCURRENCY_VAR: &str = "GITOPS_REGISTRY_CONCURRENCY";

/// The cap when [`CONCURRENCY_VAR`] is not set.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Tags asked for per page (`n`); the registry may send fewer, and says where
/// the rest is with `Link`.
pub const PAGE_SIZE: usize = 1000;

/// The largest answer read (a tag list of tens of thousands of tags fits).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Pages followed at most: a registry whose `Link` goes round in circles stops
/// here.
const MAX_PAGES: usize = 10_000;

/// One HTTP answer, read whole.
struct Reply {
    status: u16,
    reason: &'static str,
    challenge: Option<String>,
    link: Option<String>,
    /// What `Retry-After` asks for, seconds or an HTTP-date.
    retry_after: Option<Duration>,
    /// `Docker-Content-Digest`: the digest of the manifest answered.
    digest: Option<String>,
    body: Vec<u8>,
}

/// Why the last attempt failed, kept to explain a call that ran out of tries.
enum Failed {
    Transport(String),
    Reply(Reply),
}

/// What the registry says of one tag's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    /// The digest of the manifest the tag points at (`Docker-Content-Digest`),
    /// when the registry says it.
    pub digest: Option<String>,
    /// The image's creation time, if it has one.
    pub created: Option<Created>,
    /// The time came from what the caller knew of the digest: no more than
    /// the manifest was read.
    pub cached: bool,
}

/// A client for one registry. Methods block; several threads may call at once.
pub struct Registry {
    http: &'static Http,
    /// As people name it: `docker.io`, `127.0.0.1:5000`.
    registry: String,
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    base: String,
    credentials: Option<Credentials>,
    proxy: Option<String>,
    retry: RetryPolicy,
    page_size: usize,
    limit: tokio::sync::Semaphore,
    /// Bearer tokens by repository (a token's scope is one repository).
    tokens: Mutex<HashMap<String, String>>,
    /// The registry asked for basic authentication.
    basic: AtomicBool,
    requests: AtomicUsize,
}

impl Registry {
    /// A client for `location`'s registry with `credentials` (`None`:
    /// anonymous), retrying as `retry` says, with at most `concurrency`
    /// requests in flight.
    pub fn new(
        location: &Location,
        credentials: Option<Credentials>,
        retry: RetryPolicy,
        concurrency: usize,
    ) -> Result<Registry, Failure> {
        let base: Uri = location.base.parse().map_err(|_| {
            refused(format!(
                "`{}` is not a registry host gitops can reach",
                location.registry
            ))
            .hint("check the image's registry host")
        })?;
        let (http, proxy) =
            crate::http::connect(&base, &format!("the registry {}", location.registry))?;
        Ok(Registry {
            http,
            registry: location.registry.clone(),
            base: location.base.clone(),
            credentials,
            proxy,
            retry,
            page_size: PAGE_SIZE,
            limit: tokio::sync::Semaphore::new(concurrency.max(1)),
            tokens: Mutex::new(HashMap::new()),
            basic: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
        })
    }

    /// The client for `location` as the environment configures it: credentials
    /// from the usual files and helpers ([`super::credentials::find`]), retries
    /// from `GITOPS_RETRY_BASE_MS` and `GITOPS_TIMEOUT`, the cap from
    /// [`CONCURRENCY_VAR`].
    pub fn from_env(location: &Location) -> Result<Registry, Failure> {
        let credentials = super::credentials::find(&location.registry, &super::credentials::System)
            .map_err(|e| {
                refused(e)
                    .hint("fix the file, or point REGISTRY_AUTH_FILE or DOCKER_CONFIG elsewhere")
            })?;
        let concurrency = parse_concurrency(std::env::var(CONCURRENCY_VAR).ok().as_deref())?;
        Registry::new(
            location,
            credentials,
            RetryPolicy::from_env(|k| std::env::var(k).ok()),
            concurrency,
        )
    }

    /// Sets the tags asked for per page.
    pub fn with_page_size(mut self, n: usize) -> Registry {
        self.page_size = n.max(1);
        self
    }

    /// HTTP requests sent so far, retries and token requests included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Where the credentials came from, if any (never their value).
    pub fn credentials_source(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.source.as_str())
    }

    /// Every tag of `repository`, in the registry's order, following `Link`
    /// pages.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, Failure> {
        self.http.runtime.block_on(self.tags_async(repository))
    }

    /// [`Registry::tags`], to be awaited with other calls (on the process's
    /// runtime: [`crate::http::shared`]).
    pub async fn tags_async(&self, repository: &str) -> Result<Vec<String>, Failure> {
        let mut url = format!(
            "{}/v2/{repository}/tags/list?n={}",
            self.base, self.page_size
        );
        let mut tags = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            seen.insert(url.clone());
            let reply = self
                .get(
                    &url,
                    repository,
                    None,
                    &format!("list the tags of {repository}"),
                )
                .await?;
            if reply.status == 404 {
                return Err(self.not_found(repository, &reply));
            }
            if !(200..300).contains(&reply.status) {
                return Err(self.unexpected(repository, &reply, "listing its tags"));
            }
            let page: TagList = serde_json::from_slice(&reply.body).map_err(|e| {
                self.off_spec(format!(
                    "the registry {} sent a tag list of {repository} that is not the Distribution API's JSON: {e}",
                    self.registry
                ))
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match reply
                .link
                .as_deref()
                .and_then(|l| protocol::next_link(l, &self.base))
            {
                // The token goes with every page: never to another server.
                Some(next) if !next.starts_with(&format!("{}/", self.base)) => {
                    return Err(self.off_spec(format!(
                        "the registry {} sent the next page of {repository}'s tags on another server ({})",
                        self.registry,
                        self.redact(&next)
                    )))
                }
                Some(next) if !seen.contains(&next) => url = next,
                _ => return Ok(tags),
            }
        }
        Ok(tags)
    }

    /// The creation time of each of `tags` of `repository` (`None`: the image
    /// says none, or the tag is gone), read from the manifest's
    /// `org.opencontainers.image.created` annotation or the image config's
    /// `created` (an index: its first image's). Fetched concurrently, within the
    /// registry's cap.
    pub fn created(
        &self,
        repository: &str,
        tags: &[String],
    ) -> Vec<Result<Option<Created>, Failure>> {
        self.http
            .runtime
            .block_on(futures_util::future::join_all(tags.iter().map(|tag| {
                let dated = self.created_async(repository, tag, &|_| None);
                async { dated.await.map(|d| d.created) }
            })))
    }

    /// The creation time of one tag's image ([`Registry::created`]), to be
    /// awaited with other calls. The tag's manifest is always read (a tag may
    /// have moved); when its digest (`Docker-Content-Digest`) is one `known`
    /// has a time for, that time is the answer and nothing more is read.
    pub async fn created_async(
        &self,
        repository: &str,
        tag: &str,
        known: &(dyn Fn(&str) -> Option<Created> + Sync),
    ) -> Result<Dated, Failure> {
        let mut reference = tag.to_owned();
        let mut digest = None;
        let dated = |digest: &Option<String>, created: Option<Created>, cached: bool| Dated {
            digest: digest.clone(),
            created,
            cached,
        };
        // A manifest, or an index and then one of its images.
        for round in 0..2 {
            let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
            let what = format!("read the manifest of {repository}:{tag}");
            let reply = self
                .get(&url, repository, Some(protocol::MANIFEST_ACCEPT), &what)
                .await?;
            if reply.status == 404 {
                return Ok(dated(&None, None, false));
            }
            if !(200..300).contains(&reply.status) {
                return Err(self.unexpected(
                    repository,
                    &reply,
                    &format!("reading the manifest of {tag}"),
                ));
            }
            if round == 0 {
                digest = reply.digest.clone();
                if let Some(created) = digest.as_deref().and_then(known) {
                    return Ok(dated(&digest, Some(created), true));
                }
            }
            let manifest: Manifest = serde_json::from_slice(&reply.body).map_err(|e| {
                self.off_spec(format!(
                    "the registry {} sent a manifest of {repository}:{tag} that is not JSON: {e}",
                    self.registry
                ))
            })?;
            if let Some(created) = manifest
                .annotations
                .get(protocol::CREATED_ANNOTATION)
                .and_then(|t| protocol::parse_created(t))
            {
                return Ok(dated(&digest, Some(created), false));
            }
            if let Some(config) = manifest.config {
                let url = format!("{}/v2/{repository}/blobs/{}", self.base, config.digest);
                let what = format!("read the image config of {repository}:{tag}");
                let reply = self.get(&url, repository, None, &what).await?;
                if !(200..300).contains(&reply.status) {
                    return Err(self.unexpected(
                        repository,
                        &reply,
                        &format!("reading the image config of {tag}"),
                    ));
                }
                let config: protocol::ImageConfig = serde_json::from_slice(&reply.body)
                    .unwrap_or(protocol::ImageConfig { created: None });
                let created = config.created.as_deref().and_then(protocol::parse_created);
                return Ok(dated(&digest, created, false));
            }
            match manifest.manifests.first() {
                Some(first) => reference = first.digest.clone(),
                None => return Ok(dated(&digest, None, false)),
            }
        }
        Ok(dated(&digest, None, false))
    }

    /// A GET in `repository`'s scope, authenticating as a `401` asks (once).
    async fn get(
        &self,
        url: &str,
        repository: &str,
        accept: Option<&str>,
        what: &str,
    ) -> Result<Reply, Failure> {
        let mut challenged = false;
        loop {
            let auth = self.authorization(repository);
            let reply = self.send(url, accept, auth.as_deref(), None, what).await?;
            if reply.status != 401 || challenged {
                if reply.status == 401 || reply.status == 403 {
                    return Err(self.denied(repository, &reply));
                }
                return Ok(reply);
            }
            challenged = true;
            match reply
                .challenge
                .as_deref()
                .and_then(protocol::parse_challenge)
            {
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope,
                }) => {
                    let scope = scope.unwrap_or_else(|| format!("repository:{repository}:pull"));
                    let token = self
                        .token(&realm, service.as_deref(), &scope, repository)
                        .await?;
                    self.tokens
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(repository.to_owned(), token);
                }
                // An identity token is no password: never sent as basic.
                Some(Challenge::Basic) if self.password().is_some() => {
                    self.basic.store(true, Ordering::Relaxed);
                }
                _ => return Err(self.denied(repository, &reply)),
            }
        }
    }

    /// The `Authorization` value for a request in `repository`'s scope: its
    /// token, or the credentials once the registry asked for basic.
    fn authorization(&self, repository: &str) -> Option<String> {
        if let Some(token) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(repository)
        {
            return Some(format!("Bearer {token}"));
        }
        if self.basic.load(Ordering::Relaxed) {
            return self.password().map(Credentials::basic);
        }
        None
    }

    /// The credentials, when they are a user and password (not an identity
    /// token).
    fn password(&self) -> Option<&Credentials> {
        self.credentials.as_ref().filter(|c| !c.is_identity_token())
    }

    /// A token from the challenge's realm: `GET realm?service=…&scope=…`, with
    /// a user and password as basic when there are some; with an identity
    /// token, the OAuth2 refresh grant of the Distribution token spec
    /// (`docs/spec/auth/oauth.md`): `POST realm` with the form
    /// `grant_type=refresh_token`, `refresh_token`, `client_id`, `service` and
    /// `scope`, whose answer's `access_token` is the token.
    async fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        repository: &str,
    ) -> Result<String, Failure> {
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(self.off_spec(format!(
                "the registry {} asked for a token from `{}`, which is not an http(s) URL",
                self.registry,
                self.redact(realm)
            )));
        }
        let mut url = realm.to_owned();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (key, value) in [("service", service), ("scope", Some(scope))] {
            if let Some(value) = value {
                url.push(sep);
                url.push_str(key);
                url.push('=');
                url.push_str(&query_escape(value));
                sep = '&';
            }
        }
        // Credentials go in the clear to a token service on this machine only.
        let in_clear = realm.starts_with("http://")
            && !realm
                .parse::<Uri>()
                .ok()
                .and_then(|u| u.authority().map(|a| super::name::is_local(a.as_str())))
                .unwrap_or(false);
        let what = format!("get a token for {repository}");
        let identity = self.credentials.as_ref().filter(|c| c.is_identity_token());
        let reply = match identity {
            Some(c) if !in_clear => {
                let mut form = format!(
                    "grant_type=refresh_token&client_id=gitops&refresh_token={}",
                    query_escape(c.secret())
                );
                if let Some(service) = service {
                    form.push_str("&service=");
                    form.push_str(&query_escape(service));
                }
                form.push_str("&scope=");
                form.push_str(&query_escape(scope));
                self.send(realm, None, None, Some(&form), &what).await?
            }
            _ => {
                let basic = self
                    .password()
                    .filter(|_| !in_clear)
                    .map(Credentials::basic);
                self.send(&url, None, basic.as_deref(), None, &what).await?
            }
        };
        if reply.status == 401 || reply.status == 403 {
            return Err(self.denied(repository, &reply));
        }
        if !(200..300).contains(&reply.status) {
            return Err(self.unexpected(repository, &reply, "getting a token"));
        }
        serde_json::from_slice::<TokenAnswer>(&reply.body)
            .ok()
            .and_then(TokenAnswer::into_token)
            .ok_or_else(|| {
                self.off_spec(format!(
                    "the registry {}'s token service answered without a token",
                    self.registry
                ))
            })
    }

    /// Sends one GET (a POST of `form`, URL-encoded, when given) with retries:
    /// transport failures, timeouts, 5xx and 429 are retried with backoff (429
    /// and 503 after their `Retry-After`); any other answer is returned.
    async fn send(
        &self,
        url: &str,
        accept: Option<&str>,
        auth: Option<&str>,
        form: Option<&str>,
        what: &str,
    ) -> Result<Reply, Failure> {
        self.retry
            .run(|_, limit| async move {
                let Ok(_permit) = self.limit.acquire().await else {
                    return Attempt::Done(Err(
                        self.off_spec(format!("the requests to {} were stopped", self.registry))
                    ));
                };
                self.requests.fetch_add(1, Ordering::Relaxed);
                match tokio::time::timeout(limit, self.send_once(url, accept, auth, form)).await {
                    Err(_) => Attempt::Retry(Failed::Transport(no_answer(limit)), None),
                    Ok(Err(cause)) => Attempt::Retry(Failed::Transport(cause), None),
                    Ok(Ok(reply)) if reply.status >= 500 || reply.status == 429 => {
                        let wait = reply.retry_after;
                        Attempt::Retry(Failed::Reply(reply), wait)
                    }
                    Ok(Ok(reply)) => Attempt::Done(Ok(reply)),
                }
            })
            .await
            .unwrap_or_else(|gave_up| {
                Err(self.give_up(gave_up.failed, gave_up.attempts, gave_up.wait, what))
            })
    }

    async fn send_once(
        &self,
        url: &str,
        accept: Option<&str>,
        auth: Option<&str>,
        form: Option<&str>,
    ) -> Result<Reply, String> {
        let request = match form {
            None => Request::get(url),
            Some(_) => Request::post(url).header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            ),
        };
        let body = form.map_or_else(Body::empty, |f| Body::from(f.as_bytes().to_vec()));
        let mut request = request
            .header(
                USER_AGENT,
                HeaderValue::from_static(concat!("gitops/", env!("CARGO_PKG_VERSION"))),
            )
            .body(body)
            .map_err(|e| format!("`{}` is not a URL: {e}", self.redact(url)))?;
        let headers = request.headers_mut();
        headers.insert(
            ACCEPT,
            HeaderValue::from_str(accept.unwrap_or("application/json"))
                .unwrap_or(HeaderValue::from_static("*/*")),
        );
        if let Some(value) = auth.and_then(secret_header) {
            headers.insert(AUTHORIZATION, value);
        }
        let answer = self.http.exchange(request, MAX_BODY).await?;
        let text = |name| answer.header(name);
        let (challenge, link) = (text("www-authenticate"), text("link"));
        let digest = text("docker-content-digest");
        let retry_after = answer.retry_after();
        Ok(Reply {
            status: answer.status,
            reason: answer.reason,
            challenge,
            link,
            retry_after,
            digest,
            body: answer.body,
        })
    }

    /// `text` with every secret gitops holds for this registry cut out.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let mut secrets: Vec<String> = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        if let Some(c) = &self.credentials {
            secrets.push(c.secret().to_owned());
            secrets.push(c.basic().trim_start_matches("Basic ").to_owned());
        }
        for secret in secrets.iter().filter(|s| s.len() >= 3) {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }

    fn detail(&self, reply: &Reply) -> String {
        let status = format!("{} {}", reply.status, reply.reason);
        match protocol::error_summary(&reply.body) {
            Some(summary) => format!("{status} ({})", self.redact(&summary)),
            None => status,
        }
    }

    fn login_hint(&self) -> String {
        match &self.credentials {
            Some(c) => format!(
                "the credentials from {} were refused: log in again (`docker login {}`), or check that they may pull this repository",
                c.source, self.registry
            ),
            None => format!(
                "log in with `docker login {}` or `podman login {}`: gitops reads ~/.docker/config.json, $DOCKER_CONFIG and $REGISTRY_AUTH_FILE, and their credential helpers",
                self.registry, self.registry
            ),
        }
    }

    fn denied(&self, repository: &str, reply: &Reply) -> Failure {
        let who = match &self.credentials {
            Some(c) => format!("the credentials from {}", c.source),
            None => "anonymous access".to_owned(),
        };
        remote(format!(
            "the registry {} refused {who} to {repository}: {}",
            self.registry,
            self.detail(reply)
        ))
        .hint(self.login_hint())
    }

    fn not_found(&self, repository: &str, reply: &Reply) -> Failure {
        refused(format!(
            "the registry {} has no repository {repository}: {}",
            self.registry,
            self.detail(reply)
        ))
        .hint("check the image name (as written in the manifests, with its registry host)")
    }

    fn unexpected(&self, repository: &str, reply: &Reply, doing: &str) -> Failure {
        self.off_spec(format!(
            "the registry {} failed {doing} of {repository}: {}",
            self.registry,
            self.detail(reply)
        ))
    }

    /// The registry answered, but not as the Distribution API says (exit 3).
    fn off_spec(&self, message: String) -> Failure {
        remote(message).hint(format!(
            "the registry {} may be misconfigured or having trouble; run the command again later, or tell its operators",
            self.registry
        ))
    }

    /// The error for a call whose last try failed.
    fn give_up(&self, failed: Failed, attempts: u32, wait: Duration, what: &str) -> Failure {
        let tries = if attempts == 1 {
            String::new()
        } else {
            format!(" after {attempts} attempts")
        };
        match failed {
            Failed::Transport(cause) => remote(format!(
                "could not reach the registry {} ({}){tries}: {}",
                self.registry,
                self.base,
                self.redact(&cause)
            ))
            .hint(match &self.proxy {
                None => "check the network and the image's registry host, then run the command again".to_owned(),
                Some(proxy) => format!("check the network and the proxy {proxy} (HTTPS_PROXY, HTTP_PROXY; NO_PROXY lists the hosts reached directly), then run the command again"),
            }),
            Failed::Reply(reply) if reply.status == 429 => remote(format!(
                "the registry {} limited the requests to {what}{tries} ({}); it asked to wait {} s",
                self.registry,
                self.detail(&reply),
                wait.as_secs()
            ))
            .hint(format!(
                "wait and run the command again, or lower {CONCURRENCY_VAR}; logged-in pulls often have higher limits"
            )),
            Failed::Reply(reply) => remote(format!(
                "the registry {} failed to {what}{tries}: {}",
                self.registry,
                self.detail(&reply)
            ))
            .hint("the registry may be having trouble; run the command again later"),
        }
    }
}

/// The registry and where its credentials came from; never their value
/// ([`Credentials`]' own `Debug`), nor any token.
impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

/// The cap `value` (of [`CONCURRENCY_VAR`]) sets: a whole number from 1 to
/// 256; `None` (unset) is the default.
pub fn parse_concurrency(value: Option<&str>) -> Result<usize, Failure> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(DEFAULT_CONCURRENCY);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(refused(format!(
            "{CONCURRENCY_VAR} must be a whole number from 1 to 256, not `{}`",
            value.chars().take(40).collect::<String>()
        ))
        .hint(format!("unset it for the default ({DEFAULT_CONCURRENCY})"))),
    }
}

/// `text` percent-encoded for a URL's query: unreserved characters, `:` and
/// `/` (which scopes are made of) as they are.
fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_and_query_escapes() {
        assert_eq!(parse_concurrency(None).unwrap(), DEFAULT_CONCURRENCY);
        assert_eq!(parse_concurrency(Some(" 2 ")).unwrap(), 2);
        for bad in ["0", "x", "-1", "1000"] {
            assert!(parse_concurrency(Some(bad))
                .unwrap_err()
                .message
                .starts_with(CONCURRENCY_VAR));
        }
        assert_eq!(
            query_escape("repository:shop/cart:pull,push"),
            "repository:shop/cart:pull%2Cpush"
        );
        assert_eq!(query_escape("a b&c"), "a%20b%26c");
    }

    #[test]
    fn secrets_are_cut_out_of_messages() {
        let location = super::super::name::locate("127.0.0.1:5000/shop/cart").unwrap();
        let r = Registry::new(
            &location,
            Some(Credentials::new(
                "ci",
                "s3cr3t-pass",
                "~/.docker/config.json",
            )),
            RetryPolicy::default(),
            2,
        )
        .unwrap();
        r.tokens
            .lock()
            .unwrap()
            .insert("shop/cart".into(), "tok-123456".into());
        let basic = Credentials::new("ci", "s3cr3t-pass", "x").basic();
        let text = format!("echo s3cr3t-pass tok-123456 {basic}");
        let shown = r.redact(&text);
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("tok-1"),
            "{shown}"
        );
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }
}

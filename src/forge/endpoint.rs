//! What every forge client keeps and says the same way: its API's address and
//! the proxy it is reached through, the token and where it came from (never
//! the value), the project and where its name came from, the retry policy and
//! the count of requests sent.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::Uri;

use super::{origin_of, Kind, RepoId, RepoSource, Token, TokenSource};
use crate::error::{refused, remote, Failure};
use crate::http::{Http, RetryPolicy};

pub(crate) struct Endpoint {
    pub kind: Kind,
    pub http: &'static Http,
    /// The proxy the API is reached through (`HTTPS_PROXY`, …), for messages.
    pub proxy: Option<String>,
    /// No trailing slash.
    pub api_base: String,
    /// `scheme://authority` of the API.
    pub origin: Uri,
    pub token: Token,
    pub token_source: TokenSource,
    pub repo: RepoId,
    pub repo_source: RepoSource,
    pub retry: RetryPolicy,
    requests: AtomicUsize,
    /// The variable that overrides the API's address (`GITHUB_API_URL`,
    /// `CI_API_V4_URL`), named in hints.
    api_var: &'static str,
}

impl Endpoint {
    /// Checks the token (it goes into a header) and the API URL (`api_base`,
    /// overridden by the variable `api_var`), and reaches for the process's
    /// HTTP client. Retries follow [`RetryPolicy::from_env`].
    pub fn new(
        kind: Kind,
        (api_base, api_var): (&str, &'static str),
        (token, token_source): (Token, TokenSource),
        (repo, repo_source): (RepoId, RepoSource),
    ) -> Result<Endpoint, Failure> {
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refused(format!(
                "the token from {token_source} is not a {kind} token: it contains spaces or control characters"
            ))
            .hint(token_hint(kind, token_source, &repo.host)));
        }
        let api_base = api_base.trim_end_matches('/').to_owned();
        let bad_url = || {
            refused(format!(
                "the {kind} API URL `{api_base}` is not an http(s) URL"
            ))
            .hint(format!("check {api_var}"))
        };
        let origin: Uri = origin_of(&api_base)
            .ok_or_else(bad_url)?
            .parse()
            .map_err(|_| bad_url())?;
        let (http, proxy) = crate::http::connect(&origin, &api_base)?;
        Ok(Endpoint {
            kind,
            http,
            proxy,
            api_base,
            origin,
            token,
            token_source,
            repo,
            repo_source,
            retry: RetryPolicy::from_env(|k| std::env::var(k).ok()),
            requests: AtomicUsize::new(0),
            api_var,
        })
    }

    /// Counts one request sent.
    pub fn sent(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// `text` without the token.
    pub fn redact(&self, text: &str) -> String {
        self.token.redact(text)
    }

    /// " after 3 attempts", or nothing for one.
    pub fn tries(attempts: u32) -> String {
        if attempts == 1 {
            String::new()
        } else {
            format!(" after {attempts} attempts")
        }
    }

    /// The forge could not be reached: the cause, and the proxy when there is one.
    pub fn unreachable(&self, cause: &str, attempts: u32) -> Failure {
        remote(format!(
            "could not reach {} at {}{}: {}",
            self.kind,
            self.api_base,
            Endpoint::tries(attempts),
            self.redact(cause)
        ))
        .hint(match &self.proxy {
            None => format!(
                "check the network (and {} when it is set), then run the command again",
                self.api_var
            ),
            Some(proxy) => format!("check the network and the proxy {proxy} (HTTPS_PROXY, HTTP_PROXY; NO_PROXY lists the hosts reached directly), then run the command again"),
        })
    }

    /// What to do about a rejected token.
    pub fn token_hint(&self) -> String {
        token_hint(self.kind, self.token_source, &self.repo.host)
    }

    /// What to check when the forge does not know the project (it answers 404
    /// for one the token may not see, too).
    pub fn repo_hint(&self) -> String {
        let fix = match self.repo_source {
            RepoSource::Config => {
                format!("check {}.repository in .gitops.yaml", self.kind.as_str())
            }
            RepoSource::Origin => format!(
                "check `git remote get-url origin`, or set {}.repository in .gitops.yaml",
                self.kind.as_str()
            ),
            RepoSource::CiProjectPath => "check CI_PROJECT_PATH".to_owned(),
        };
        format!(
            "{fix}; {} also answers 404 when the token from {} cannot see {}",
            self.kind, self.token_source, self.repo
        )
    }

    /// Where the project's name came from, said for this forge.
    pub fn source(&self) -> String {
        self.repo_source.describe(self.kind)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("kind", &self.kind)
            .field("api_base", &self.api_base)
            .field("proxy", &self.proxy)
            .field("token", &self.token)
            .field("token_source", &self.token_source)
            .field("repo", &self.repo)
            .field("repo_source", &self.repo_source)
            .field("requests", &self.requests())
            .finish()
    }
}

/// What to do about a token the forge rejected: set the variable it came from
/// to a valid one (with GitLab's `api` scope), or log in with the forge's CLI.
fn token_hint(kind: Kind, source: TokenSource, host: &str) -> String {
    let (login, scope) = match kind {
        Kind::GitHub => ("gh", ""),
        Kind::GitLab => ("glab", " with the `api` scope"),
    };
    match source {
        TokenSource::Env(var) => format!(
            "set {var} to a valid token{scope}, or unset it and run `{login} auth login --hostname {host}`"
        ),
        TokenSource::GhCli | TokenSource::GlabCli => {
            format!("run `{login} auth login --hostname {host}`")
        }
    }
}

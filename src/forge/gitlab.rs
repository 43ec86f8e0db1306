//! GitLab (gitlab.com and self-managed): merge requests, labels, reviewers,
//! merge when the pipeline succeeds, pipelines and protected branches, over
//! the REST API v4 (`https://HOST/api/v4`, or `CI_API_V4_URL` in GitLab CI).
//!
//! The project is named by its URL-encoded path (`shop%2Fteam%2Fconfig`), so
//! subgroups need nothing more. The token (`GITLAB_TOKEN`,
//! `GITLAB_ACCESS_TOKEN`, `OAUTH_TOKEN`, then `glab`'s stored token) goes in
//! `Authorization: Bearer`, which GitLab takes for personal, project, group and
//! OAuth tokens alike; `CI_JOB_TOKEN` cannot open merge requests and is refused
//! with what to set instead.
//!
//! Every call goes through [`GitLab::call`] over the process's one HTTP client
//! ([`crate::http`]): retried with backoff on transport failures and 5xx, after
//! `Retry-After` (or `RateLimit-Reset`) on 429, counted, and turned into
//! [`Failure`](crate::error::Failure)s (exit 3; 2 for a refused setup) that
//! never contain the token.

use std::time::Duration;

use anyhow::Result;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::Request;
use serde::Deserialize;
use serde_json::{json, Value};

use super::endpoint::Endpoint;
use super::{
    encode, now_epoch, when, AutoMerge, Change, ChangeChecks, Forge, Kind, Located, NewChange,
    Project, Protection, RepoId, RepoSource, Token, TokenSource,
};
use crate::error::{refused, remote, Failure};
use crate::http::{no_answer, secret_header, Answer, Attempt, Body, RetryPolicy};

/// An answer larger than this is not GitLab's.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// GitLab's Developer role (access level 30).
const DEVELOPER: u64 = 30;

/// GitLab's prefix for a draft's title.
const DRAFT: &str = "Draft: ";

/// The token variables, in order.
const TOKEN_VARS: [&str; 3] = ["GITLAB_TOKEN", "GITLAB_ACCESS_TOKEN", "OAUTH_TOKEN"];

/// The token for `host`: the first of [`TOKEN_VARS`] set, else what `glab`
/// prints for the host ([`glab_token`]). `env` and `glab` are injected.
pub fn discover_token(
    host: &str,
    env: impl Fn(&str) -> Option<String>,
    glab: impl Fn(&str) -> Option<String>,
) -> Option<(Token, TokenSource)> {
    super::discover(&TOKEN_VARS, env, || glab(host), TokenSource::GlabCli)
}

/// The token `glab` keeps for `host`: `glab auth token --hostname HOST` where
/// glab has that command, else `glab config get token --host HOST` (glab's
/// documented way to print a stored setting); `None` when glab is not
/// installed, knows no token for the host, or prints nothing.
pub fn glab_token(host: &str) -> Option<String> {
    let quiet = [("NO_PROMPT", "1"), ("GLAB_NO_PROMPT", "1")];
    super::cli_token("glab", &["auth", "token", "--hostname", host], &quiet)
        .or_else(|| super::cli_token("glab", &["config", "get", "token", "--host", host], &quiet))
}

/// The API base: `CI_API_V4_URL` when set (GitLab CI), else
/// `https://HOST/api/v4`. No trailing slash.
pub fn api_base(host: &str, ci_api_v4_url: Option<&str>) -> String {
    match ci_api_v4_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}/api/v4", host.to_ascii_lowercase()),
    }
}

/// GitLab's pipeline status as the checks `status` reports: `success`,
/// `failure`, `error` (canceled) or `pending` (anything still to run).
pub fn checks_state(pipeline: &str) -> &'static str {
    match pipeline {
        "success" => "success",
        "failed" => "failure",
        "canceled" | "canceling" => "error",
        "skipped" => "success",
        _ => "pending",
    }
}

/// The approvals a branch needs: the largest `approvals_required` of the rules
/// that apply to it (a rule for every branch, for all protected branches, or
/// naming it).
pub fn approvals_for(rules: &[Value], branch: &str) -> u64 {
    rules
        .iter()
        .filter(|rule| {
            let named: Vec<&str> = rule
                .get("protected_branches")
                .and_then(Value::as_array)
                .map(|b| {
                    b.iter()
                        .filter_map(|b| b.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            rule.get("applies_to_all_protected_branches")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || named.is_empty()
                || named.contains(&branch)
        })
        .filter_map(|rule| rule.get("approvals_required").and_then(Value::as_u64))
        .max()
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Answers

#[derive(Deserialize)]
struct RawMr {
    iid: u64,
    web_url: String,
    state: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    draft: Option<bool>,
    #[serde(default)]
    work_in_progress: Option<bool>,
    id: u64,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    author: Option<RawUser>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    reviewers: Vec<RawUser>,
    #[serde(default)]
    merge_when_pipeline_succeeds: Option<bool>,
    #[serde(default)]
    head_pipeline: Option<RawPipeline>,
    #[serde(default)]
    source_project_id: Option<u64>,
    #[serde(default)]
    target_project_id: Option<u64>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(default)]
    id: Option<u64>,
    username: String,
}

#[derive(Deserialize)]
struct RawPipeline {
    status: String,
}

impl RawMr {
    fn into_change(self) -> Change {
        let draft = self.draft.or(self.work_in_progress).unwrap_or(false);
        let title = match self.title.strip_prefix(DRAFT) {
            Some(rest) if draft => rest.to_owned(),
            _ => self.title,
        };
        Change {
            number: self.iid,
            url: self.web_url,
            state: neutral_state(&self.state).to_owned(),
            title,
            body: self.description.unwrap_or_default(),
            draft,
            id: self.id.to_string(),
            head_sha: self.sha.unwrap_or_default(),
            author: self.author.map(|u| u.username).unwrap_or_default(),
            labels: self.labels,
            auto_merge: self.merge_when_pipeline_succeeds.unwrap_or(false),
        }
    }
}

/// GitLab's `opened` is everybody else's `open`.
fn neutral_state(state: &str) -> &str {
    match state {
        "opened" => "open",
        other => other,
    }
}

/// What a call was doing, for errors.
#[derive(Clone, Copy)]
enum Scope {
    /// Anything under /projects/ID: a 404 means the project.
    Project,
    /// A numbered merge request.
    MergeRequest(u64),
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
}

struct Reply {
    status: u16,
    reason: &'static str,
    retry_after: Option<Duration>,
    remaining: Option<u64>,
    reset: Option<u64>,
    body: String,
}

impl Reply {
    fn from_answer(answer: Answer) -> Reply {
        let number = |name: &str| answer.header(name).and_then(|v| v.parse::<u64>().ok());
        Reply {
            status: answer.status,
            reason: answer.reason,
            retry_after: answer.retry_after(),
            remaining: number("ratelimit-remaining"),
            reset: number("ratelimit-reset"),
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        }
    }

    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// GitLab's `message` (a string, a list, or fields with their messages)
    /// or `error`, as one phrase; the status' reason when the body has none.
    fn message(&self) -> String {
        let value: Option<Value> = serde_json::from_str(&self.body).ok();
        let text = value.as_ref().and_then(|v| {
            let m = v.get("message").or_else(|| v.get("error"))?;
            Some(match m {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("; "),
                Value::Object(fields) => fields
                    .iter()
                    .map(|(field, why)| {
                        let why = match why {
                            Value::Array(items) => items
                                .iter()
                                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                                .collect::<Vec<_>>()
                                .join(", "),
                            other => other
                                .as_str()
                                .map_or_else(|| other.to_string(), str::to_owned),
                        };
                        format!("{field} {why}")
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            })
        });
        text.filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| format!("{} {}", self.status, self.reason))
    }
}

enum Failed {
    Transport(String),
    Reply(Reply),
}

// ---------------------------------------------------------------------------
// The client

/// A client for one GitLab project. Methods block.
#[derive(Debug)]
pub struct GitLab {
    ep: Endpoint,
}

impl GitLab {
    /// A client for `repo` at `api_base` (see [`api_base`]). Retries follow
    /// [`RetryPolicy::from_env`].
    pub fn new(
        api_base: &str,
        token: Token,
        token_source: TokenSource,
        repo: RepoId,
        repo_source: RepoSource,
    ) -> Result<GitLab, Failure> {
        let ep = Endpoint::new(
            Kind::GitLab,
            (api_base, "CI_API_V4_URL"),
            (token, token_source),
            (repo, repo_source),
        )?;
        Ok(GitLab { ep })
    }

    /// The client for `located` as `env` configures it (`CI_API_V4_URL`, the
    /// token variables, `glab`); `None` when there is no token. Only
    /// `CI_JOB_TOKEN` is refused: it cannot open merge requests.
    pub fn from_env(
        located: &Located,
        env: impl Fn(&str) -> Option<String>,
        glab: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<GitLab>, Failure> {
        let host = &located.repo.host;
        let Some((token, source)) = discover_token(host, &env, glab) else {
            if env("CI_JOB_TOKEN").is_some_and(|t| !t.trim().is_empty()) {
                return Err(refused(
                    "GitLab CI's CI_JOB_TOKEN cannot open or update merge requests, and no other GitLab token is set",
                )
                .hint("add a project access token with the `api` scope as a masked CI/CD variable named GITLAB_TOKEN"));
            }
            return Ok(None);
        };
        let api = api_base(host, env("CI_API_V4_URL").as_deref());
        GitLab::new(&api, token, source, located.repo.clone(), located.source).map(Some)
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> GitLab {
        self.ep.retry = retry;
        self
    }

    pub fn api_base(&self) -> &str {
        &self.ep.api_base
    }

    // -- calls ---------------------------------------------------------------

    /// The open merge request from `head` (in this project) into `base`: one
    /// filtered list.
    fn find(&self, head: &str, base: &str) -> Result<Option<RawMr>> {
        let what = format!("look for the open merge request from {head} into {base}");
        let url = format!(
            "{}?state=opened&source_branch={}&target_branch={}",
            self.project_url("/merge_requests"),
            encode(head),
            encode(base)
        );
        let reply = self.call(Method::Get, &url, None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Project)?;
        let list: Vec<RawMr> = self.parse(&reply, &what)?;
        // A fork's merge request from a branch of the same name is someone
        // else's: never adopted, never retitled.
        Ok(list
            .into_iter()
            .find(|mr| mr.source_project_id == mr.target_project_id))
    }

    /// The merge request `iid` (with its head pipeline).
    fn get(&self, iid: u64) -> Result<RawMr> {
        let what = format!("read merge request !{iid}");
        let url = self.project_url(&format!("/merge_requests/{iid}"));
        let reply = self.call(Method::Get, &url, None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::MergeRequest(iid))?;
        self.parse(&reply, &what)
    }

    fn update(&self, iid: u64, payload: &Value, what: &str) -> Result<RawMr> {
        let url = self.project_url(&format!("/merge_requests/{iid}"));
        let reply = self.call(Method::Put, &url, Some(payload), what)?;
        let reply = self.expect_ok(reply, what, Scope::MergeRequest(iid))?;
        self.parse(&reply, what)
    }

    /// The id of the user named `username`; `None` when GitLab has none.
    fn user_id(&self, username: &str) -> Result<Option<u64>> {
        let what = format!("look up the GitLab user {username}");
        let url = format!("{}/users?username={}", self.ep.api_base, encode(username));
        let reply = self.call(Method::Get, &url, None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Project)?;
        let users: Vec<RawUser> = self.parse(&reply, &what)?;
        Ok(users
            .into_iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .and_then(|u| u.id))
    }

    // -- plumbing ------------------------------------------------------------

    fn project_url(&self, rest: &str) -> String {
        format!(
            "{}/projects/{}{rest}",
            self.ep.api_base,
            encode(&self.ep.repo.to_string())
        )
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, reply: &Reply, what: &str) -> Result<T> {
        serde_json::from_str(&reply.body).map_err(|e| {
            remote(format!(
                "could not {what}: GitLab's answer was not understood ({e})"
            ))
            .hint(format!(
                "check that {} is a GitLab API (v4)",
                self.ep.api_base
            ))
            .into()
        })
    }

    /// Sends one request with retries: transport failures, timeouts and 5xx
    /// with backoff, 429 after what GitLab asks (`Retry-After`, else
    /// `RateLimit-Reset`). Returns the first other answer.
    fn call(&self, method: Method, url: &str, body: Option<&Value>, what: &str) -> Result<Reply> {
        self.ep
            .http
            .runtime
            .block_on(self.ep.retry.run(|attempt, limit| async move {
                self.ep.sent();
                match tokio::time::timeout(limit, self.send(method, url, body)).await {
                    Err(_) => Attempt::Retry(Failed::Transport(no_answer(limit)), None),
                    Ok(Err(cause)) => Attempt::Retry(Failed::Transport(cause), None),
                    Ok(Ok(reply)) if reply.status >= 500 => {
                        let wait = reply.retry_after;
                        Attempt::Retry(Failed::Reply(reply), wait)
                    }
                    Ok(Ok(reply)) if reply.status == 429 => {
                        let wait = reply
                            .retry_after
                            .or_else(|| {
                                reply
                                    .reset
                                    .map(|r| Duration::from_secs(r.saturating_sub(now_epoch())))
                            })
                            .unwrap_or_else(|| self.ep.retry.backoff(attempt));
                        Attempt::Retry(Failed::Reply(reply), Some(wait))
                    }
                    Ok(Ok(reply)) => Attempt::Done(reply),
                }
            }))
            .map_err(|gave_up| self.give_up(gave_up.failed, gave_up.attempts, gave_up.wait, what))
    }

    async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Result<Reply, String> {
        let builder = match method {
            Method::Get => Request::get(url),
            Method::Post => Request::post(url),
            Method::Put => Request::put(url),
        };
        let payload = body.map_or_else(Body::empty, |b| Body::from(b.to_string().into_bytes()));
        let mut request = builder
            .header(
                USER_AGENT,
                HeaderValue::from_static(concat!("gitops/", env!("CARGO_PKG_VERSION"))),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(payload)
            .map_err(|e| format!("`{}` is not a URL: {e}", self.ep.redact(url)))?;
        if body.is_some() {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(value) = secret_header(&format!("Bearer {}", self.ep.token.expose())) {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let answer = self.ep.http.exchange(request, MAX_BODY).await?;
        Ok(Reply::from_answer(answer))
    }

    fn give_up(&self, failed: Failed, attempts: u32, wait: Duration, what: &str) -> anyhow::Error {
        let tries = Endpoint::tries(attempts);
        let failure = match failed {
            Failed::Transport(cause) => self.ep.unreachable(&cause, attempts),
            Failed::Reply(reply) if reply.status == 429 => {
                let at = now_epoch() + wait.as_secs();
                let reset = reply.reset.filter(|r| reply.remaining == Some(0) && *r > 0);
                let (wait, at) = match reset {
                    Some(r) => (Duration::from_secs(r.saturating_sub(now_epoch())), r),
                    None => (wait, at),
                };
                remote(format!(
                    "GitLab's rate limit stopped the requests for the token from {}{tries}; it lets them through again {}",
                    self.ep.token_source,
                    when(wait, at)
                ))
                .hint("wait for it and run the command again")
            }
            Failed::Reply(reply) => remote(format!(
                "GitLab failed to {what}: {} {}{tries}",
                reply.status, reply.reason
            ))
            .hint("GitLab may be having trouble; run the command again later"),
        };
        failure.into()
    }

    fn expect_ok(&self, reply: Reply, what: &str, scope: Scope) -> Result<Reply> {
        if reply.ok() {
            return Ok(reply);
        }
        let message = self.ep.redact(&reply.message());
        let failure = match reply.status {
            401 => remote(format!(
                "GitLab rejected the token from {} ({message})",
                self.ep.token_source
            ))
            .hint(self.ep.token_hint()),
            403 => remote(format!("GitLab refused to {what}: {message}")).hint(format!(
                "the token from {} needs the `api` scope and at least the Developer role on {}",
                self.ep.token_source, self.ep.repo
            )),
            404 => match scope {
                Scope::Project => remote(format!(
                    "project {} not found on GitLab at {} ({})",
                    self.ep.repo,
                    self.ep.repo.host,
                    self.ep.source()
                ))
                .hint(self.ep.repo_hint()),
                Scope::MergeRequest(iid) => remote(format!(
                    "merge request !{iid} not found in {} ({})",
                    self.ep.repo,
                    self.ep.source()
                ))
                .hint(self.ep.repo_hint()),
            },
            _ => remote(format!(
                "GitLab refused to {what}: {message} ({} {})",
                reply.status, reply.reason
            ))
            .hint("fix what GitLab names above and run the command again"),
        };
        Err(failure.into())
    }
}

impl Forge for GitLab {
    fn kind(&self) -> Kind {
        Kind::GitLab
    }

    fn repo(&self) -> &RepoId {
        &self.ep.repo
    }

    fn requests(&self) -> usize {
        self.ep.requests()
    }

    fn project(&self) -> Result<Project> {
        let what = format!("read project {}", self.ep.repo);
        let reply = self.call(Method::Get, &self.project_url(""), None, &what)?;
        let reply = self.expect_ok(reply, &what, Scope::Project)?;
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            default_branch: Option<String>,
            web_url: String,
        }
        let raw: Raw = self.parse(&reply, &what)?;
        Ok(Project {
            default_branch: raw.default_branch.unwrap_or_default(),
            web_url: raw.web_url,
        })
    }

    fn find_open(&self, head: &str, base: &str) -> Result<Option<Change>> {
        Ok(self.find(head, base)?.map(RawMr::into_change))
    }

    fn open(&self, new: &NewChange) -> Result<Change> {
        let what = format!("open the merge request from {} into {}", new.head, new.base);
        let title = if new.draft {
            format!("{DRAFT}{}", new.title)
        } else {
            new.title.to_owned()
        };
        let payload = json!({
            "source_branch": new.head,
            "target_branch": new.base,
            "title": title,
            "description": new.body,
        });
        let url = self.project_url("/merge_requests");
        let reply = self.call(Method::Post, &url, Some(&payload), &what)?;
        // A rerun, or a retried create that had in fact succeeded.
        if reply.status == 409 && reply.message().contains("already exists") {
            if let Some(mr) = self.find(new.head, new.base)? {
                return Ok(mr.into_change());
            }
        }
        let reply = self.expect_ok(reply, &what, Scope::Project)?;
        Ok(self.parse::<RawMr>(&reply, &what)?.into_change())
    }

    fn retitle(&self, change: &Change, title: &str, body: &str) -> Result<Change> {
        let title = if change.draft {
            format!("{DRAFT}{title}")
        } else {
            title.to_owned()
        };
        let payload = json!({ "title": title, "description": body });
        let what = format!("update merge request !{}", change.number);
        Ok(self.update(change.number, &payload, &what)?.into_change())
    }

    fn add_labels(&self, change: &Change, labels: &[String]) -> Result<()> {
        let missing: Vec<&str> = labels
            .iter()
            .filter(|l| !change.labels.contains(l))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let what = format!("label merge request !{}", change.number);
        let payload = json!({ "add_labels": missing.join(",") });
        self.update(change.number, &payload, &what)?;
        Ok(())
    }

    /// People by username (resolved to ids, one lookup each); GitLab asks no
    /// groups for reviews, so `group/name` entries are skipped and named in
    /// what is returned, as are unknown users.
    fn request_reviewers(&self, change: &Change, reviewers: &[String]) -> Result<Vec<String>> {
        let mut skipped = Vec::new();
        let mut ids = Vec::new();
        for name in reviewers {
            if name.contains('/') {
                skipped.push(format!(
                    "{name}: GitLab asks people for reviews, not groups"
                ));
                continue;
            }
            match self.user_id(name)? {
                Some(id) => ids.push(id),
                None => skipped.push(format!("{name}: no such GitLab user")),
            }
        }
        if ids.is_empty() {
            return Ok(skipped);
        }
        // reviewer_ids replaces the list: keep whoever is asked already.
        let current = self.get(change.number)?;
        for user in current.reviewers {
            if let Some(id) = user.id.filter(|id| !ids.contains(id)) {
                ids.push(id);
            }
        }
        let what = format!("request reviews on merge request !{}", change.number);
        self.update(change.number, &json!({ "reviewer_ids": ids }), &what)?;
        Ok(skipped)
    }

    /// "Merge when the pipeline succeeds" (`auto_merge`, and its older name
    /// `merge_when_pipeline_succeeds`, which GitLab still reads). A merge
    /// request GitLab cannot set it on (405, 406, 409, 422: a draft, conflicts,
    /// a project that needs a pipeline it does not have) is an answer; one it
    /// merged at once (nothing to wait for) too.
    fn enable_auto_merge(&self, change: &Change) -> Result<AutoMerge> {
        let what = format!(
            "set merge request !{} to merge when the pipeline succeeds",
            change.number
        );
        let url = self.project_url(&format!("/merge_requests/{}/merge", change.number));
        let payload = json!({ "auto_merge": true, "merge_when_pipeline_succeeds": true });
        let reply = self.call(Method::Put, &url, Some(&payload), &what)?;
        if matches!(reply.status, 405 | 406 | 409 | 422) {
            return Ok(AutoMerge::NotAllowed(self.ep.redact(&reply.message())));
        }
        let reply = self.expect_ok(reply, &what, Scope::MergeRequest(change.number))?;
        let mr: RawMr = self.parse(&reply, &what)?;
        Ok(if mr.state == "merged" {
            AutoMerge::Clean("GitLab merged it at once".to_owned())
        } else {
            AutoMerge::Enabled
        })
    }

    /// The open merge request (one filtered list) and its head pipeline (one
    /// read of it): two requests, one when there is none.
    fn open_with_checks(&self, head: &str, base: &str) -> Result<Option<ChangeChecks>> {
        let Some(found) = self.find(head, base)? else {
            return Ok(None);
        };
        let mr = self.get(found.iid)?;
        let checks = mr
            .head_pipeline
            .as_ref()
            .map(|p| checks_state(&p.status).to_owned());
        let change = mr.into_change();
        Ok(Some(ChangeChecks {
            number: change.number,
            url: change.url,
            state: change.state,
            draft: change.draft,
            checks,
            forge: Kind::GitLab,
        }))
    }

    /// The protected branch (404: not protected) and the approval rules that
    /// apply to it; a project whose tier has no approval rules (403, 404)
    /// requires none.
    fn protection(&self, branch: &str) -> Result<Option<Protection>> {
        let what = format!("read the protection of branch {branch}");
        let url = self.project_url(&format!("/protected_branches/{}", encode(branch)));
        let reply = self.call(Method::Get, &url, None, &what)?;
        if reply.status == 404 {
            // GitLab's 404 for an unprotected branch and for an unknown project
            // differ only in words: ask the project when in doubt.
            if !reply.message().to_ascii_lowercase().contains("project") {
                return Ok(None);
            }
        }
        let reply = self.expect_ok(reply, &what, Scope::Project)?;
        let rule: Value = self.parse(&reply, &what)?;
        let levels = rule
            .get("push_access_levels")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let push = levels
            .iter()
            .filter_map(|l| l.get("access_level_description").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        // Roles: 30 Developer, 40 Maintainer, 0 no one (a user or group entry
        // has no role, and names someone on purpose).
        let push_skips_review = levels.iter().any(|l| {
            l.get("access_level")
                .and_then(Value::as_u64)
                .is_some_and(|role| (1..=DEVELOPER).contains(&role))
        });
        let what = "read the approval rules".to_owned();
        let reply = self.call(
            Method::Get,
            &self.project_url("/approval_rules"),
            None,
            &what,
        )?;
        let required = if matches!(reply.status, 403 | 404) {
            0
        } else {
            let reply = self.expect_ok(reply, &what, Scope::Project)?;
            let rules: Vec<Value> = self.parse(&reply, &what)?;
            approvals_for(&rules, branch)
        };
        Ok(Some(Protection {
            required_approvals: required,
            push,
            push_skips_review,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn token_order() {
        let all = [
            ("GITLAB_TOKEN", "a"),
            ("GITLAB_ACCESS_TOKEN", "b"),
            ("OAUTH_TOKEN", "c"),
        ];
        let source = |vars: &[(&str, &str)], glab: Option<&str>| {
            let glab = glab.map(str::to_owned);
            discover_token("gitlab.com", env(vars), |_| glab.clone()).map(|(_, s)| s)
        };
        use TokenSource::*;
        assert_eq!(source(&all, Some("g")), Some(Env("GITLAB_TOKEN")));
        assert_eq!(
            source(&all[1..], Some("g")),
            Some(Env("GITLAB_ACCESS_TOKEN"))
        );
        assert_eq!(source(&all[2..], Some("g")), Some(Env("OAUTH_TOKEN")));
        assert_eq!(source(&[("GITLAB_TOKEN", " ")], Some("g\n")), Some(GlabCli));
        assert_eq!(source(&[("GH_TOKEN", "x")], None), None);
        let asked = std::cell::RefCell::new(Vec::new());
        let (token, _) = discover_token("git.example.com", env(&[]), |h| {
            asked.borrow_mut().push(h.to_owned());
            Some("glpat-x\n".to_owned())
        })
        .unwrap();
        assert_eq!(token, Token::new("glpat-x"));
        assert_eq!(*asked.borrow(), ["git.example.com"]);
    }

    #[test]
    fn a_job_token_alone_is_refused_with_what_to_set() {
        let located = Located {
            kind: Kind::GitLab,
            repo: RepoId::from_path("shop/config", "gitlab.com").unwrap(),
            source: RepoSource::CiProjectPath,
        };
        let no_glab = |_: &str| None;
        let err = GitLab::from_env(&located, env(&[("CI_JOB_TOKEN", "x")]), no_glab)
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("CI_JOB_TOKEN"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        let err = anyhow::Error::from(err);
        let hint = crate::error::hint(&err).unwrap_or_default();
        assert!(hint.contains("GITLAB_TOKEN"), "{hint}");
        // Without the job token either: no token, no error.
        assert!(GitLab::from_env(&located, env(&[]), no_glab)
            .unwrap()
            .is_none());
    }

    #[test]
    fn api_urls() {
        assert_eq!(api_base("gitlab.com", None), "https://gitlab.com/api/v4");
        assert_eq!(
            api_base("Git.Example.com:8443", Some("")),
            "https://git.example.com:8443/api/v4"
        );
        assert_eq!(
            api_base("gitlab.com", Some("http://127.0.0.1:9/api/v4/")),
            "http://127.0.0.1:9/api/v4"
        );
    }

    #[test]
    fn pipelines_read_as_checks() {
        for (pipeline, want) in [
            ("success", "success"),
            ("failed", "failure"),
            ("canceled", "error"),
            ("running", "pending"),
            ("pending", "pending"),
            ("created", "pending"),
            ("manual", "pending"),
            ("skipped", "success"),
        ] {
            assert_eq!(checks_state(pipeline), want, "{pipeline}");
        }
    }

    #[test]
    fn approvals_count_the_rules_for_the_branch() {
        let rules: Vec<Value> = serde_json::from_value(json!([
            {"approvals_required": 1, "protected_branches": []},
            {"approvals_required": 3, "protected_branches": [{"name": "prod"}]},
            {"approvals_required": 2, "applies_to_all_protected_branches": true, "protected_branches": [{"name": "x"}]},
        ]))
        .unwrap();
        assert_eq!(approvals_for(&rules, "prod"), 3);
        assert_eq!(approvals_for(&rules, "stage"), 2);
        assert_eq!(approvals_for(&rules[..1], "stage"), 1);
        assert_eq!(approvals_for(&[], "stage"), 0);
    }

    #[test]
    fn messages_read_in_every_shape_gitlab_writes() {
        let reply = |status: u16, body: &str| Reply {
            status,
            reason: "",
            retry_after: None,
            remaining: None,
            reset: None,
            body: body.to_owned(),
        };
        assert_eq!(
            reply(401, r#"{"message":"401 Unauthorized"}"#).message(),
            "401 Unauthorized"
        );
        assert_eq!(
            reply(409, r#"{"message":["Another open merge request already exists for this source branch: !1"]}"#).message(),
            "Another open merge request already exists for this source branch: !1"
        );
        assert_eq!(
            reply(400, r#"{"message":{"title":["can't be blank"]}}"#).message(),
            "title can't be blank"
        );
        assert_eq!(
            reply(400, r#"{"error":"title is missing"}"#).message(),
            "title is missing"
        );
        assert_eq!(reply(502, "<html>").message(), "502 ");
    }

    #[test]
    fn drafts_lose_their_prefix_and_opened_reads_open() {
        let raw: RawMr = serde_json::from_value(json!({
            "id": 9, "iid": 2, "web_url": "https://gitlab.com/shop/config/-/merge_requests/2",
            "state": "opened", "title": "Draft: Promote dev to stage", "draft": true,
            "labels": ["promotion"], "merge_when_pipeline_succeeds": false
        }))
        .unwrap();
        let change = raw.into_change();
        assert_eq!(
            (change.title.as_str(), change.state.as_str(), change.draft),
            ("Promote dev to stage", "open", true)
        );
    }
}

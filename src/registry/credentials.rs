//! Registry credentials where users keep them: podman's `$REGISTRY_AUTH_FILE`,
//! then docker's `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`). In a
//! file: `credHelpers` for the registry (`docker-credential-<helper> get`), then
//! `auths` (`identitytoken`, else `auth`: base64 of `user:password`), then
//! `credsStore`, the helper for every registry. An identity token (`docker
//! login`'s for registries that log in with OAuth2; a helper's answer whose
//! user is `<token>`) is a refresh token, not a password: the client trades it
//! for an access token ([`Credentials::is_identity_token`]). The file system, the environment and the helpers are
//! injected ([`Sources`]), so the lookup is tested without a home directory.
//!
//! A [`Credentials`] value never prints its secret (`Debug` shows `***`; there
//! is no `Display`); messages name where credentials came from, never what they
//! are.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

/// A user name and a password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    secret: String,
    /// Where they were found, for messages: `~/.docker/config.json`,
    /// `docker-credential-pass`.
    pub source: String,
    /// The secret is an OAuth2 refresh token (docker's `identitytoken`), not a
    /// password.
    identity: bool,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"***")
            .field("source", &self.source)
            .field("identity_token", &self.identity)
            .finish()
    }
}

impl Credentials {
    pub fn new(username: &str, secret: &str, source: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            secret: secret.to_owned(),
            source: source.to_owned(),
            identity: false,
        }
    }

    /// An identity token (docker's `identitytoken`): a refresh token for the
    /// registry's OAuth2 token service.
    pub fn identity_token(username: &str, token: &str, source: &str) -> Credentials {
        Credentials {
            identity: true,
            ..Credentials::new(username, token, source)
        }
    }

    /// Whether the secret is an identity token, to be traded for an access
    /// token (`grant_type=refresh_token`) rather than sent as a password.
    pub fn is_identity_token(&self) -> bool {
        self.identity
    }

    /// The `Authorization` value for basic authentication.
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// The secret, for [`crate::registry`]'s redaction of messages only.
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

/// What the lookup reads: environment variables, files, and credential helpers.
pub trait Sources {
    fn var(&self, name: &str) -> Option<String>;
    fn read(&self, path: &Path) -> Option<Vec<u8>>;
    /// The output of `docker-credential-<helper> get` given `server` on stdin;
    /// `None` when the helper is missing, fails or knows no credentials.
    fn helper(&self, helper: &str, server: &str) -> Option<Vec<u8>>;
}

/// The process's environment, files and helpers.
pub struct System;

impl Sources for System {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn read(&self, path: &Path) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }

    fn helper(&self, helper: &str, server: &str) -> Option<Vec<u8>> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new(format!("docker-credential-{helper}"))
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading is judged by its exit status.
            let _ = stdin.write_all(server.as_bytes());
        }
        let out = child.wait_with_output().ok()?;
        out.status.success().then_some(out.stdout)
    }
}

/// The files searched, in order, with the names messages use for them.
fn files(src: &dyn Sources) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    if let Some(path) = src.var("REGISTRY_AUTH_FILE") {
        files.push((PathBuf::from(&path), "$REGISTRY_AUTH_FILE".to_owned()));
    }
    if let Some(dir) = src.var("DOCKER_CONFIG") {
        files.push((
            Path::new(&dir).join("config.json"),
            "$DOCKER_CONFIG/config.json".to_owned(),
        ));
    } else if let Some(home) = src.var("HOME") {
        files.push((
            Path::new(&home).join(".docker/config.json"),
            "~/.docker/config.json".to_owned(),
        ));
    }
    files
}

/// A docker or podman credentials file: the keys gitops reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// What a credential helper prints.
#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The forms a registry's key takes in `auths` and `credHelpers`: `ghcr.io`,
/// `https://ghcr.io`, `https://ghcr.io/v1/`; Docker Hub's are
/// `https://index.docker.io/v1/`, `index.docker.io`, `docker.io` and
/// `registry-1.docker.io`.
fn key_matches(key: &str, registry: &str) -> bool {
    let host = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host).to_ascii_lowercase();
    let hub = |h: &str| matches!(h, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    host == registry || (hub(&host) && hub(registry))
}

/// The server name a credential helper is asked for: what `docker login`
/// stored, Docker Hub's legacy URL or the registry's host.
fn helper_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    }
}

/// The credentials for `registry` (as [`super::name::Location::registry`] names
/// it), or `None` for anonymous access. A file that is not JSON is an error
/// naming it (one line, never its content); a helper that knows nothing is no
/// error.
pub fn find(registry: &str, src: &dyn Sources) -> Result<Option<Credentials>, String> {
    for (path, shown) in files(src) {
        let Some(bytes) = src.read(&path) else {
            continue;
        };
        let file: AuthFile = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{shown} ({}) is not a valid credentials file: line {}, column {}",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        if let Some((_, helper)) = file
            .cred_helpers
            .iter()
            .find(|(key, _)| key_matches(key, registry))
        {
            return Ok(from_helper(helper, registry, src));
        }
        for (key, entry) in &file.auths {
            if !key_matches(key, registry) {
                continue;
            }
            if let Some(found) = from_entry(entry, &shown)? {
                return Ok(Some(found));
            }
        }
        if let Some(store) = &file.creds_store {
            if let Some(found) = from_helper(store, registry, src) {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

fn from_entry(entry: &AuthEntry, shown: &str) -> Result<Option<Credentials>, String> {
    // docker keeps `auth` beside it (often `<token>:`), but uses the token.
    if let Some(token) = entry
        .identitytoken
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let username = entry.username.as_deref().unwrap_or("<token>");
        return Ok(Some(Credentials::identity_token(
            username,
            token.trim(),
            shown,
        )));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.trim().is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                format!("an `auth` entry in {shown} is not base64 of `user:password`")
            })?;
        let (user, secret) = decoded.split_once(':').ok_or_else(|| {
            format!("an `auth` entry in {shown} is not base64 of `user:password`")
        })?;
        return Ok(Some(Credentials::new(user, secret, shown)));
    }
    match (&entry.username, &entry.password) {
        (Some(user), Some(secret)) if !user.is_empty() => {
            Ok(Some(Credentials::new(user, secret, shown)))
        }
        _ => Ok(None),
    }
}

fn from_helper(helper: &str, registry: &str, src: &dyn Sources) -> Option<Credentials> {
    let out = src.helper(helper, &helper_server(registry))?;
    let answer: HelperAnswer = serde_json::from_slice(&out).ok()?;
    let source = format!("docker-credential-{helper}");
    (!answer.secret.is_empty()).then(|| {
        // Helpers answer an identity token with the user `<token>`.
        if answer.username == "<token>" {
            Credentials::identity_token(&answer.username, &answer.secret, &source)
        } else {
            Credentials::new(&answer.username, &answer.secret, &source)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Fake {
        vars: HashMap<String, String>,
        files: HashMap<PathBuf, String>,
        helpers: HashMap<(String, String), String>,
    }

    impl Sources for Fake {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn read(&self, path: &Path) -> Option<Vec<u8>> {
            self.files.get(path).map(|s| s.clone().into_bytes())
        }
        fn helper(&self, helper: &str, server: &str) -> Option<Vec<u8>> {
            self.helpers
                .get(&(helper.to_owned(), server.to_owned()))
                .map(|s| s.clone().into_bytes())
        }
    }

    fn home(config: &str) -> Fake {
        let mut f = Fake::default();
        f.vars.insert("HOME".into(), "/home/u".into());
        f.files
            .insert("/home/u/.docker/config.json".into(), config.to_owned());
        f
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn auths_entries_are_read_by_any_spelling_of_the_registry() {
        let config = format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{}"}},
                "ghcr.io": {{"auth": "{}"}},
                "https://registry.example.com:5000": {{"username": "ci", "password": "pw3"}},
                "quay.io": {{}}
            }}}}"#,
            b64("hubuser:pw1"),
            b64("gh:pw:with:colons")
        );
        let f = home(&config);
        let got = |r| {
            find(r, &f)
                .unwrap()
                .map(|c| (c.username.clone(), c.secret.clone()))
        };
        assert_eq!(got("docker.io"), Some(("hubuser".into(), "pw1".into())));
        assert_eq!(got("ghcr.io"), Some(("gh".into(), "pw:with:colons".into())));
        assert_eq!(
            got("registry.example.com:5000"),
            Some(("ci".into(), "pw3".into()))
        );
        // An empty entry (what `credsStore` leaves behind) is anonymous.
        assert_eq!(got("quay.io"), None);
        assert_eq!(got("127.0.0.1:5000"), None);
        assert_eq!(
            find("ghcr.io", &f).unwrap().unwrap().source,
            "~/.docker/config.json"
        );
    }

    #[test]
    fn helpers_are_asked_with_the_server_on_stdin() {
        let mut f = home(
            r#"{"credsStore": "desktop", "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
                "auths": {"https://index.docker.io/v1/": {}}}"#,
        );
        f.helpers.insert(
            ("ecr-login".into(), "123.dkr.ecr.eu-west-1.amazonaws.com".into()),
            r#"{"ServerURL":"123.dkr.ecr.eu-west-1.amazonaws.com","Username":"AWS","Secret":"ecrtoken"}"#.into(),
        );
        f.helpers.insert(
            ("desktop".into(), "https://index.docker.io/v1/".into()),
            r#"{"Username":"hub","Secret":"hubtoken"}"#.into(),
        );
        let ecr = find("123.dkr.ecr.eu-west-1.amazonaws.com", &f)
            .unwrap()
            .unwrap();
        assert_eq!((ecr.username.as_str(), ecr.secret()), ("AWS", "ecrtoken"));
        assert_eq!(ecr.source, "docker-credential-ecr-login");
        let hub = find("docker.io", &f).unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.secret()), ("hub", "hubtoken"));
        // The store knows nothing of this one: anonymous.
        assert_eq!(find("ghcr.io", &f).unwrap(), None);
    }

    #[test]
    fn registry_auth_file_then_docker_config() {
        let mut f = Fake::default();
        f.vars.insert("HOME".into(), "/home/u".into());
        f.vars
            .insert("REGISTRY_AUTH_FILE".into(), "/run/auth.json".into());
        f.vars.insert("DOCKER_CONFIG".into(), "/etc/dc".into());
        f.files.insert(
            "/run/auth.json".into(),
            format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
                b64("podman:p")
            ),
        );
        f.files.insert(
            "/etc/dc/config.json".into(),
            format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}, "quay.io": {{"auth": "{}"}}}}}}"#,
                b64("docker:d"),
                b64("q:q")
            ),
        );
        f.files
            .insert("/home/u/.docker/config.json".into(), "not read".into());
        assert_eq!(find("ghcr.io", &f).unwrap().unwrap().username, "podman");
        let quay = find("quay.io", &f).unwrap().unwrap();
        assert_eq!(quay.username, "q");
        assert_eq!(quay.source, "$DOCKER_CONFIG/config.json");
    }

    #[test]
    fn a_broken_file_is_named_and_its_content_never_shown() {
        let f = home(r#"{"auths": {"ghcr.io": {"auth": "s3cret-not-base64!"}}}"#);
        let e = find("ghcr.io", &f).unwrap_err();
        assert!(e.contains("~/.docker/config.json"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        let f = home(r#"{"auths": "#);
        let e = find("ghcr.io", &f).unwrap_err();
        assert!(e.contains("not a valid credentials file"), "{e}");
        let c = Credentials::new("u", "hunter2", "x");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.basic().contains("hunter2"));
    }

    #[test]
    fn identity_tokens_from_a_file_or_a_helper_are_refresh_tokens() {
        let mut f = home(&format!(
            r#"{{"auths": {{"myreg.azurecr.io": {{"auth": "{}", "identitytoken": "eyJ-refresh-secret"}},
                          "ghcr.io": {{"auth": "{}"}}}},
                "credHelpers": {{"gcr.io": "gcloud"}}}}"#,
            b64("<token>:"),
            b64("gh:pw")
        ));
        f.helpers.insert(
            ("gcloud".into(), "gcr.io".into()),
            r#"{"ServerURL":"gcr.io","Username":"<token>","Secret":"helper-refresh-secret"}"#
                .into(),
        );
        let c = find("myreg.azurecr.io", &f).unwrap().unwrap();
        assert!(c.is_identity_token());
        assert_eq!(c.secret(), "eyJ-refresh-secret");
        assert!(!format!("{c:?}").contains("eyJ"), "{c:?}");
        let c = find("gcr.io", &f).unwrap().unwrap();
        assert!(c.is_identity_token());
        assert_eq!(c.secret(), "helper-refresh-secret");
        assert!(!find("ghcr.io", &f).unwrap().unwrap().is_identity_token());
    }
}

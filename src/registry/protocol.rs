//! The Distribution API's texts, read without I/O: the authentication
//! challenge (`WWW-Authenticate`), the next page (`Link`), the answer bodies
//! (tag list, token, errors, manifests, image config) and image creation times.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What a `401` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="..."`: the credentials themselves on every request.
    Basic,
    /// `Bearer realm="...",service="...",scope="..."`: a token from `realm`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Reads a `WWW-Authenticate` value: the scheme, then `key="value"` (or
/// `key=token`) pairs separated by commas; a quoted value may hold commas
/// (`scope="repository:a:pull,push"`) and `\"`. `None` for another scheme or a
/// Bearer challenge without a realm.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            return params;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_owned();
        }
        params.insert(key, value);
    }
}

/// The next page's URL from a `Link` header (`<url>; rel="next"`), made
/// absolute against `base` (`http://127.0.0.1:5000`) when it is a path, as
/// Distribution sends it (`</v2/shop/cart/tags/list?last=b&n=2>; rel="next"`).
pub fn next_link(header: &str, base: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r == "next")
        });
        if !is_next {
            return None;
        }
        Some(
            if target.starts_with("http://") || target.starts_with("https://") {
                target.to_owned()
            } else if target.starts_with('/') {
                format!("{base}{target}")
            } else {
                format!("{base}/{target}")
            },
        )
    })
}

/// `GET /v2/<name>/tags/list`'s answer. `tags` is `null` for a repository
/// whose tags were all deleted.
#[derive(Debug, Deserialize)]
pub struct TagList {
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// A token endpoint's answer: `token`, or OAuth 2's `access_token`.
#[derive(Deserialize)]
pub struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl TokenAnswer {
    pub fn into_token(self) -> Option<String> {
        self.token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
    }
}

/// The errors body of a failed request: `{"errors":[{"code","message"}]}`.
#[derive(Debug, Deserialize)]
pub struct Errors {
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorEntry {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// The first error of a body, as `CODE: message`, cut to one short line.
pub fn error_summary(body: &[u8]) -> Option<String> {
    let errors: Errors = serde_json::from_slice(body).ok()?;
    let first = errors.errors.first()?;
    let text = match (first.code.is_empty(), first.message.is_empty()) {
        (false, false) => format!("{}: {}", first.code, first.message),
        (false, true) => first.code.clone(),
        (true, false) => first.message.clone(),
        (true, true) => return None,
    };
    Some(one_line(&text, 200))
}

/// The first error code of a body (`NAME_UNKNOWN`).
pub fn error_code(body: &[u8]) -> Option<String> {
    let errors: Errors = serde_json::from_slice(body).ok()?;
    errors.errors.into_iter().next().map(|e| e.code)
}

fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    line.trim().to_owned()
}

/// The media types asked for when reading a manifest by tag.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// A manifest or an index, the fields the creation time needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// An index's (a manifest list's) images, one per platform.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Descriptor {
    pub digest: String,
}

/// An image configuration's creation time.
#[derive(Debug, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub created: Option<String>,
}

/// The annotation that may carry an image's creation time.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// A creation time as written (RFC 3339) and as seconds and nanoseconds since
/// the epoch, UTC, which orders it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Created {
    pub epoch: (i64, u32),
    pub text: String,
}

/// Reads an RFC 3339 time (`2026-11-30T10:04:05.123456789Z`, `…+02:00`).
pub fn parse_created(text: &str) -> Option<Created> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &t[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded: String = frac[..digits]
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        nanos = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (num_of(&rest[1..3])? * 3600 + num_of(&rest[4..6])? * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let epoch = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(Created {
        epoch: (epoch, nanos),
        text: t.to_owned(),
    })
}

fn num_of(s: &str) -> Option<i64> {
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_as_registries_send_them() {
        // Distribution's token authentication spec, and Docker Hub.
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:samalba/my-app:pull,push".into()),
            })
        );
        // GHCR: no scope on /v2/; spaces after commas; a bare token value.
        assert_eq!(
            parse_challenge(r#"Bearer realm="https://ghcr.io/token", service=ghcr.io"#),
            Some(Challenge::Bearer {
                realm: "https://ghcr.io/token".into(),
                service: Some("ghcr.io".into()),
                scope: None,
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn the_next_page_is_found_relative_or_absolute() {
        let base = "http://127.0.0.1:5000";
        assert_eq!(
            next_link(r#"</v2/shop/cart/tags/list?last=b&n=2>; rel="next""#, base).as_deref(),
            Some("http://127.0.0.1:5000/v2/shop/cart/tags/list?last=b&n=2")
        );
        assert_eq!(
            next_link(
                r#"<https://other.example/v2/a/tags/list?last=x>; rel=next"#,
                base
            )
            .as_deref(),
            Some("https://other.example/v2/a/tags/list?last=x")
        );
        assert_eq!(
            next_link(
                r#"</v2/a?page=1>; rel="prev", </v2/a?page=3>; rel="next""#,
                base
            )
            .as_deref(),
            Some("http://127.0.0.1:5000/v2/a?page=3")
        );
        assert_eq!(next_link(r#"</v2/a?page=1>; rel="prev""#, base), None);
    }

    #[test]
    fn tokens_bodies_and_errors() {
        let t: TokenAnswer = serde_json::from_str(r#"{"token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("abc"));
        let t: TokenAnswer = serde_json::from_str(r#"{"access_token":"xyz"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("xyz"));
        let t: TokenAnswer = serde_json::from_str(r#"{"token":"","access_token":"xyz"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("xyz"));
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"shop/nope"}}]}"#;
        assert_eq!(
            error_summary(body).as_deref(),
            Some("NAME_UNKNOWN: repository name not known to registry")
        );
        assert_eq!(error_code(body).as_deref(), Some("NAME_UNKNOWN"));
        assert_eq!(error_summary(b"<html>"), None);
        let l: TagList = serde_json::from_str(r#"{"name":"a","tags":null}"#).unwrap();
        assert!(l.tags.is_none());
    }

    #[test]
    fn creation_times_order_across_offsets() {
        let a = parse_created("2026-11-30T10:04:05Z").unwrap();
        assert_eq!(a.epoch, (1_796_033_045, 0));
        let b = parse_created("2026-11-30T12:04:05.5+02:00").unwrap();
        assert_eq!(b.epoch, (1_796_033_045, 500_000_000));
        assert!(b > a);
        let c = parse_created("2015-10-31T22:22:56.015925234Z").unwrap();
        assert_eq!(c.epoch, (1_446_330_176, 15_925_234));
        assert_eq!(parse_created("1970-01-01T00:00:00Z").unwrap().epoch, (0, 0));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-30T10:04:05",
            "2026-11-30T10:04:05.Z",
        ] {
            assert_eq!(parse_created(bad), None, "{bad}");
        }
    }
}

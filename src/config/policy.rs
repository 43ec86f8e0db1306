//! Image tag policies: which tags an environment accepts, and how tags order.
//!
//! A policy is written in the configuration as one of `commit-sha`, `semver-rc`,
//! `semver`, `any` or `regex:<pattern>`. [`TagPolicy::check`] tells whether an
//! image tag satisfies the policy and [`TagPolicy::compare`] tells which of two
//! tags is the newer one.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The policy spellings accepted in the configuration, for error messages.
const ACCEPTED: &str = "commit-sha, semver-rc, semver, any, regex:<pattern>";

/// The longest tag the OCI distribution spec allows.
const MAX_TAG_LEN: usize = 128;

/// A regular expression that must match a whole tag, kept with the text it was
/// written as.
///
/// Two patterns are equal when their source text is equal.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles `source` so that it only matches whole tags (as if written
    /// `^(?:source)$`).
    ///
    /// Fails with a one-line message naming the pattern and the problem.
    pub fn new(source: &str) -> Result<Pattern, String> {
        compile(source).map_err(|reason| {
            format!("invalid regular expression {source:?}: {reason}; expected a valid regular expression")
        })
    }

    /// The pattern as written, without the added anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the whole of `tag`.
    pub fn is_match(&self, tag: &str) -> bool {
        self.regex.is_match(tag)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

/// Compiles a pattern anchored at both ends; the error is the bare reason.
fn compile(source: &str) -> Result<Pattern, String> {
    if source.is_empty() {
        return Err("the pattern is empty".to_string());
    }
    // Compile the pattern alone first: wrapped in a group, an unbalanced ")" such
    // as "a)|(b" would escape the anchors instead of being reported.
    Regex::new(source).map_err(|e| regex_error_reason(&e))?;
    let regex = Regex::new(&format!(r"\A(?:{source})\z")).map_err(|e| regex_error_reason(&e))?;
    Ok(Pattern {
        source: source.to_string(),
        regex,
    })
}

/// Reduces a (possibly multi-line) regex error to its one-line reason.
fn regex_error_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    if let Some(reason) = text
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
    {
        return reason.to_string();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which image tags an environment accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPolicy {
    /// `commit-sha`: 7 to 40 lowercase hex digits, e.g. `3f9c2ab`.
    CommitSha,
    /// `semver-rc`: a release candidate, `MAJOR.MINOR.PATCH-rcN` or `-rc.N`.
    SemverRc,
    /// `semver`: a strict release `MAJOR.MINOR.PATCH`, no pre-release or build metadata.
    Semver,
    /// `any`: any valid tag, including `latest`, and untagged images.
    Any,
    /// `regex:<pattern>`: a tag matched as a whole by the pattern.
    Regex(Pattern),
}

impl TagPolicy {
    /// Parses the configuration spelling: `commit-sha`, `semver-rc`, `semver`,
    /// `any` or `regex:<pattern>`.
    ///
    /// Fails with a one-line message naming the value and listing what is accepted.
    pub fn parse(s: &str) -> Result<TagPolicy, String> {
        match s {
            "commit-sha" => Ok(TagPolicy::CommitSha),
            "semver-rc" => Ok(TagPolicy::SemverRc),
            "semver" => Ok(TagPolicy::Semver),
            "any" => Ok(TagPolicy::Any),
            _ => match s.strip_prefix("regex:") {
                Some(source) => compile(source).map(TagPolicy::Regex).map_err(|reason| {
                    format!(
                        "invalid tag policy {s:?}: {reason}; expected regex:<pattern> with a valid regular expression, e.g. regex:v[0-9]+"
                    )
                }),
                None if s.is_empty() => Err(format!("empty tag policy; expected one of {ACCEPTED}")),
                None => Err(format!("unknown tag policy {s:?}; expected one of {ACCEPTED}")),
            },
        }
    }

    /// A short description of the tags this policy accepts, used in error
    /// messages, e.g. "7 to 40 lowercase hex digits".
    pub fn accepts(&self) -> &'static str {
        match self {
            TagPolicy::CommitSha => "7 to 40 lowercase hex digits",
            TagPolicy::SemverRc => "MAJOR.MINOR.PATCH-rcN or -rc.N",
            TagPolicy::Semver => "strict MAJOR.MINOR.PATCH",
            TagPolicy::Any => "any valid tag",
            TagPolicy::Regex(_) => "a tag matching the whole pattern",
        }
    }

    /// An example of a tag this policy accepts; `None` for `regex:` policies.
    pub fn example(&self) -> Option<&'static str> {
        match self {
            TagPolicy::CommitSha => Some("3f9c2ab"),
            TagPolicy::SemverRc => Some("1.2.3-rc1"),
            TagPolicy::Semver => Some("1.2.3"),
            TagPolicy::Any => Some("latest"),
            TagPolicy::Regex(_) => None,
        }
    }

    /// Checks an image tag against the policy; `None` is an untagged image.
    ///
    /// A tag that is not a valid image tag (see [`is_valid_tag`]) is rejected by
    /// every policy; `latest` and untagged images are rejected by every policy
    /// but `any`. The error is one line saying what is wrong and what is accepted.
    /// Whether the policy accepts `tag`: [`TagPolicy::check`]'s answer without
    /// the message, for judging a registry's thousands of tags.
    pub fn allows(&self, tag: &str) -> bool {
        is_valid_tag(tag) && (tag != "latest" || *self == TagPolicy::Any) && self.fits(tag)
    }

    /// The policy's own rule, for a valid tag that is not a refused `latest`.
    fn fits(&self, tag: &str) -> bool {
        match self {
            TagPolicy::CommitSha => is_commit_sha(tag),
            TagPolicy::SemverRc => parse_semver(tag).is_some_and(|v| v.rc.is_some()),
            TagPolicy::Semver => parse_semver(tag).is_some_and(|v| v.is_release()),
            TagPolicy::Any => true,
            TagPolicy::Regex(pattern) => pattern.is_match(tag),
        }
    }

    pub fn check(&self, tag: Option<&str>) -> Result<(), String> {
        let Some(tag) = tag else {
            return match (self, self.example()) {
                (TagPolicy::Any, _) => Ok(()),
                (_, Some(example)) => Err(format!(
                    "untagged image: policy {} needs a tag like {example} ({})",
                    self.label(),
                    self.accepts()
                )),
                (_, None) => Err(format!(
                    "untagged image: policy {} needs {}",
                    self.label(),
                    self.accepts()
                )),
            };
        };
        if !is_valid_tag(tag) {
            return Err(format!(
                "tag {tag:?} is not a valid image tag (1 to {MAX_TAG_LEN} letters, digits, '_', '.' or '-', not starting with '.' or '-')"
            ));
        }
        if tag == "latest" && *self != TagPolicy::Any {
            return Err(format!(
                "\"latest\" is not allowed by policy {} ({})",
                self.label(),
                self.expectation()
            ));
        }
        if self.fits(tag) {
            Ok(())
        } else {
            Err(format!(
                "tag {tag:?} does not satisfy policy {} ({})",
                self.label(),
                self.expectation()
            ))
        }
    }

    /// Orders two tags under this policy: `Greater` when `a` is newer than `b`,
    /// `None` when they cannot be compared.
    ///
    /// Equal strings are always `Some(Equal)`. `semver` and `semver-rc` compare
    /// versions, releases and release candidates alike (see [`Version`]);
    /// `commit-sha` orders nothing but equal ids; `any` and `regex:` compare two
    /// version-like tags (both with, or both without, a leading `v`).
    pub fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        if a == b {
            return Some(Ordering::Equal);
        }
        match self {
            TagPolicy::CommitSha => None,
            TagPolicy::SemverRc | TagPolicy::Semver => {
                Some(parse_semver(a)?.cmp(&parse_semver(b)?))
            }
            TagPolicy::Any | TagPolicy::Regex(_) => {
                let (a, b) = match (a.strip_prefix('v'), b.strip_prefix('v')) {
                    (Some(a), Some(b)) => (a, b),
                    (None, None) => (a, b),
                    _ => return None,
                };
                Some(parse_semver(a)?.cmp(&parse_semver(b)?))
            }
        }
    }

    /// The policy as written, with control characters escaped to keep messages on one line.
    fn label(&self) -> String {
        let mut label = String::new();
        for c in self.to_string().chars() {
            if c.is_control() {
                label.extend(c.escape_default());
            } else {
                label.push(c);
            }
        }
        label
    }

    /// What the policy accepts, with an example when there is one.
    fn expectation(&self) -> String {
        match self.example() {
            Some(example) => format!("{}, e.g. {example}", self.accepts()),
            None => self.accepts().to_string(),
        }
    }
}

impl fmt::Display for TagPolicy {
    /// Writes the configuration spelling, e.g. `semver-rc` or `regex:^v\d+$`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagPolicy::CommitSha => f.write_str("commit-sha"),
            TagPolicy::SemverRc => f.write_str("semver-rc"),
            TagPolicy::Semver => f.write_str("semver"),
            TagPolicy::Any => f.write_str("any"),
            TagPolicy::Regex(pattern) => write!(f, "regex:{}", pattern.as_str()),
        }
    }
}

impl FromStr for TagPolicy {
    type Err = String;

    /// Same as [`TagPolicy::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TagPolicy::parse(s)
    }
}

impl Serialize for TagPolicy {
    /// Serializes as the configuration spelling.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TagPolicy {
    /// Deserializes from the configuration spelling; a bad value becomes a custom
    /// error, so YAML errors carry the line and column of the value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TagPolicyVisitor)
    }
}

/// Parses the policy while the deserializer is still on the value, so that
/// yaml_serde attaches the value's line and column to the error.
struct TagPolicyVisitor;

impl serde::de::Visitor<'_> for TagPolicyVisitor {
    type Value = TagPolicy;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a tag policy: one of {ACCEPTED}")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<TagPolicy, E> {
        TagPolicy::parse(s).map_err(E::custom)
    }
}

/// Whether `tag` follows the OCI/docker tag grammar
/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            bytes.len() <= MAX_TAG_LEN
                && (first.is_ascii_alphanumeric() || *first == b'_')
                && rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        }
        None => false,
    }
}

/// Whether `tag` is 7 to 40 lowercase hex digits.
fn is_commit_sha(tag: &str) -> bool {
    (7..=40).contains(&tag.len()) && tag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A release `MAJOR.MINOR.PATCH` or a release candidate `MAJOR.MINOR.PATCH-rcN`.
///
/// Versions order numerically; release candidates order by their number and
/// come before the release they lead to (`1.2.3-rc9 < 1.2.3-rc10 < 1.2.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    /// The MAJOR number.
    pub major: u64,
    /// The MINOR number.
    pub minor: u64,
    /// The PATCH number.
    pub patch: u64,
    /// The release candidate number, `None` for a release.
    pub rc: Option<u64>,
}

impl Version {
    /// Whether this is a release rather than a release candidate.
    pub fn is_release(&self) -> bool {
        self.rc.is_none()
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.rc, other.rc) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    /// Writes `MAJOR.MINOR.PATCH`, or `MAJOR.MINOR.PATCH-rcN` for a release candidate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        match self.rc {
            Some(rc) => write!(f, "-rc{rc}"),
            None => Ok(()),
        }
    }
}

/// Parses a strict `MAJOR.MINOR.PATCH`, optionally followed by `-rcN` or
/// `-rc.N`; no leading `v`, no build metadata, no leading zeros (`0` is fine,
/// `01` is not).
pub fn parse_semver(tag: &str) -> Option<Version> {
    let (core, pre) = match tag.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (tag, None),
    };
    let mut parts = core.split('.');
    let major = number(parts.next()?)?;
    let minor = number(parts.next()?)?;
    let patch = number(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let rc = match pre {
        Some(pre) => {
            let n = pre.strip_prefix("rc")?;
            Some(number(n.strip_prefix('.').unwrap_or(n))?)
        }
        None => None,
    };
    Some(Version {
        major,
        minor,
        patch,
        rc,
    })
}

/// A SemVer numeric identifier: ASCII digits without leading zeros.
fn number(s: &str) -> Option<u64> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn policy(s: &str) -> TagPolicy {
        TagPolicy::parse(s).unwrap_or_else(|e| panic!("policy {s:?}: {e}"))
    }

    #[test]
    fn check_accepts_and_rejects() {
        let sha40 = "0123456789abcdef0123456789abcdef01234567";
        let sha41 = format!("{sha40}8");
        let tag128 = "a".repeat(128);
        let tag129 = "a".repeat(129);
        let cases: &[(&str, Option<&str>, bool)] = &[
            // commit-sha
            ("commit-sha", Some("3f9c2ab"), true),
            ("commit-sha", Some("1234567"), true),
            ("commit-sha", Some(sha40), true),
            ("commit-sha", Some("3f9c2a"), false),
            ("commit-sha", Some(&sha41), false),
            ("commit-sha", Some("3F9C2AB"), false),
            ("commit-sha", Some("3f9c2ag"), false),
            ("commit-sha", Some("latest"), false),
            ("commit-sha", Some(""), false),
            ("commit-sha", None, false),
            // semver-rc
            ("semver-rc", Some("1.2.3-rc1"), true),
            ("semver-rc", Some("1.2.3-rc.10"), true),
            ("semver-rc", Some("1.2.3-rc0"), true),
            ("semver-rc", Some("0.0.0-rc.0"), true),
            ("semver-rc", Some("1.2.3-rc"), false),
            ("semver-rc", Some("1.2.3-rc."), false),
            ("semver-rc", Some("1.2.3-rc.01"), false),
            ("semver-rc", Some("1.2.3-rc01"), false),
            ("semver-rc", Some("1.2.3-RC1"), false),
            ("semver-rc", Some("1.2.3-beta1"), false),
            ("semver-rc", Some("1.2.3-rc1.1"), false),
            ("semver-rc", Some("1.2.3-rc1+build"), false),
            ("semver-rc", Some("01.2.3-rc1"), false),
            ("semver-rc", Some("v1.2.3-rc1"), false),
            ("semver-rc", Some("1.2.3"), false),
            ("semver-rc", Some("latest"), false),
            ("semver-rc", None, false),
            // semver
            ("semver", Some("1.2.3"), true),
            ("semver", Some("0.0.0"), true),
            ("semver", Some("10.20.30"), true),
            ("semver", Some("1.2"), false),
            ("semver", Some("1.2.3.4"), false),
            ("semver", Some("1..3"), false),
            ("semver", Some("01.2.3"), false),
            ("semver", Some("1.02.3"), false),
            ("semver", Some("1.2.03"), false),
            ("semver", Some("1.2.3+build"), false),
            ("semver", Some("1.2.3-rc1"), false),
            ("semver", Some("v1.2.3"), false),
            ("semver", Some("18446744073709551616.0.0"), false),
            ("semver", Some("1.2.3 "), false),
            ("semver", Some("latest"), false),
            ("semver", Some(""), false),
            ("semver", None, false),
            // any
            ("any", Some("latest"), true),
            ("any", None, true),
            ("any", Some("1.2.3"), true),
            ("any", Some("feature_x.y-z"), true),
            ("any", Some("_leading"), true),
            ("any", Some(&tag128), true),
            ("any", Some(&tag129), false),
            ("any", Some(""), false),
            ("any", Some("-leading"), false),
            ("any", Some(".leading"), false),
            ("any", Some("a/b"), false),
            ("any", Some("a:b"), false),
            ("any", Some("é"), false),
            // regex
            (r"regex:^v\d+\.\d+\.\d+$", Some("v1.2.3"), true),
            (r"regex:^v\d+\.\d+\.\d+$", Some("1.2.3"), false),
            (r"regex:^v\d+\.\d+\.\d+$", Some("v1.2.3-rc1"), false),
            (r"regex:v\d+", Some("v1"), true),
            (r"regex:v\d+", Some("xv1"), false),
            (r"regex:v\d+", Some("v1x"), false),
            ("regex:a|b", Some("a"), true),
            ("regex:a|b", Some("ab"), false),
            ("regex:.*", Some("anything-goes"), true),
            ("regex:.*", Some("latest"), false),
            ("regex:.*", Some(&tag129), false),
            ("regex:.*", Some("a b"), false),
            ("regex:.*", None, false),
        ];
        for (p, tag, ok) in cases {
            let result = policy(p).check(*tag);
            assert_eq!(result.is_ok(), *ok, "policy {p}, tag {tag:?}: {result:?}");
            if let Err(msg) = result {
                assert!(
                    !msg.contains('\n'),
                    "policy {p}, tag {tag:?}: multi-line message {msg:?}"
                );
            }
        }
    }

    #[test]
    fn check_error_messages() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "semver",
                Some("1.2"),
                r#"tag "1.2" does not satisfy policy semver (strict MAJOR.MINOR.PATCH, e.g. 1.2.3)"#,
            ),
            (
                "semver-rc",
                None,
                "untagged image: policy semver-rc needs a tag like 1.2.3-rc1 (MAJOR.MINOR.PATCH-rcN or -rc.N)",
            ),
            (
                "commit-sha",
                Some("latest"),
                r#""latest" is not allowed by policy commit-sha (7 to 40 lowercase hex digits, e.g. 3f9c2ab)"#,
            ),
            (
                "semver-rc",
                Some("1.2.3"),
                r#"tag "1.2.3" does not satisfy policy semver-rc (MAJOR.MINOR.PATCH-rcN or -rc.N, e.g. 1.2.3-rc1)"#,
            ),
            (
                r"regex:^v\d+$",
                Some("1"),
                r#"tag "1" does not satisfy policy regex:^v\d+$ (a tag matching the whole pattern)"#,
            ),
            (
                r"regex:^v\d+$",
                None,
                r"untagged image: policy regex:^v\d+$ needs a tag matching the whole pattern",
            ),
            (
                "regex:a\nb",
                None,
                r"untagged image: policy regex:a\nb needs a tag matching the whole pattern",
            ),
            (
                "any",
                Some("-x"),
                r#"tag "-x" is not a valid image tag (1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')"#,
            ),
            (
                "semver",
                Some("a\nb"),
                r#"tag "a\nb" is not a valid image tag (1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')"#,
            ),
        ];
        for (p, tag, want) in cases {
            let got = policy(p)
                .check(*tag)
                .expect_err(&format!("policy {p:?}, tag {tag:?} should fail"));
            assert_eq!(&got, want, "policy {p:?}, tag {tag:?}");
        }
    }

    #[test]
    fn allows_says_what_check_says() {
        let policies = [
            "commit-sha",
            "semver-rc",
            "semver",
            "any",
            "regex:^v[0-9]+$",
        ];
        let tags = [
            "3f9c2ab",
            "3F9C2AB",
            "3f9c2a",
            "1.2.3",
            "v1.2.3",
            "1.2.3-rc1",
            "1.2.3-rc.10",
            "1.2.03",
            "latest",
            "v7",
            "",
            ".hidden",
            "-x",
            "a b",
            "main-3f9c2ab",
        ];
        for p in policies {
            let policy = TagPolicy::parse(p).unwrap();
            for tag in tags {
                assert_eq!(
                    policy.allows(tag),
                    policy.check(Some(tag)).is_ok(),
                    "{p} {tag:?}"
                );
            }
        }
    }

    #[test]
    fn compare_orders_tags() {
        let cases: &[(&str, &str, &str, Option<Ordering>)] = &[
            ("semver-rc", "1.2.3-rc9", "1.2.3-rc10", Some(Less)),
            ("semver-rc", "1.2.3-rc.2", "1.2.3-rc10", Some(Less)),
            ("semver-rc", "1.2.3-rc.10", "1.2.3-rc9", Some(Greater)),
            ("semver-rc", "1.2.3-rc.1", "1.2.3-rc1", Some(Equal)),
            ("semver-rc", "1.2.3-rc5", "1.2.3", Some(Less)),
            ("semver-rc", "1.2.4-rc1", "1.2.3", Some(Greater)),
            ("semver-rc", "1.2.3-rc1", "latest", None),
            ("semver", "1.2.10", "1.2.9", Some(Greater)),
            ("semver", "1.10.0", "1.9.9", Some(Greater)),
            ("semver", "2.0.0", "1.99.99", Some(Greater)),
            ("semver", "1.2.3", "1.2.3", Some(Equal)),
            ("semver", "1.2.3", "1.2.3-rc7", Some(Greater)),
            ("semver", "1.2.3", "latest", None),
            ("semver", "1.2.3", "v1.2.4", None),
            ("semver", "01.2.3", "1.2.3", None),
            ("commit-sha", "3f9c2ab", "3f9c2ab", Some(Equal)),
            ("commit-sha", "3f9c2ab", "4a0d3bc", None),
            ("any", "latest", "latest", Some(Equal)),
            ("any", "latest", "1.2.3", None),
            ("any", "1.2.10", "1.2.9", Some(Greater)),
            ("any", "v1.2.10", "v1.2.9", Some(Greater)),
            ("any", "v1.2.3-rc10", "v1.2.3-rc9", Some(Greater)),
            ("any", "v1.2.3", "1.2.4", None),
            ("any", "main-1", "main-2", None),
            (r"regex:v?\d+\.\d+\.\d+", "v1.10.0", "v1.9.0", Some(Greater)),
            (r"regex:v?\d+\.\d+\.\d+", "1.0.0", "1.0.0", Some(Equal)),
            (r"regex:[a-z]+", "abc", "abd", None),
        ];
        for (p, a, b, want) in cases {
            let policy = policy(p);
            assert_eq!(
                policy.compare(a, b),
                *want,
                "policy {p}: compare({a:?}, {b:?})"
            );
            assert_eq!(
                policy.compare(b, a),
                want.map(Ordering::reverse),
                "policy {p}: compare({b:?}, {a:?})"
            );
        }
    }

    #[test]
    fn parse_semver_versions() {
        let v = |major, minor, patch, rc| Version {
            major,
            minor,
            patch,
            rc,
        };
        let cases: &[(&str, Option<Version>)] = &[
            ("1.2.3", Some(v(1, 2, 3, None))),
            ("0.0.0", Some(v(0, 0, 0, None))),
            ("1.2.3-rc1", Some(v(1, 2, 3, Some(1)))),
            ("1.2.3-rc.10", Some(v(1, 2, 3, Some(10)))),
            ("18446744073709551615.0.0", Some(v(u64::MAX, 0, 0, None))),
            ("v1.2.3", None),
            ("1.2", None),
            ("1.2.3-", None),
            ("1.2.3-rc", None),
            ("1.2.3-rc.", None),
            ("1.2.3-rc.01", None),
            ("1.2.3-rc+1", None),
            ("1.2.3+build", None),
            ("-1.2.3", None),
            ("+1.2.3", None),
            ("", None),
        ];
        for (tag, want) in cases {
            assert_eq!(parse_semver(tag), *want, "tag {tag:?}");
        }
    }

    #[test]
    fn version_display() {
        let cases: &[(&str, &str)] = &[
            ("1.2.3", "1.2.3"),
            ("1.2.3-rc1", "1.2.3-rc1"),
            ("1.2.3-rc.4", "1.2.3-rc4"),
        ];
        for (tag, want) in cases {
            let version = parse_semver(tag).unwrap_or_else(|| panic!("tag {tag:?} should parse"));
            assert_eq!(version.to_string(), *want, "tag {tag:?}");
        }
    }

    #[test]
    fn is_valid_tag_grammar() {
        let cases: &[(&str, bool)] = &[
            ("latest", true),
            ("a", true),
            ("_", true),
            ("0", true),
            ("A-b_c.d", true),
            ("", false),
            (".a", false),
            ("-a", false),
            ("a b", false),
            ("a+b", false),
            ("ü", false),
        ];
        for (tag, want) in cases {
            assert_eq!(is_valid_tag(tag), *want, "tag {tag:?}");
        }
        assert!(is_valid_tag(&"x".repeat(128)), "128-character tag");
        assert!(!is_valid_tag(&"x".repeat(129)), "129-character tag");
    }

    #[test]
    fn parse_and_display_round_trip() {
        let cases: &[(&str, TagPolicy)] = &[
            ("commit-sha", TagPolicy::CommitSha),
            ("semver-rc", TagPolicy::SemverRc),
            ("semver", TagPolicy::Semver),
            ("any", TagPolicy::Any),
            (
                r"regex:^v\d+$",
                TagPolicy::Regex(Pattern::new(r"^v\d+$").unwrap()),
            ),
            (
                "regex:regex:x",
                TagPolicy::Regex(Pattern::new("regex:x").unwrap()),
            ),
        ];
        for (s, want) in cases {
            let got = TagPolicy::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(&got, want, "{s:?}");
            assert_eq!(got.to_string(), *s, "{s:?} displays as written");
            assert_eq!(
                s.parse::<TagPolicy>().as_ref(),
                Ok(want),
                "{s:?} via FromStr"
            );
        }
    }

    #[test]
    fn parse_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "semvr",
                r#"unknown tag policy "semvr"; expected one of commit-sha, semver-rc, semver, any, regex:<pattern>"#,
            ),
            (
                "Semver",
                r#"unknown tag policy "Semver"; expected one of commit-sha, semver-rc, semver, any, regex:<pattern>"#,
            ),
            (
                " semver",
                r#"unknown tag policy " semver"; expected one of commit-sha, semver-rc, semver, any, regex:<pattern>"#,
            ),
            (
                "",
                "empty tag policy; expected one of commit-sha, semver-rc, semver, any, regex:<pattern>",
            ),
            (
                "regex:(abc",
                r#"invalid tag policy "regex:(abc": unclosed group; expected regex:<pattern> with a valid regular expression, e.g. regex:v[0-9]+"#,
            ),
            (
                "regex:a)|(b",
                r#"invalid tag policy "regex:a)|(b": unopened group; expected regex:<pattern> with a valid regular expression, e.g. regex:v[0-9]+"#,
            ),
            (
                "regex:",
                r#"invalid tag policy "regex:": the pattern is empty; expected regex:<pattern> with a valid regular expression, e.g. regex:v[0-9]+"#,
            ),
        ];
        for (s, want) in cases {
            let got = TagPolicy::parse(s).expect_err(&format!("{s:?} should not parse"));
            assert_eq!(&got, want, "{s:?}");
        }
    }

    #[test]
    fn pattern_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "[a-",
                r#"invalid regular expression "[a-": unclosed character class; expected a valid regular expression"#,
            ),
            (
                "x{2,1}",
                r#"invalid regular expression "x{2,1}": invalid repetition count range, the start must be <= the end; expected a valid regular expression"#,
            ),
        ];
        for (source, want) in cases {
            let got = Pattern::new(source).expect_err(&format!("{source:?} should not compile"));
            assert_eq!(&got, want, "{source:?}");
        }
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Env {
        name: String,
        tags: TagPolicy,
    }

    #[test]
    fn serde_round_trip() {
        let cases: &[(&str, TagPolicy)] = &[
            ("commit-sha", TagPolicy::CommitSha),
            ("semver-rc", TagPolicy::SemverRc),
            ("semver", TagPolicy::Semver),
            ("any", TagPolicy::Any),
            (
                r"regex:^v\d+$",
                TagPolicy::Regex(Pattern::new(r"^v\d+$").unwrap()),
            ),
        ];
        for (spelling, want) in cases {
            let yaml = format!("name: dev\ntags: '{spelling}'\n");
            let env: Env =
                yaml_serde::from_str(&yaml).unwrap_or_else(|e| panic!("{spelling:?}: {e}"));
            assert_eq!(&env.tags, want, "{spelling:?} from YAML");
            let back = yaml_serde::to_string(&env).unwrap();
            let again: Env =
                yaml_serde::from_str(&back).unwrap_or_else(|e| panic!("{spelling:?} re-read: {e}"));
            assert_eq!(again, env, "{spelling:?} YAML round trip via {back:?}");
            let json = serde_json::to_string(want).unwrap();
            assert_eq!(
                json,
                serde_json::to_string(spelling).unwrap(),
                "{spelling:?} as JSON"
            );
            let from_json: TagPolicy = serde_json::from_str(&json).unwrap();
            assert_eq!(&from_json, want, "{spelling:?} JSON round trip");
        }
    }

    #[test]
    fn serde_errors_carry_location() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "name: dev\ntags: semvr\n",
                2,
                r#"unknown tag policy "semvr""#,
            ),
            (
                "name: dev\n\n\ntags: 'regex:(a'\n",
                4,
                r#"invalid tag policy "regex:(a": unclosed group"#,
            ),
            (
                "tags: latest\nname: dev\n",
                1,
                r#"unknown tag policy "latest""#,
            ),
        ];
        for (yaml, line, want) in cases {
            let err =
                yaml_serde::from_str::<Env>(yaml).expect_err(&format!("{yaml:?} should fail"));
            let location = err
                .location()
                .unwrap_or_else(|| panic!("{yaml:?}: no location in {err}"));
            assert_eq!(location.line(), *line, "{yaml:?}: line of {err}");
            assert!(err.to_string().contains(want), "{yaml:?}: {err}");
        }
    }
}

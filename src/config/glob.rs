//! Path globs for the configuration's `manifests` and `pinned.files` lists and
//! the image-name patterns of `images`.
//!
//! Globs match repository-relative paths with `/` separators, like gitignore
//! patterns: `*` matches any run of characters except `/`, `?` one character
//! except `/`, `**` as a whole path component matches zero or more components
//! (`**/x`, `a/**`, `a/**/b`; elsewhere it is a `*`), `[abc]`, `[a-z]`, `[!a]`
//! and `[[:alpha:]]` match one character from a class (never `/`), `{yaml,yml}`
//! matches one of the alternatives (they may nest), `\` makes the next
//! character literal (`\*`, `\[`, `\{`, `\\`), and every other character
//! matches itself. A glob always matches the whole path.
//!
//! Inside a class, characters are literal: `]` right after the `[` (or the
//! `!`) and `-` first or last stand for themselves. The POSIX classes are the
//! ASCII ones: `[:alnum:]`, `[:alpha:]`, `[:blank:]`, `[:cntrl:]`, `[:digit:]`,
//! `[:graph:]`, `[:lower:]`, `[:print:]`, `[:punct:]`, `[:space:]`, `[:upper:]`
//! and `[:xdigit:]`; any other name, or one outside brackets (`[:alpha:]` for
//! `[[:alpha:]]`), is an error rather than a class of its letters.
//!
//! Matching is by bytes of UTF-8: a non-ASCII letter written in a glob matches
//! itself and `*` spans any, but `?` stands for one byte (`file??.yaml`
//! matches `fileé.yaml`), and a class may hold ASCII characters only (a
//! non-ASCII one is an error, as globset would split it into bytes).
//!
//! A list of globs ([`GlobSet`]) may exclude: a pattern written with a leading
//! `!` (`!charts/*/templates/**`) is an exclusion. A path matches the list when
//! it matches at least one pattern without `!` and none with `!`. The order of
//! the list does not matter (unlike `.gitignore`, a later include does not
//! re-include an excluded path): an exclusion always wins.
//!
//! The matching is [`globset`]'s with `*` and `?` kept within a component and
//! `\` as the escape; this module words its errors and adds the exclusions.

use std::fmt;
use std::str::FromStr;

use globset::{Candidate, ErrorKind, GlobBuilder, GlobMatcher};

/// What a character class looks like, for error messages.
const CLASS_HELP: &str = "character classes look like [abc], [a-z] or [!a]";

/// What alternatives look like, for error messages.
const ALTERNATIVES_HELP: &str = "alternatives look like {yaml,yml}";

/// The POSIX class names that globset knows (ASCII only).
const POSIX_CLASSES: [&str; 12] = [
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
    "upper", "xdigit",
];

/// A compiled path glob, kept with the text it was written as.
///
/// Two globs are equal when their source text is equal.
#[derive(Clone)]
pub struct Glob {
    matcher: GlobMatcher,
}

impl Glob {
    /// Compiles a glob such as `apps/*/values.yaml` or `**/*.{yaml,yml}`.
    ///
    /// Fails with a one-line message naming the pattern and the problem: an
    /// empty pattern, a leading `/` or `./`, an unclosed `[` or `{`, an
    /// unmatched `}`, a reversed range such as `[z-a]`, an unknown POSIX class
    /// or a trailing `\`.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        compile(pattern)
            .map(|glob| Glob {
                matcher: glob.compile_matcher(),
            })
            .map_err(|problem| format!("invalid glob {pattern:?}: {problem}"))
    }

    /// Whether the glob matches the whole of `path`, a repository-relative path
    /// with `/` separators and no leading `./`.
    pub fn is_match(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        self.matcher.glob().glob()
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Glob").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Glob {
    /// Writes the glob as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Glob {}

impl FromStr for Glob {
    type Err = String;

    /// Same as [`Glob::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Glob::new(s)
    }
}

/// A list of globs that matches a path when one of its including globs does and
/// none of its excluding (`!`) globs does; order does not matter.
///
/// The empty set, and a set of exclusions only, match nothing. Two sets are
/// equal when they were written with the same globs in the same order.
#[derive(Clone, Default)]
pub struct GlobSet {
    globs: Vec<Glob>,
    excluded: Vec<Glob>,
    /// The including globs as one matcher (a path is tried once, not per glob).
    any_glob: globset::GlobSet,
    /// The excluding globs as one matcher.
    any_excluded: globset::GlobSet,
}

impl GlobSet {
    /// Compiles every pattern, a leading `!` making it an exclusion; fails with
    /// the error of the first bad one.
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let mut globs = Vec::new();
        let mut excluded = Vec::new();
        for pattern in patterns {
            match pattern.strip_prefix('!') {
                Some("") => {
                    return Err(format!(
                        "invalid glob {pattern:?}: `!` must be followed by the paths to exclude, e.g. !charts/*/templates/**"
                    ))
                }
                Some(exclusion) => excluded.push(Glob::new(exclusion).map_err(|e| {
                    // Name the pattern as written, `!` included.
                    e.replacen(&format!("{exclusion:?}"), &format!("{pattern:?}"), 1)
                })?),
                None => globs.push(Glob::new(pattern)?),
            }
        }
        Ok(GlobSet {
            any_glob: matcher(&globs)?,
            any_excluded: matcher(&excluded)?,
            globs,
            excluded,
        })
    }

    /// Whether an including glob matches `path` and no excluding glob does.
    pub fn is_match(&self, path: &str) -> bool {
        let path = Candidate::new(path);
        self.any_glob.is_match_candidate(&path) && !self.any_excluded.is_match_candidate(&path)
    }

    /// The including globs in the order they were given.
    pub fn globs(&self) -> &[Glob] {
        &self.globs
    }

    /// The excluding globs (written with `!`, kept here without it) in the order
    /// they were given.
    pub fn excluded(&self) -> &[Glob] {
        &self.excluded
    }

    /// Whether the set has no including globs (and so matches nothing).
    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }
}

impl fmt::Debug for GlobSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobSet")
            .field("globs", &self.globs)
            .field("excluded", &self.excluded)
            .finish()
    }
}

impl PartialEq for GlobSet {
    fn eq(&self, other: &Self) -> bool {
        self.globs == other.globs && self.excluded == other.excluded
    }
}

impl Eq for GlobSet {}

/// Compiles a glob with this module's syntax; the error is the bare problem.
fn compile(pattern: &str) -> Result<globset::Glob, String> {
    if pattern.is_empty() {
        return Err("the pattern is empty; write a path such as apps/*/values.yaml".to_string());
    }
    if pattern.starts_with('/') || pattern.starts_with("./") {
        return Err(
            "paths are relative to the repository root; drop the leading '/' or './'".to_string(),
        );
    }
    check_classes(pattern)?;
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
        .map_err(|e| match e.kind() {
            ErrorKind::UnclosedClass => format!("unclosed '['; {CLASS_HELP}"),
            ErrorKind::InvalidRange(start, end) => {
                format!("the range {start}-{end} is reversed; write it as {end}-{start}")
            }
            ErrorKind::UnclosedAlternates => format!("unclosed '{{'; {ALTERNATIVES_HELP}"),
            ErrorKind::UnopenedAlternates => {
                format!("'}}' without a '{{'; {ALTERNATIVES_HELP}, and \\}} is a literal '}}'")
            }
            ErrorKind::TooManyNestedAlternates => {
                format!("'{{' nested too deeply; {ALTERNATIVES_HELP}")
            }
            ErrorKind::DanglingEscape => {
                r"a trailing '\' escapes nothing; write \\ for a literal '\'".to_string()
            }
            kind => kind
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })
}

/// The globs as one globset matcher.
fn matcher(globs: &[Glob]) -> Result<globset::GlobSet, String> {
    let mut set = globset::GlobSetBuilder::new();
    for glob in globs {
        set.add(glob.matcher.glob().clone());
    }
    set.build()
        .map_err(|e| format!("invalid globs: {}", e.kind()))
}

/// Refuses the classes globset would silently misread: an unknown POSIX class
/// name inside brackets (`[[:alpah:]]`) or a POSIX class outside them
/// (`[:alpha:]`), both read as a class of their letters, and a non-ASCII
/// character in a class (read as its UTF-8 bytes, so `[é]` never matches
/// `é`). Walks the pattern the way globset parses it.
fn check_classes(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '[' => {
                if let Some(name) = posix_class_at(&chars, i) {
                    return Err(if POSIX_CLASSES.contains(&name.as_str()) {
                        format!("[:{name}:] belongs inside brackets: write [[:{name}:]]")
                    } else {
                        unknown_posix_class(&name)
                    });
                }
                i += 1;
                if matches!(chars.get(i), Some('!' | '^')) {
                    i += 1;
                }
                let first = i;
                while let Some(&c) = chars.get(i) {
                    if c == ']' && i > first {
                        break;
                    }
                    match posix_class_at(&chars, i) {
                        Some(name) if POSIX_CLASSES.contains(&name.as_str()) => {
                            i += name.chars().count() + 4;
                        }
                        Some(name) => return Err(unknown_posix_class(&name)),
                        None if !c.is_ascii() => {
                            return Err(format!(
                                "{c:?} in a class: a class matches one byte and {c:?} is not ASCII; write {c} outside brackets, or * in its place"
                            ))
                        }
                        None => i += 1,
                    }
                }
                // The closing `]` (an unclosed class is globset's to report).
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// The name of the POSIX class written at `chars[i..]` (`[:name:]`), if one is.
fn posix_class_at(chars: &[char], i: usize) -> Option<String> {
    if chars.get(i) != Some(&'[') || chars.get(i + 1) != Some(&':') {
        return None;
    }
    let name: String = chars[i + 2..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let end = i + 2 + name.len();
    (!name.is_empty() && chars.get(end) == Some(&':') && chars.get(end + 1) == Some(&']'))
        .then_some(name)
}

/// The error for `[:name:]` with a name that is not a POSIX class.
fn unknown_posix_class(name: &str) -> String {
    let known: Vec<String> = POSIX_CLASSES.iter().map(|n| format!("[:{n}:]")).collect();
    format!(
        "[:{name}:] is not a POSIX class; the classes are {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_paths() {
        let cases: &[(&str, &str, bool)] = &[
            ("apps/*/values.yaml", "apps/cart/values.yaml", true),
            ("apps/*/values.yaml", "apps/cart/x/values.yaml", false),
            ("apps/*/values.yaml", "apps/values.yaml", false),
            ("apps/*/values.yaml", "apps//values.yaml", true),
            ("*.yaml", "a.yaml", true),
            ("*.yaml", "a/b.yaml", false),
            ("*.yaml", ".hidden.yaml", true),
            ("*.yaml", "a.yaml.bak", false),
            ("*.yaml", "ayaml", false),
            ("**/*.yml", "a.yml", true),
            ("**/*.yml", "x/y/a.yml", true),
            ("**/*.yml", "x/y/a.yaml", false),
            ("**/*.yaml", "a.yaml", true),
            ("**/*.yaml", "x/y/a.yaml", true),
            ("apps/**", "apps/a", true),
            ("apps/**", "apps/a/b/c.yaml", true),
            ("apps/**", "apps", false),
            ("apps/**", "appsx/a", false),
            ("apps/**", "other/apps/a", false),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "a/xb", false),
            ("a/**/b", "ab", false),
            ("**", "anything/at/all", true),
            ("**/", "a/", true),
            ("a**b", "axxb", true),
            ("a**b", "ax/xb", false),
            ("**.yaml", "x.yaml", true),
            ("**.yaml", "a/x.yaml", false),
            ("a/***/b", "a/x/b", true),
            ("a/***/b", "a/x/y/b", false),
            ("file?.yaml", "file1.yaml", true),
            ("file?.yaml", "file.yaml", false),
            ("file?.yaml", "file12.yaml", false),
            ("a?b", "a/b", false),
            // `?` is one byte: two for a two-byte letter (was: one character).
            ("file?.yaml", "fileé.yaml", false),
            ("file??.yaml", "fileé.yaml", true),
            ("file*.yaml", "fileé.yaml", true),
            ("fileé.yaml", "fileé.yaml", true),
            ("[abc].yaml", "b.yaml", true),
            ("[abc].yaml", "d.yaml", false),
            ("[a-z]1", "q1", true),
            ("[a-z]1", "Q1", false),
            ("[!a]1", "b1", true),
            ("[!a]1", "a1", false),
            ("[^a]1", "b1", true),
            ("x[!a]y", "x/y", false),
            ("x[.-0]y", "x/y", false),
            ("x[.-0]y", "x.y", true),
            ("[]]", "]", true),
            ("[!]]", "a", true),
            ("[!]]", "]", false),
            ("[a-]", "-", true),
            ("[-a]", "-", true),
            ("[\\]", "\\", true),
            ("[&&]", "&", true),
            ("[[]", "[", true),
            ("*.{yaml,yml}", "a.yaml", true),
            ("*.{yaml,yml}", "a.yml", true),
            ("*.{yaml,yml}", "a.json", false),
            ("{apps,infra}/**", "infra/x.yaml", true),
            ("{apps,infra}/**", "other/x.yaml", false),
            ("{a/b,c}.yaml", "a/b.yaml", true),
            ("{a,}x", "x", true),
            ("{*.yaml,x?}", "v.yaml", true),
            ("{*.yaml,x?}", "xy", true),
            // A lone `}` is now an error (see glob_errors); escaped, it is literal.
            ("a,b\\}", "a,b}", true),
            ("a.b", "axb", false),
            ("a+b(c)|$^", "a+b(c)|$^", true),
            // `\` escapes (was: a literal backslash).
            ("a\\b", "ab", true),
            ("a\\b", "a\\b", false),
            ("a\\\\b", "a\\b", true),
            ("values.yaml", "values.yaml", true),
            ("values.yaml", "apps/values.yaml", false),
            ("a\nb", "a\nb", true),
            ("*", "a\nb", true),
        ];
        for (pattern, path, want) in cases {
            let glob = Glob::new(pattern).unwrap_or_else(|e| panic!("glob {pattern:?}: {e}"));
            assert_eq!(
                glob.is_match(path),
                *want,
                "glob {pattern:?} against {path:?}"
            );
        }
    }

    #[test]
    fn glob_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "",
                r#"invalid glob "": the pattern is empty; write a path such as apps/*/values.yaml"#,
            ),
            (
                "/apps/*",
                r#"invalid glob "/apps/*": paths are relative to the repository root; drop the leading '/' or './'"#,
            ),
            (
                "./apps/*",
                r#"invalid glob "./apps/*": paths are relative to the repository root; drop the leading '/' or './'"#,
            ),
            (
                "apps/[a-z",
                r#"invalid glob "apps/[a-z": unclosed '['; character classes look like [abc], [a-z] or [!a]"#,
            ),
            (
                "[]",
                r#"invalid glob "[]": unclosed '['; character classes look like [abc], [a-z] or [!a]"#,
            ),
            (
                "[!",
                r#"invalid glob "[!": unclosed '['; character classes look like [abc], [a-z] or [!a]"#,
            ),
            (
                "*.{yaml,yml",
                r#"invalid glob "*.{yaml,yml": unclosed '{'; alternatives look like {yaml,yml}"#,
            ),
            (
                "a,b}",
                r#"invalid glob "a,b}": '}' without a '{'; alternatives look like {yaml,yml}, and \} is a literal '}'"#,
            ),
            (
                "{a}}",
                r#"invalid glob "{a}}": '}' without a '{'; alternatives look like {yaml,yml}, and \} is a literal '}'"#,
            ),
            (
                "{a,{b,c}",
                r#"invalid glob "{a,{b,c}": unclosed '{'; alternatives look like {yaml,yml}"#,
            ),
            (
                "\\{yaml,yml}",
                r#"invalid glob "\\{yaml,yml}": '}' without a '{'; alternatives look like {yaml,yml}, and \} is a literal '}'"#,
            ),
            (
                "[[:alpha:]",
                r#"invalid glob "[[:alpha:]": unclosed '['; character classes look like [abc], [a-z] or [!a]"#,
            ),
            (
                "apps\\",
                r#"invalid glob "apps\\": a trailing '\' escapes nothing; write \\ for a literal '\'"#,
            ),
            (
                "[[:alpah:]]",
                r#"invalid glob "[[:alpah:]]": [:alpah:] is not a POSIX class; the classes are [:alnum:], [:alpha:], [:blank:], [:cntrl:], [:digit:], [:graph:], [:lower:], [:print:], [:punct:], [:space:], [:upper:], [:xdigit:]"#,
            ),
            (
                "x[![:Digit:]]",
                r#"invalid glob "x[![:Digit:]]": [:Digit:] is not a POSIX class; the classes are [:alnum:], [:alpha:], [:blank:], [:cntrl:], [:digit:], [:graph:], [:lower:], [:print:], [:punct:], [:space:], [:upper:], [:xdigit:]"#,
            ),
            (
                "v[:digit:].yaml",
                r#"invalid glob "v[:digit:].yaml": [:digit:] belongs inside brackets: write [[:digit:]]"#,
            ),
            (
                "[:word:]",
                r#"invalid glob "[:word:]": [:word:] is not a POSIX class; the classes are [:alnum:], [:alpha:], [:blank:], [:cntrl:], [:digit:], [:graph:], [:lower:], [:print:], [:punct:], [:space:], [:upper:], [:xdigit:]"#,
            ),
            (
                "caf[eé]",
                r#"invalid glob "caf[eé]": 'é' in a class: a class matches one byte and 'é' is not ASCII; write é outside brackets, or * in its place"#,
            ),
            (
                "[z-a]",
                r#"invalid glob "[z-a]": the range z-a is reversed; write it as a-z"#,
            ),
        ];
        for (pattern, want) in cases {
            let got =
                Glob::new(pattern).expect_err(&format!("glob {pattern:?} should not compile"));
            assert_eq!(&got, want, "glob {pattern:?}");
        }
    }

    /// Checks (pattern, path, matches) cases.
    fn check_matches(cases: &[(&str, &str, bool)]) {
        for (pattern, path, want) in cases {
            let glob = Glob::new(pattern).unwrap_or_else(|e| panic!("glob {pattern:?}: {e}"));
            assert_eq!(
                glob.is_match(path),
                *want,
                "glob {pattern:?} against {path:?}"
            );
        }
    }

    #[test]
    fn glob_escapes() {
        check_matches(&[
            (r"\*.yaml", "*.yaml", true),
            (r"\*.yaml", "a.yaml", false),
            (r"a\?", "a?", true),
            (r"a\?", "ab", false),
            (r"\[abc].yaml", "[abc].yaml", true),
            (r"\[abc].yaml", "a.yaml", false),
            (r"\{yaml,yml\}", "{yaml,yml}", true),
            (r"\{yaml,yml\}", "yaml", false),
            (r"apps/\[x", "apps/[x", true),
            // `\` does not escape inside a class: `[a-z\]` closes at the `]`.
            (r"[a-z\]x", r"\x", true),
            (r"[a-z\]x", "qx", true),
            (r"a\,b", "a,b", true),
            (r"{a\,b,c}", "a,b", true),
            (r"{a\,b,c}", "c", true),
            (r"{a\,b,c}", "a", false),
            (r"{a\}b,c}", "a}b", true),
            (r"\\", r"\", true),
            (r"a\\*", r"a\bc", true),
            (r"\!a", "!a", true),
            (r"\a", "a", true),
            (r"apps/\*\*/x", "apps/**/x", true),
            (r"apps/\*\*/x", "apps/b/x", false),
            // Inside a class `\` is itself: `[\*]` is `\` or `*`.
            (r"[\*]", r"\", true),
            (r"[\*]", "*", true),
        ]);
    }

    #[test]
    fn glob_posix_classes() {
        check_matches(&[
            ("[[:alpha:]]", "a", true),
            ("[[:alpha:]]", "Z", true),
            ("[[:alpha:]]", "1", false),
            ("[[:alpha:]]", ":", false),
            ("[[:alpha:]]", "é", false),
            ("v[[:digit:]].yaml", "v1.yaml", true),
            ("v[[:digit:]].yaml", "vx.yaml", false),
            ("[[:digit:]a-f]", "c", true),
            ("[[:digit:]a-f]", "7", true),
            ("[[:digit:]a-f]", "g", false),
            ("[![:digit:]]", "a", true),
            ("[![:digit:]]", "4", false),
            ("[^[:upper:]]", "a", true),
            ("[^[:upper:]]", "A", false),
            ("[[:lower:][:digit:]]x", "3x", true),
            ("[[:xdigit:]]", "F", true),
            ("[[:xdigit:]]", "g", false),
            ("[[:space:]]", " ", true),
            ("[[:alnum:]]*", "web1", true),
            // `[:punct:]` holds `/`, and a class never matches `/`.
            ("a[[:punct:]]b", "a-b", true),
            ("a[[:punct:]]b", "a/b", false),
            ("a[[:graph:]]b", "a/b", false),
            ("a[![:alpha:]]b", "a/b", false),
            // `[` followed by `:` without a POSIX name is a literal `[`.
            ("[[:]", "[", true),
            ("[[:]", ":", true),
        ]);
    }

    #[test]
    fn glob_recursive_wildcards() {
        check_matches(&[
            ("**/x.yaml", "x.yaml", true),
            ("**/x.yaml", "a/x.yaml", true),
            ("**/x.yaml", "a/b/c/x.yaml", true),
            ("**/x.yaml", "a/bx.yaml", false),
            ("**/x.yaml", "x.yaml/y", false),
            ("a/**", "a/x", true),
            ("a/**", "a/x/y", true),
            ("a/**", "a", false),
            ("a/**", "ab/x", false),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/b", true),
            ("a/**/b", "a/x/y/z/b", true),
            ("a/**/b", "a/x/y/bb", false),
            ("a/**/b", "b", false),
            ("**/a/**", "x/a/y", true),
            ("**/a/**", "a/y", true),
            ("**/a/**", "x/ab/y", false),
            ("**", "a", true),
            ("**", "a/b/c", true),
            // `**` that is not a whole component is a `*`.
            ("a**", "abc", true),
            ("a**", "a/b", false),
            ("**a", "xa", true),
            ("**a", "x/a", false),
            ("a/**b", "a/xb", true),
            ("a/**b", "a/x/b", false),
        ]);
    }

    #[test]
    fn glob_alternatives() {
        check_matches(&[
            ("*.{yaml,yml}", "a.yaml", true),
            ("*.{yaml,yml}", "a.yml", true),
            ("*.{yaml,yml}", "a.json", false),
            ("*.{yaml,yml}", "a.yamlyml", false),
            ("{apps,infra}/*.yaml", "apps/a.yaml", true),
            ("{apps,infra}/*.yaml", "infra/a.yaml", true),
            ("{apps,infra}/*.yaml", "other/a.yaml", false),
            ("{,apps/}x", "x", true),
            ("{,apps/}x", "apps/x", true),
            ("{a,{b,c}}", "c", true),
            ("{a,{b,c}}", "a", true),
            ("{a,{b,c}}", "d", false),
            ("{a*,b?}", "abc", true),
            ("{a*,b?}", "bc", true),
            ("{a*,b?}", "a/c", false),
            ("{a[0-9],b}", "a7", true),
            ("{**/*.yaml,x}", "d/e.yaml", true),
            ("values{,-*}.yaml", "values.yaml", true),
            ("values{,-*}.yaml", "values-prod.yaml", true),
            ("values{,-*}.yaml", "values-a/b.yaml", false),
        ]);
    }

    #[test]
    fn glob_classes_never_match_a_slash() {
        check_matches(&[
            ("a[/]b", "a/b", false),
            ("a[!x]b", "a/b", false),
            ("a[^x]b", "a/b", false),
            ("a[!/]b", "a/b", false),
            ("a[!/]b", "a.b", true),
            ("a[ -~]b", "a/b", false),
            ("a[ -~]b", "a~b", true),
            ("a[+-0]b", "a/b", false),
            ("a[+-0]b", "a.b", true),
            ("a[/-9]b", "a/b", false),
            ("a[/-9]b", "a5b", true),
            ("a[*]b", "a*b", true),
            ("a[*]b", "a/b", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
        ]);
    }

    #[test]
    fn glob_keeps_source() {
        let cases: &[&str] = &[
            "apps/*/values.yaml",
            "**/*.{yaml,yml}",
            "[!a]?",
            r"a\*[[:digit:]]",
        ];
        for pattern in cases {
            let glob: Glob = pattern
                .parse()
                .unwrap_or_else(|e| panic!("glob {pattern:?}: {e}"));
            assert_eq!(glob.as_str(), *pattern, "as_str of {pattern:?}");
            assert_eq!(glob.to_string(), *pattern, "Display of {pattern:?}");
            assert_eq!(
                format!("{glob:?}"),
                format!("Glob({pattern:?})"),
                "Debug of {pattern:?}"
            );
            assert_eq!(glob, Glob::new(pattern).unwrap(), "equality of {pattern:?}");
        }
    }

    #[test]
    fn glob_set_matches_any() {
        let patterns = vec!["apps/*/values.yaml".to_string(), "**/*.yml".to_string()];
        let set = GlobSet::new(&patterns).unwrap();
        let cases: &[(&str, bool)] = &[
            ("apps/cart/values.yaml", true),
            ("deep/dir/x.yml", true),
            ("apps/cart/x/values.yaml", false),
            ("README.md", false),
        ];
        for (path, want) in cases {
            assert_eq!(set.is_match(path), *want, "set against {path:?}");
        }
        assert_eq!(set.globs().len(), 2, "globs kept in order");
        assert!(!set.is_empty(), "non-empty set");

        let empty = GlobSet::new(&[]).unwrap();
        assert!(empty.is_empty(), "empty set");
        assert!(!empty.is_match("anything"), "empty set matches nothing");
        assert_eq!(empty, GlobSet::default(), "empty set is the default");
    }

    #[test]
    fn glob_set_exclusions_win_whatever_the_order() {
        let default = [
            "**/*.yaml",
            "**/*.yml",
            "!charts/*/templates/**",
            "!.github/**",
        ];
        // (patterns, path, matches)
        let cases: &[(&[&str], &str, bool)] = &[
            (&default, "apps/web/deployment.yaml", true),
            (&default, "x.yml", true),
            (&default, "charts/web/values.yaml", true),
            (&default, "charts/web/Chart.yaml", true),
            (&default, "charts/web/templates/deployment.yaml", false),
            (&default, "charts/web/templates/sub/x.yml", false),
            (&default, "deploy/helm/templates/x.yaml", true),
            (&default, "charts/templates/x.yaml", true),
            (&default, ".github/workflows/ci.yml", false),
            (&default, ".github/dependabot.yaml", false),
            (&default, "apps/.github/x.yaml", true),
            (&default, "README.md", false),
            // An exclusion before the include it overrides: still excluded.
            (&["!apps/legacy/**", "apps/**"], "apps/legacy/a.yaml", false),
            (&["!apps/legacy/**", "apps/**"], "apps/web/a.yaml", true),
            // A later include does not re-include.
            (
                &["apps/**", "!apps/**", "apps/web/*"],
                "apps/web/a.yaml",
                false,
            ),
            // Exclusions alone match nothing.
            (&["!apps/**"], "other/a.yaml", false),
            (&["!apps/**"], "apps/a.yaml", false),
            // `!` only counts first: "a!b" is a plain glob.
            (&["a!b"], "a!b", true),
            // An escaped `!` is a path that starts with `!`.
            (&["\\!a"], "!a", true),
            (&["\\!a"], "a", false),
            // Exclusions take the full syntax.
            (&["**", "!**/*.{md,txt}"], "a/b.md", false),
            (&["**", "!**/*.{md,txt}"], "a/b.yaml", true),
            (&["**", "![[:upper:]]*"], "README", false),
            (&["**", "![[:upper:]]*"], "apps/README", true),
            (&["**", "!apps/\\*"], "apps/*", false),
            (&["**", "!apps/\\*"], "apps/a", true),
            // Several includes, several exclusions.
            (&["a/**", "b/**", "!**/x", "!b/y/**"], "a/y/z", true),
            (&["a/**", "b/**", "!**/x", "!b/y/**"], "b/y/z", false),
            (&["a/**", "b/**", "!**/x", "!b/y/**"], "a/q/x", false),
            (&["a/**", "b/**", "!**/x", "!b/y/**"], "c/q", false),
        ];
        for (patterns, path, want) in cases {
            let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
            let set = GlobSet::new(&patterns).unwrap_or_else(|e| panic!("{patterns:?}: {e}"));
            assert_eq!(set.is_match(path), *want, "{patterns:?} against {path:?}");
        }
        let set = GlobSet::new(&default.map(String::from)).unwrap();
        assert_eq!(set.globs().len(), 2);
        assert_eq!(set.excluded()[0].as_str(), "charts/*/templates/**");
        assert!(!set.is_empty());
        assert!(GlobSet::new(&["!a".to_owned()]).unwrap().is_empty());
        assert_eq!(
            GlobSet::new(&["!".to_owned()]).unwrap_err(),
            r#"invalid glob "!": `!` must be followed by the paths to exclude, e.g. !charts/*/templates/**"#
        );
        assert_eq!(
            GlobSet::new(&["!a/[b".to_owned()]).unwrap_err(),
            r#"invalid glob "!a/[b": unclosed '['; character classes look like [abc], [a-z] or [!a]"#
        );
        assert_eq!(
            GlobSet::new(&["a".to_owned(), "!{b".to_owned()]).unwrap_err(),
            r#"invalid glob "!{b": unclosed '{'; alternatives look like {yaml,yml}"#
        );
    }

    #[test]
    fn glob_set_reports_first_bad_pattern() {
        let patterns = vec![
            "ok/*".to_string(),
            "bad/[x".to_string(),
            "{also".to_string(),
        ];
        let err = GlobSet::new(&patterns).expect_err("a bad pattern should fail the set");
        assert_eq!(
            err,
            r#"invalid glob "bad/[x": unclosed '['; character classes look like [abc], [a-z] or [!a]"#
        );
    }
}

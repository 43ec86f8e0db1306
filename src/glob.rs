//! Path globs for the configuration's `manifests` and `pinned.files` lists.
//!
//! Globs match repository-relative paths with `/` separators, like gitignore
//! patterns: `*` matches any run of characters except `/`, `?` one character
//! except `/`, `**` as a whole path component matches zero or more components,
//! `[abc]`, `[a-z]` and `[!a]` match one character from a class (never `/`),
//! `{yaml,yml}` matches one of the alternatives, and every other character
//! matches itself. A glob always matches the whole path.
//!
//! A list of globs ([`GlobSet`]) may exclude: a pattern written with a leading
//! `!` (`!charts/*/templates/**`) is an exclusion. A path matches the list when
//! it matches at least one pattern without `!` and none with `!`. The order of
//! the list does not matter (unlike `.gitignore`, a later include does not
//! re-include an excluded path): an exclusion always wins.

use std::fmt;
use std::str::FromStr;

use regex::Regex;

/// What a character class looks like, for error messages.
const CLASS_HELP: &str = "character classes look like [abc], [a-z] or [!a]";

/// What alternatives look like, for error messages.
const ALTERNATIVES_HELP: &str = "alternatives look like {yaml,yml}";

/// A compiled path glob, kept with the text it was written as.
///
/// Two globs are equal when their source text is equal.
#[derive(Clone)]
pub struct Glob {
    source: String,
    regex: Regex,
}

impl Glob {
    /// Compiles a glob such as `apps/*/values.yaml` or `**/*.{yaml,yml}`.
    ///
    /// Fails with a one-line message naming the pattern and the problem: an
    /// empty pattern, a leading `/` or `./`, an unclosed `[` or `{`, a nested `{`
    /// or a reversed range such as `[z-a]`.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let regex =
            to_regex(pattern).map_err(|problem| format!("invalid glob {pattern:?}: {problem}"))?;
        let regex = Regex::new(&regex).map_err(|e| {
            let reason = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            format!("invalid glob {pattern:?}: {reason}")
        })?;
        Ok(Glob {
            source: pattern.to_string(),
            regex,
        })
    }

    /// Whether the glob matches the whole of `path`, a repository-relative path
    /// with `/` separators and no leading `./`.
    pub fn is_match(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Glob").field(&self.source).finish()
    }
}

impl fmt::Display for Glob {
    /// Writes the glob as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
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
/// The empty set, and a set of exclusions only, match nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobSet {
    globs: Vec<Glob>,
    excluded: Vec<Glob>,
}

impl GlobSet {
    /// Compiles every pattern, a leading `!` making it an exclusion; fails with
    /// the error of the first bad one.
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let mut set = GlobSet::default();
        for pattern in patterns {
            match pattern.strip_prefix('!') {
                Some("") => {
                    return Err(format!(
                        "invalid glob {pattern:?}: `!` must be followed by the paths to exclude, e.g. !charts/*/templates/**"
                    ))
                }
                Some(excluded) => set.excluded.push(Glob::new(excluded).map_err(|e| {
                    // Name the pattern as written, `!` included.
                    e.replacen(&format!("{excluded:?}"), &format!("{pattern:?}"), 1)
                })?),
                None => set.globs.push(Glob::new(pattern)?),
            }
        }
        Ok(set)
    }

    /// Whether an including glob matches `path` and no excluding glob does.
    pub fn is_match(&self, path: &str) -> bool {
        self.globs.iter().any(|glob| glob.is_match(path))
            && !self.excluded.iter().any(|glob| glob.is_match(path))
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

/// Translates a glob into an anchored regular expression; the error is the bare problem.
fn to_regex(pattern: &str) -> Result<String, String> {
    if pattern.is_empty() {
        return Err("the pattern is empty; write a path such as apps/*/values.yaml".to_string());
    }
    if pattern.starts_with('/') || pattern.starts_with("./") {
        return Err(
            "paths are relative to the repository root; drop the leading '/' or './'".to_string(),
        );
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from(r"\A(?s:");
    let mut in_alternatives = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => {
                let start = i;
                while i < chars.len() && chars[i] == '*' {
                    i += 1;
                }
                let starts_component = start == 0 || chars[start - 1] == '/';
                let ends_component = i == chars.len() || chars[i] == '/';
                if i - start == 2 && starts_component && ends_component && !in_alternatives {
                    if i == chars.len() {
                        // "a/**" or "**": everything below.
                        re.push_str(".*");
                    } else {
                        // "**/": zero or more whole components.
                        re.push_str("(?:.*/)?");
                        i += 1;
                    }
                } else {
                    re.push_str("[^/]*");
                }
                continue;
            }
            '?' => re.push_str("[^/]"),
            '[' => i = class(&chars, i, &mut re)?,
            '{' if in_alternatives => {
                return Err(format!("nested '{{' is not supported; {ALTERNATIVES_HELP}"));
            }
            '{' => {
                in_alternatives = true;
                re.push_str("(?:");
            }
            ',' if in_alternatives => re.push('|'),
            '}' if in_alternatives => {
                in_alternatives = false;
                re.push(')');
            }
            _ => re.push_str(&escape(c)),
        }
        i += 1;
    }
    if in_alternatives {
        return Err(format!("unclosed '{{'; {ALTERNATIVES_HELP}"));
    }
    re.push_str(r")\z");
    Ok(re)
}

/// Translates the character class starting at `chars[open] == '['` into `re`;
/// returns the index of its closing `]`.
fn class(chars: &[char], open: usize, re: &mut String) -> Result<usize, String> {
    let mut i = open + 1;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let first = i;
    let mut items = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(format!("unclosed '['; {CLASS_HELP}"));
        };
        // A ']' right after the opening (or the '!') is a literal ']'.
        if c == ']' && i > first {
            break;
        }
        match (chars.get(i + 1), chars.get(i + 2)) {
            (Some('-'), Some(&end)) if end != ']' => {
                if end < c {
                    return Err(format!(
                        "the range {c}-{end} is reversed; write it as {end}-{c}"
                    ));
                }
                items.push_str(&format!("{}-{}", escape(c), escape(end)));
                i += 3;
            }
            _ => {
                items.push_str(&escape(c));
                i += 1;
            }
        }
    }
    if negated {
        re.push_str(&format!("[^/{items}]"));
    } else {
        re.push_str(&format!("[[{items}]&&[^/]]"));
    }
    Ok(i)
}

/// A single character as a regular expression that matches it literally.
fn escape(c: char) -> String {
    regex::escape(c.encode_utf8(&mut [0; 4]))
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
            ("file?.yaml", "fileé.yaml", true),
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
            ("a,b}", "a,b}", true),
            ("a.b", "axb", false),
            ("a+b(c)|$^", "a+b(c)|$^", true),
            ("a\\b", "a\\b", true),
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
                "{a,{b,c}}",
                r#"invalid glob "{a,{b,c}}": nested '{' is not supported; alternatives look like {yaml,yml}"#,
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

    #[test]
    fn glob_keeps_source() {
        let cases: &[&str] = &["apps/*/values.yaml", "**/*.{yaml,yml}", "[!a]?"];
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

//! Container image references (`registry/path/name:tag@digest`) as plain data:
//! parsing, display and matching by name. Pure: strings in, values out.
//!
//! One image can be written several ways: `redis`, `docker.io/redis`,
//! `docker.io/library/redis`, `index.docker.io/library/redis` and
//! `registry-1.docker.io/library/redis` all name Docker Hub's official `redis`.
//! Names are kept as written (that is what is shown) and compared through
//! [`canonical_name`] (`docker.io/library/redis`), see [`same_image`].

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::config::glob::GlobSet;

/// Registry host: DNS labels separated by dots, with an optional port.
static REGISTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$",
    )
    .expect("registry regex")
});

/// One repository path component: lowercase alphanumerics joined by `.`, `_`, `__` or dashes.
static PATH_COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$").expect("path component regex")
});

/// A tag: up to 128 word characters, dots and dashes, not starting with `.` or `-`.
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("tag regex"));

/// A digest: `algorithm:hex`, the algorithm as in the OCI image spec.
static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([0-9a-f]{32,})$").expect("digest regex")
});

/// A container image reference: `name[:tag][@digest]`.
///
/// The name is kept exactly as written: `nginx` stays `nginx`, it is not
/// expanded to `docker.io/library/nginx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// Registry (optional) and repository path, e.g. `registry.example.com:5000/shop/cart`.
    pub name: String,
    /// The tag after `:`, e.g. `1.2.3`.
    pub tag: Option<String>,
    /// The digest after `@`, e.g. `sha256:…`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses an image reference such as `nginx`, `nginx:1.25`,
    /// `registry.example.com:5000/shop/cart:1.2.3` or `ghcr.io/org/app@sha256:…`.
    ///
    /// A `:` starts the tag only after the last `/` (before it, it is a registry
    /// port). The first path component is a registry host when it contains `.` or
    /// `:` or is `localhost` and more components follow; the repository path after
    /// it must be lowercase.
    pub fn parse(reference: &str) -> Result<ImageRef, String> {
        if reference.is_empty() {
            return Err("the image reference is empty".to_owned());
        }
        if reference.chars().any(char::is_whitespace) {
            return Err(format!("image {reference:?} contains whitespace"));
        }

        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                check_digest(reference, digest)?;
                (rest, Some(digest.to_owned()))
            }
            None => (reference, None),
        };

        let path_start = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[path_start..].find(':') {
            Some(i) => {
                let colon = path_start + i;
                let tag = &rest[colon + 1..];
                if tag.is_empty() {
                    return Err(format!("image {reference:?} has an empty tag after ':'"));
                }
                if !TAG.is_match(tag) {
                    return Err(format!(
                        "image {reference:?} has an invalid tag {tag:?} (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')"
                    ));
                }
                (&rest[..colon], Some(tag.to_owned()))
            }
            None => (rest, None),
        };

        check_name(reference, name)?;
        Ok(ImageRef {
            name: name.to_owned(),
            tag,
            digest,
        })
    }

    /// The last path component of the name: `cart` for
    /// `registry.example.com:5000/shop/cart`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// The name in its one canonical form, registry and namespace spelled out:
    /// `docker.io/library/redis` for `redis`, `docker.io/redis` or
    /// `index.docker.io/library/redis`; other names as written, with the registry
    /// host in lowercase. See [`canonical_name`].
    pub fn canonical_name(&self) -> String {
        canonical_name(&self.name)
    }

    /// Whether `query` names this image: it is the same image as the full name
    /// ([`same_image`]: `redis`, `docker.io/redis` and `docker.io/library/redis`
    /// are one), or, when it has no `/`, equals the short name. Tags and digests
    /// are not compared.
    pub fn matches(&self, query: &str) -> bool {
        query == self.name
            || (!query.contains('/') && query == self.short_name())
            || same_image(query, &self.name)
    }
}

/// Docker Hub's registry, as the canonical name spells it.
const DOCKER_HUB: &str = "docker.io";

/// The other spellings of Docker Hub's registry host.
const DOCKER_HUB_ALIASES: &[&str] = &["index.docker.io", "registry-1.docker.io"];

/// Whether the first component of a name is a registry host: it has a `.` or a
/// `:`, or is `localhost`, and more components follow (as docker reads names).
fn registry_of(name: &str) -> Option<(&str, &str)> {
    let (first, rest) = name.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some((first, rest))
}

/// An image name (no tag, no digest) in its canonical form: the registry spelled
/// out and in lowercase, Docker Hub as `docker.io` and its official images under
/// `library/`. `redis`, `docker.io/redis`, `index.docker.io/library/redis` →
/// `docker.io/library/redis`; `bitnami/redis` → `docker.io/bitnami/redis`;
/// `Registry.Example.com/shop/cart` → `registry.example.com/shop/cart`.
///
/// It works on any text (a name that does not parse is canonicalised by the same
/// rules), so that it can also be applied to a glob of names.
pub fn canonical_name(name: &str) -> String {
    let (registry, path) = match registry_of(name) {
        Some((registry, path)) => (registry.to_ascii_lowercase(), path),
        None => (DOCKER_HUB.to_owned(), name),
    };
    let registry = if DOCKER_HUB_ALIASES.contains(&registry.as_str()) {
        DOCKER_HUB.to_owned()
    } else {
        registry
    };
    if registry == DOCKER_HUB && !path.contains('/') {
        format!("{registry}/library/{path}")
    } else {
        format!("{registry}/{path}")
    }
}

/// Whether two image names (without tags) name the same image once canonical
/// ([`canonical_name`]): `redis` and `docker.io/library/redis` do, `redis` and
/// `bitnami/redis` do not.
pub fn same_image(a: &str, b: &str) -> bool {
    a == b || canonical_name(a) == canonical_name(b)
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn check_digest(reference: &str, digest: &str) -> Result<(), String> {
    let invalid =
        |why: &str| format!("image {reference:?} has an invalid digest {digest:?}: {why}");
    let Some(caps) = DIGEST.captures(digest) else {
        return Err(invalid(
            "expected algorithm:hex, e.g. sha256: and 64 lowercase hex digits",
        ));
    };
    let needed = match &caps[1] {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    };
    match needed {
        Some(n) if caps[2].len() != n => Err(invalid(&format!(
            "{} needs {n} lowercase hex digits",
            &caps[1]
        ))),
        _ => Ok(()),
    }
}

fn check_name(reference: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("image {reference:?} has no name"));
    }
    let components: Vec<&str> = name.split('/').collect();
    let first = components[0];
    let has_registry = components.len() > 1
        && (first.contains('.') || first.contains(':') || first == "localhost");
    let path = if has_registry {
        if !REGISTRY.is_match(first) {
            return Err(format!(
                "image {reference:?} has an invalid registry host {first:?}"
            ));
        }
        &components[1..]
    } else {
        &components[..]
    };
    for component in path {
        if component.is_empty() {
            return Err(format!(
                "image {reference:?} has an empty path component (a doubled, leading or trailing '/')"
            ));
        }
        if component.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "image {reference:?} has uppercase letters in its repository path; use lowercase"
            ));
        }
        if !PATH_COMPONENT.is_match(component) {
            return Err(format!(
                "image {reference:?} has an invalid repository path component {component:?} (lowercase letters and digits, joined by '.', '_' or '-')"
            ));
        }
    }
    Ok(())
}

/// Image name patterns, such as `.gitops.yaml`'s `images:` list
/// (`registry.example.com/shop/*`): globs over names as [`crate::config::glob`] reads
/// paths (`*` stays within one `/`-separated part, `**` spans parts, a leading
/// `!` excludes).
///
/// A name matches when it matches as written or in its canonical form
/// ([`canonical_name`]), against the patterns as written or canonicalised by the
/// same rules: `redis` matches `docker.io/library/redis` and the reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePatterns {
    patterns: Vec<String>,
    written: GlobSet,
    canonical: GlobSet,
}

impl ImagePatterns {
    /// Compiles the patterns; the error names the first bad one.
    pub fn new(patterns: &[String]) -> Result<ImagePatterns, String> {
        let written = GlobSet::new(patterns)?;
        let canonical: Vec<String> = patterns
            .iter()
            .map(|p| match p.strip_prefix('!') {
                Some(excluded) => format!("!{}", canonical_name(excluded)),
                None => canonical_name(p),
            })
            .collect();
        // A pattern that is a valid glob stays one once canonical (only a
        // registry and `library/` are added, and the host lowercased); should it
        // not, the written form alone is used.
        let canonical = GlobSet::new(&canonical).unwrap_or_else(|_| written.clone());
        Ok(ImagePatterns {
            patterns: patterns.to_vec(),
            written,
            canonical,
        })
    }

    /// Whether the image name (without tag) matches, as written or canonical.
    pub fn is_match(&self, name: &str) -> bool {
        let canonical = canonical_name(name);
        [&self.written, &self.canonical]
            .iter()
            .any(|set| set.is_match(name) || set.is_match(&canonical))
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_valid_references() {
        let digest_ghcr = format!("ghcr.io/org/app@{SHA}");
        let digest_both = format!("app:1.2@{SHA}");
        let digest_port = format!("localhost:5000/app:v1@{SHA}");
        let sha512 = format!("app@sha512:{}", "ab".repeat(64));
        let other_algo = format!("app@blake3:{}", "0f".repeat(16));
        let long_tag = format!("app:{}", "a".repeat(128));
        // (reference, name, tag, digest)
        let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
            ("nginx", "nginx", None, None),
            ("nginx:1.25", "nginx", Some("1.25"), None),
            ("nginx:latest", "nginx", Some("latest"), None),
            (
                "registry.example.com:5000/shop/cart:1.2.3",
                "registry.example.com:5000/shop/cart",
                Some("1.2.3"),
                None,
            ),
            (
                "registry.example.com:5000/shop/cart",
                "registry.example.com:5000/shop/cart",
                None,
                None,
            ),
            ("localhost:5000/app", "localhost:5000/app", None, None),
            ("localhost/app:dev", "localhost/app", Some("dev"), None),
            (&digest_ghcr, "ghcr.io/org/app", None, Some(SHA)),
            (&digest_both, "app", Some("1.2"), Some(SHA)),
            (&digest_port, "localhost:5000/app", Some("v1"), Some(SHA)),
            (
                "docker.io/library/nginx:latest",
                "docker.io/library/nginx",
                Some("latest"),
                None,
            ),
            ("library/nginx", "library/nginx", None, None),
            (
                "Registry.Example.com/shop/cart:V1_rc.2-x",
                "Registry.Example.com/shop/cart",
                Some("V1_rc.2-x"),
                None,
            ),
            (
                "my-org/my__app.x:_tag",
                "my-org/my__app.x",
                Some("_tag"),
                None,
            ),
            ("a/b/c/d:1", "a/b/c/d", Some("1"), None),
            ("localhost", "localhost", None, None),
            (&sha512, "app", None, Some(&sha512[4..])),
            (&other_algo, "app", None, Some(&other_algo[4..])),
            (&long_tag, "app", Some(&long_tag[4..]), None),
        ];
        for &(reference, name, tag, digest) in cases {
            let parsed = ImageRef::parse(reference)
                .unwrap_or_else(|e| panic!("case {reference:?}: unexpected error: {e}"));
            assert_eq!(parsed.name, name, "case {reference:?}: name");
            assert_eq!(parsed.tag.as_deref(), tag, "case {reference:?}: tag");
            assert_eq!(
                parsed.digest.as_deref(),
                digest,
                "case {reference:?}: digest"
            );
            assert_eq!(parsed.to_string(), reference, "case {reference:?}: display");
        }
    }

    #[test]
    fn rejects_invalid_references() {
        let short_digest = format!("app@{}", &SHA[..20]);
        let upper_hex = format!("app@{}", SHA.to_uppercase().replace("SHA", "sha"));
        let long_tag = format!("app:{}", "a".repeat(129));
        // (reference, a fragment of the error message)
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            (" nginx", "whitespace"),
            ("nginx ", "whitespace"),
            ("ng inx:1", "whitespace"),
            ("app:1\t", "whitespace"),
            ("app:", "empty tag"),
            ("app:@sha256:00", "invalid digest"),
            (":1.0", "no name"),
            ("app:-1", "invalid tag"),
            ("app:.1", "invalid tag"),
            ("app_/x", "invalid repository path component"),
            ("app:1:2", "invalid tag"),
            ("app:v$1", "invalid tag"),
            (&long_tag, "invalid tag"),
            ("Nginx", "uppercase"),
            ("registry.example.com/Shop/cart", "uppercase"),
            ("localhost:5000/App", "uppercase"),
            ("Shop/cart:1", "uppercase"),
            ("app@", "invalid digest"),
            ("app@sha256", "invalid digest"),
            ("app@sha256:xyz", "invalid digest"),
            (&short_digest, "invalid digest"),
            (&upper_hex, "invalid digest"),
            ("app@sha256:abcd@sha256:abcd", "invalid digest"),
            ("shop//cart", "empty path component"),
            ("shop/cart/", "empty path component"),
            ("/cart", "empty path component"),
            ("-registry.io/app", "invalid registry host"),
            ("registry.io:port/app", "invalid registry host"),
            ("shop/car!t", "invalid repository path component"),
            ("shop/-cart", "invalid repository path component"),
        ];
        for &(reference, fragment) in cases {
            match ImageRef::parse(reference) {
                Ok(parsed) => panic!("case {reference:?}: accepted as {parsed:?}"),
                Err(e) => {
                    assert!(
                        e.contains(fragment),
                        "case {reference:?}: error {e:?} does not mention {fragment:?}"
                    );
                    assert!(
                        !e.contains('\n'),
                        "case {reference:?}: multi-line error {e:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn short_names_and_matching() {
        // (reference, short name, query, matches)
        let cases: &[(&str, &str, &str, bool)] = &[
            ("nginx", "nginx", "nginx", true),
            ("nginx:1.25", "nginx", "nginx:1.25", false),
            ("docker.io/library/nginx:latest", "nginx", "nginx", true),
            (
                "docker.io/library/nginx",
                "nginx",
                "docker.io/library/nginx",
                true,
            ),
            ("docker.io/library/nginx", "nginx", "library/nginx", true),
            ("docker.io/library/nginx", "nginx", "docker.io/nginx", true),
            ("nginx:1.25", "nginx", "docker.io/library/nginx", true),
            ("nginx", "nginx", "index.docker.io/library/nginx", true),
            ("redis", "redis", "bitnami/redis", false),
            ("bitnami/redis", "redis", "docker.io/bitnami/redis", true),
            (
                "ghcr.io/org/redis",
                "redis",
                "docker.io/library/redis",
                false,
            ),
            (
                "registry.example.com:5000/shop/cart:1.2.3",
                "cart",
                "cart",
                true,
            ),
            (
                "registry.example.com:5000/shop/cart",
                "cart",
                "shop/cart",
                false,
            ),
            ("registry.example.com:5000/shop/cart", "cart", "car", false),
            ("registry.example.com:5000/shop/cart", "cart", "shop", false),
            ("localhost:5000/app", "app", "app", true),
            ("shop/cart", "cart", "other/cart", false),
            ("shop/cart", "cart", "", false),
        ];
        for &(reference, short, query, expected) in cases {
            let image = ImageRef::parse(reference)
                .unwrap_or_else(|e| panic!("case {reference:?}: unexpected error: {e}"));
            assert_eq!(image.short_name(), short, "case {reference:?}: short name");
            assert_eq!(
                image.matches(query),
                expected,
                "case {reference:?} matching {query:?}"
            );
        }
    }

    #[test]
    fn canonical_names_and_same_images() {
        // (name, canonical name)
        let cases: &[(&str, &str)] = &[
            ("redis", "docker.io/library/redis"),
            ("docker.io/redis", "docker.io/library/redis"),
            ("docker.io/library/redis", "docker.io/library/redis"),
            ("index.docker.io/library/redis", "docker.io/library/redis"),
            ("index.docker.io/redis", "docker.io/library/redis"),
            (
                "registry-1.docker.io/library/redis",
                "docker.io/library/redis",
            ),
            ("library/redis", "docker.io/library/redis"),
            ("bitnami/redis", "docker.io/bitnami/redis"),
            ("docker.io/bitnami/redis", "docker.io/bitnami/redis"),
            ("a/b/c", "docker.io/a/b/c"),
            ("ghcr.io/org/app", "ghcr.io/org/app"),
            ("ghcr.io/app", "ghcr.io/app"),
            (
                "Registry.Example.com/shop/cart",
                "registry.example.com/shop/cart",
            ),
            (
                "registry.example.com:5000/shop/cart",
                "registry.example.com:5000/shop/cart",
            ),
            ("localhost:5000/app", "localhost:5000/app"),
            ("localhost/app", "localhost/app"),
            ("localhost", "docker.io/library/localhost"),
            ("registry.example.com/shop/*", "registry.example.com/shop/*"),
            ("*", "docker.io/library/*"),
        ];
        for &(name, want) in cases {
            assert_eq!(canonical_name(name), want, "canonical_name({name:?})");
        }
        let image = ImageRef::parse("docker.io/redis:7.2").unwrap();
        assert_eq!(image.canonical_name(), "docker.io/library/redis");
        assert_eq!(image.name, "docker.io/redis", "the name stays as written");

        // (a, b, the same image)
        let pairs: &[(&str, &str, bool)] = &[
            ("redis", "redis", true),
            ("redis", "docker.io/redis", true),
            ("redis", "docker.io/library/redis", true),
            ("redis", "index.docker.io/library/redis", true),
            ("redis", "registry-1.docker.io/library/redis", true),
            ("docker.io/redis", "library/redis", true),
            ("redis", "bitnami/redis", false),
            ("redis", "ghcr.io/library/redis", false),
            ("redis", "redis-exporter", false),
            ("shop/cart", "registry.example.com/shop/cart", false),
            (
                "registry.example.com/shop/cart",
                "REGISTRY.example.com/shop/cart",
                true,
            ),
        ];
        for &(a, b, want) in pairs {
            assert_eq!(same_image(a, b), want, "same_image({a:?}, {b:?})");
            assert_eq!(same_image(b, a), want, "same_image({b:?}, {a:?})");
        }
    }

    #[test]
    fn image_patterns_match_written_and_canonical_names() {
        // (patterns, name, matches)
        let cases: &[(&[&str], &str, bool)] = &[
            (
                &["registry.example.com/shop/*"],
                "registry.example.com/shop/cart",
                true,
            ),
            (
                &["registry.example.com/shop/*"],
                "registry.example.com/shop/a/b",
                false,
            ),
            (
                &["registry.example.com/shop/**"],
                "registry.example.com/shop/a/b",
                true,
            ),
            (
                &["registry.example.com/shop/*"],
                "REGISTRY.example.com/shop/cart",
                true,
            ),
            (
                &["registry.example.com/shop/*"],
                "registry.example.com/other/cart",
                false,
            ),
            (&["registry.example.com/shop/*"], "redis", false),
            (&["redis"], "redis", true),
            (&["redis"], "docker.io/library/redis", true),
            (&["docker.io/library/redis"], "redis", true),
            (&["docker.io/redis"], "index.docker.io/library/redis", true),
            (&["redis"], "bitnami/redis", false),
            (&["shop/*"], "shop/cart", true),
            (&["shop/*"], "docker.io/shop/cart", true),
            (&["shop/*"], "ghcr.io/shop/cart", false),
            (&["ghcr.io/shop/*"], "ghcr.io/shop/cart", true),
            (&["*"], "redis", true),
            (&["*"], "shop/cart", false),
            (&["**"], "registry.example.com/shop/cart", true),
            (
                &[
                    "registry.example.com/shop/*",
                    "!registry.example.com/shop/redis",
                ],
                "registry.example.com/shop/redis",
                false,
            ),
            (
                &[
                    "registry.example.com/shop/*",
                    "!registry.example.com/shop/redis",
                ],
                "registry.example.com/shop/cart",
                true,
            ),
            (&[], "redis", false),
            // The glob syntax in full: alternatives, POSIX classes, a port.
            (&["ghcr.io/shop/{cart,web}"], "ghcr.io/shop/web", true),
            (&["ghcr.io/shop/{cart,web}"], "ghcr.io/shop/api", false),
            (&["{ghcr.io,quay.io}/shop/*"], "quay.io/shop/cart", true),
            (&["{ghcr.io,quay.io}/shop/*"], "docker.io/shop/cart", false),
            (&["shop/[[:alpha:]]*"], "docker.io/shop/cart", true),
            (&["shop/[[:alpha:]]*"], "shop/1cart", false),
            (
                &["registry.example.com:5000/shop/*"],
                "registry.example.com:5000/shop/cart",
                true,
            ),
            (
                &["registry.example.com:5000/shop/*"],
                "registry.example.com/shop/cart",
                false,
            ),
        ];
        for (patterns, name, want) in cases {
            let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
            let set = ImagePatterns::new(&patterns).unwrap_or_else(|e| panic!("{patterns:?}: {e}"));
            assert_eq!(set.is_match(name), *want, "{patterns:?} against {name:?}");
            assert_eq!(set.patterns(), patterns.as_slice());
        }
        let bad = ImagePatterns::new(&["shop/[x".to_owned()]).unwrap_err();
        assert!(bad.contains("shop/[x"), "{bad}");
        let bad = ImagePatterns::new(&["!shop/[[:alpah:]]*".to_owned()]).unwrap_err();
        assert!(
            bad.starts_with(r#"invalid glob "!shop/[[:alpah:]]*": [:alpah:] is not a POSIX class"#),
            "{bad}"
        );
    }

    #[test]
    fn display_builds_name_tag_digest() {
        let cases: &[(&str, ImageRef, &str)] = &[
            (
                "name only",
                ImageRef {
                    name: "nginx".into(),
                    tag: None,
                    digest: None,
                },
                "nginx",
            ),
            (
                "tag",
                ImageRef {
                    name: "localhost:5000/app".into(),
                    tag: Some("1".into()),
                    digest: None,
                },
                "localhost:5000/app:1",
            ),
            (
                "digest",
                ImageRef {
                    name: "app".into(),
                    tag: None,
                    digest: Some("sha256:ab".into()),
                },
                "app@sha256:ab",
            ),
            (
                "both",
                ImageRef {
                    name: "app".into(),
                    tag: Some("2".into()),
                    digest: Some("sha256:ab".into()),
                },
                "app:2@sha256:ab",
            ),
        ];
        for (case, image, expected) in cases {
            assert_eq!(image.to_string(), *expected, "case {case}");
        }
    }
}

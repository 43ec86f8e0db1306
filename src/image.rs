//! Container image references (`registry/path/name:tag@digest`) as plain data:
//! parsing, display and matching by name. Pure: strings in, values out.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

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

    /// Whether `query` names this image: it equals the full name, or, when it has
    /// no `/`, the short name. Tags and digests are not compared.
    pub fn matches(&self, query: &str) -> bool {
        query == self.name || (!query.contains('/') && query == self.short_name())
    }
}

/// The name images are matched by: Docker Hub's implicit parts made explicit, so
/// `redis`, `docker.io/redis`, `docker.io/library/redis`,
/// `index.docker.io/library/redis` and `registry-1.docker.io/library/redis` are
/// all `docker.io/library/redis`. Other names are returned as they are.
pub fn canonical_name(name: &str) -> String {
    let (first, rest) = match name.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    let is_registry = |part: &str| part.contains('.') || part.contains(':') || part == "localhost";
    match rest {
        None => format!("docker.io/library/{name}"),
        Some(_) if !is_registry(first) => format!("docker.io/{name}"),
        Some(rest) if matches!(first, "docker.io" | "index.docker.io" | "registry-1.docker.io") => {
            if rest.contains('/') {
                format!("docker.io/{rest}")
            } else {
                format!("docker.io/library/{rest}")
            }
        }
        Some(_) => name.to_owned(),
    }
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
            ("docker.io/library/nginx", "nginx", "library/nginx", false),
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

//! Where an image lives: its registry's API and its repository there, from the
//! image name as written in a manifest. Pure: the name is read by
//! [`crate::model::image`], which decides what a registry host is.

use crate::model::image::{canonical_name, ImageRef};

/// Docker Hub's API host: `docker.io` names the registry, this host serves it.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// An image's repository on its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The registry as people name it: `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    /// Also the key of its credentials.
    pub registry: String,
    /// The API's base URL, no trailing slash: `https://registry-1.docker.io`,
    /// `http://127.0.0.1:5000`.
    pub base: String,
    /// The repository path: `library/redis`, `shop/cart`.
    pub repository: String,
}

/// The registry and repository of `image` (a name, without tag or digest):
/// `redis` → Docker Hub's `library/redis` at `registry-1.docker.io`;
/// `ghcr.io/org/app` → `org/app` at `ghcr.io`. A registry on this machine
/// (`localhost`, `127.0.0.1`, `[::1]`, with or without a port) is spoken to in
/// plain http, as docker does; any other in https. The error is one line saying
/// why the text is no image name.
pub fn locate(image: &str) -> Result<Location, String> {
    let parsed = ImageRef::parse(image)?;
    if parsed.tag.is_some() || parsed.digest.is_some() {
        return Err(format!(
            "`{image}` has a tag or digest; name the image alone, as in `{}`",
            parsed.name
        ));
    }
    let canonical = canonical_name(&parsed.name);
    let (registry, repository) = canonical
        .split_once('/')
        .ok_or_else(|| format!("`{image}` names no repository"))?;
    let host = if registry == "docker.io" {
        DOCKER_HUB_API
    } else {
        registry
    };
    let scheme = if is_local(host) { "http" } else { "https" };
    Ok(Location {
        registry: registry.to_owned(),
        base: format!("{scheme}://{host}"),
        repository: repository.to_owned(),
    })
}

/// Whether a registry host (with its port, if any) is this machine.
pub(crate) fn is_local(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_locate_their_registry_and_repository() {
        let cases = [
            (
                "redis",
                "docker.io",
                "https://registry-1.docker.io",
                "library/redis",
            ),
            (
                "docker.io/redis",
                "docker.io",
                "https://registry-1.docker.io",
                "library/redis",
            ),
            (
                "index.docker.io/library/redis",
                "docker.io",
                "https://registry-1.docker.io",
                "library/redis",
            ),
            (
                "bitnami/redis",
                "docker.io",
                "https://registry-1.docker.io",
                "bitnami/redis",
            ),
            ("ghcr.io/org/app", "ghcr.io", "https://ghcr.io", "org/app"),
            (
                "Registry.Example.com/shop/cart",
                "registry.example.com",
                "https://registry.example.com",
                "shop/cart",
            ),
            (
                "registry.example.com:5000/a/b/c",
                "registry.example.com:5000",
                "https://registry.example.com:5000",
                "a/b/c",
            ),
            (
                "localhost:5000/shop/cart",
                "localhost:5000",
                "http://localhost:5000",
                "shop/cart",
            ),
            ("localhost/cart", "localhost", "http://localhost", "cart"),
            (
                "127.0.0.1:41234/shop/cart",
                "127.0.0.1:41234",
                "http://127.0.0.1:41234",
                "shop/cart",
            ),
            (
                "127.0.0.10:5000/shop/cart",
                "127.0.0.10:5000",
                "https://127.0.0.10:5000",
                "shop/cart",
            ),
        ];
        for (image, registry, base, repository) in cases {
            let l = locate(image).unwrap();
            assert_eq!(
                (l.registry.as_str(), l.base.as_str(), l.repository.as_str()),
                (registry, base, repository),
                "{image}"
            );
        }
    }

    #[test]
    fn what_is_no_image_name_is_said_in_one_line() {
        for (image, want) in [
            ("", "empty"),
            ("Shop/Cart", "Shop/Cart"),
            ("redis:7", "has a tag or digest"),
            ("a b", "whitespace"),
        ] {
            let e = locate(image).unwrap_err();
            assert!(e.contains(want) && !e.contains('\n'), "{image}: {e}");
        }
    }
}

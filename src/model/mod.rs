//! Manifests as data, pure: bytes and parsed YAML in, plain values out. May use
//! [`crate::config`]'s globs and pinned rules, never git, the forge or the
//! terminal.
//!
//! - [`manifest`]: YAML documents, resource identity, leaf field paths;
//! - [`image`]: image references (`registry/path/name:tag@digest`) and names;
//! - [`images`]: where images are used in a document (containers, kustomize);
//! - [`edit`]: byte-exact tag edits (sites as byte ranges, then replacement);
//! - [`semdiff`]: the semantic diff, resource by resource and field by field;
//! - [`nesting`]: how deep a YAML text nests, checked before it is parsed;
//! - [`quick_check`]: a fast syntax check for plain block YAML, "surely valid" or
//!   "ask the parser";
//! - [`summary`]: what `status` keeps of a blob (its images, whether it parses).

pub mod edit;
pub mod image;
pub mod images;
pub mod manifest;
pub mod nesting;
pub mod quick_check;
pub mod semdiff;
pub mod summary;

/// The lines of `text` as `text.split(|&b| b == b'\n')` gives them (the piece
/// after the last line break included, empty or not), found with `memchr`,
/// which looks at many bytes at once: the byte-by-byte split showed in cold
/// `status` profiles.
pub(crate) fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut breaks = memchr::memchr_iter(b'\n', text);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        Some(match breaks.next() {
            Some(end) => {
                let line = &text[start..end];
                start = end + 1;
                line
            }
            None => {
                done = true;
                &text[start..]
            }
        })
    })
}

/// Whether `text` mentions `image` anywhere — a document that does not uses
/// no image. The finder is built once, not per blob (building one per call
/// showed in profiles).
pub(crate) fn mentions_image(text: &[u8]) -> bool {
    static IMAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"image"));
    IMAGE.find(text).is_some()
}

/// `f` of each item, in order, on every core when there are at least `min`
/// items (a file of thousands of documents is read by one caller; its
/// documents are independent). Pure: the threads share nothing but `f`.
pub(crate) fn par_map<T: Sync, U: Send>(
    items: &[T],
    min: usize,
    f: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    let threads = crate::parallel::threads();
    if threads == 1 || items.len() < min.max(2) {
        return items.iter().map(f).collect();
    }
    let mapped = crate::parallel::map_with(
        items,
        threads,
        || (),
        |(), item| Ok::<U, std::convert::Infallible>(f(item)),
        |()| {},
    );
    match mapped {
        Ok(all) => all,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_what_split_gives() {
        for text in [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"\n\na\n\nb\n\n",
            b"kind: Deployment\nspec:\n  replicas: 2",
        ] {
            let want: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
            assert_eq!(super::lines(text).collect::<Vec<_>>(), want, "{text:?}");
        }
        let long = "x: 1\n".repeat(1000);
        assert_eq!(super::lines(long.as_bytes()).count(), 1001);
    }
}

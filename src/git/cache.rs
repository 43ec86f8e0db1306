//! The envelope of every file gitops keeps in `.git/gitops/` (and of the
//! image creation times in the user's cache directory, which belong to no
//! repository: their object format is `-`): one header line
//! that says what the file holds and how to check it, then the content.
//!
//! ```text
//! gitops-cache summaries 4-0.1.0 sha1 3456789 crc32:1a2b3c4d
//! <3456789 bytes of content>
//! ```
//!
//! The fields are the cache's name, the version of its format (of the code that
//! made it), the repository's object format, the content's length in bytes and
//! the CRC-32 of the content. A reader rebuilds the header it expects from the
//! content it finds and compares the two byte for byte, so a file that is damaged
//! (any changed byte: a CRC-32 catches every error burst of up to 32 bits, and
//! other damage all but once in 2^32), truncated, extended, made by another
//! version, for another object format, or not a cache at all is rejected whole:
//! the caller goes on as if there were no cache and writes a new one.
//!
//! CRC-32 rather than a cryptographic hash: the files guard against accidents
//! (a disk, a killed write, a hand edit), not against someone who can write to
//! `.git` and so to the refs themselves, and it is cheap enough to check on every
//! run: `crc32fast` (already in the tree through gix's pack reading) takes
//! 0.1–0.3 ms for the benchmark's 2.3 MB summary file, SHA-1 with collision
//! detection (gix's) 2.2–2.4 ms.
//!
//! Pure: bytes in, bytes out.

/// What a cache file holds: its name in `.git/gitops/` and the version of its
/// format. Neither may contain spaces or line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub name: &'static str,
    pub version: &'static str,
}

const MAGIC: &str = "gitops-cache";

/// The object-format field of a file that belongs to no repository (kept in
/// the user's cache directory: [`seal_unbound`]).
const UNBOUND: &str = "-";

/// The header line for `content`; `hash` is the object format's name, or
/// [`UNBOUND`].
fn header(format: &Format, hash: &str, content: &[u8]) -> String {
    header_of(format, hash, content.len(), crc32fast::hash(content))
}

/// The header line for content of `len` bytes whose CRC-32 is `crc`.
fn header_of(format: &Format, hash: &str, len: usize, crc: u32) -> String {
    debug_assert!(
        !format!("{}{}", format.name, format.version).contains([' ', '\n', '\r']),
        "{format:?}"
    );
    format!(
        "{MAGIC} {} {} {hash} {len} crc32:{crc:08x}\n",
        format.name, format.version,
    )
}

/// The first line of the cache file [`seal`] makes of content of `len` bytes
/// whose CRC-32 is `crc`, for a writer that writes the content itself, piece
/// by piece, without putting it together first.
pub fn seal_header(format: &Format, hash: gix::hash::Kind, len: usize, crc: u32) -> String {
    header_of(format, &hash.to_string(), len, crc)
}

/// [`seal_header`] for a file that belongs to no repository ([`seal_unbound`]).
pub fn seal_unbound_header(format: &Format, len: usize, crc: u32) -> String {
    header_of(format, UNBOUND, len, crc)
}

/// A cache file: the header, then `content`.
pub fn seal(format: &Format, hash: gix::hash::Kind, content: &[u8]) -> Vec<u8> {
    sealed(format, &hash.to_string(), content)
}

/// A cache file that belongs to no repository (its object-format field is
/// `-`): the header, then `content`.
pub fn seal_unbound(format: &Format, content: &[u8]) -> Vec<u8> {
    sealed(format, UNBOUND, content)
}

fn sealed(format: &Format, hash: &str, content: &[u8]) -> Vec<u8> {
    let mut out = header(format, hash, content).into_bytes();
    out.extend_from_slice(content);
    out
}

/// The content of a cache file [`seal`] made with the same format and object
/// format; `None` for anything else.
pub fn open<'a>(format: &Format, hash: gix::hash::Kind, file: &'a [u8]) -> Option<&'a [u8]> {
    opened(format, &hash.to_string(), file)
}

/// The content of a cache file [`seal_unbound`] made with the same format;
/// `None` for anything else.
pub fn open_unbound<'a>(format: &Format, file: &'a [u8]) -> Option<&'a [u8]> {
    opened(format, UNBOUND, file)
}

fn opened<'a>(format: &Format, hash: &str, file: &'a [u8]) -> Option<&'a [u8]> {
    let end = memchr::memchr(b'\n', file)? + 1;
    let (head, content) = file.split_at(end);
    (head == header(format, hash, content).as_bytes()).then_some(content)
}

/// Damaged copies of a (small) file, each with what was done to it: every byte
/// changed three ways (all bits, the low bit, the case bit), cut at every length,
/// junk appended, emptied. For the tests of each cache format.
#[cfg(test)]
pub(crate) fn damaged(file: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..file.len() {
        for (how, byte) in [
            ("flipped", !file[i]),
            ("low bit", file[i] ^ 1),
            ("case bit", file[i] ^ 0x20),
        ] {
            let mut d = file.to_vec();
            d[i] = byte;
            out.push((format!("byte {i} {how}"), d));
        }
    }
    for len in 0..file.len() {
        out.push((format!("cut at {len}"), file[..len].to_vec()));
    }
    for junk in [&b"\n"[..], b"x", b"\0", b"id\t-\t-\t\t-\n", file] {
        out.push((format!("{junk:?} appended"), [file, junk].concat()));
    }
    out.push(("emptied".into(), Vec::new()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Format = Format {
        name: "things",
        version: "2",
    };
    const SHA1: gix::hash::Kind = gix::hash::Kind::Sha1;

    #[test]
    fn a_sealed_file_opens_to_its_content() {
        for content in [&b""[..], b"x", b"a\nb\n", b"\n\n", &[0, 255, 10, 13]] {
            let file = seal(&F, SHA1, content);
            assert_eq!(open(&F, SHA1, &file), Some(content));
        }
        assert_eq!(
            seal(&F, SHA1, b"hello\n"),
            b"gitops-cache things 2 sha1 6 crc32:363a3020\nhello\n"
        );
    }

    /// Every way of damaging a small file is caught, and so are another name,
    /// version or object format, and files that are not caches at all.
    #[test]
    fn damage_of_any_kind_is_rejected() {
        let content = b"line one\tA\nline two\t-\n";
        let file = seal(&F, SHA1, content);
        let mut cases = damaged(&file);
        cases.push(("the content alone".into(), content.to_vec()));
        let other = |name, version| Format { name, version };
        cases.push((
            "another version".into(),
            seal(&other("things", "1"), SHA1, content),
        ));
        cases.push((
            "another cache".into(),
            seal(&other("others", "2"), SHA1, content),
        ));
        cases.push((
            "no line break".into(),
            b"gitops-cache things 2 sha1 0 crc32:00000000".to_vec(),
        ));
        assert!(cases.len() > 4 * file.len(), "{}", cases.len());
        for (how, bytes) in &cases {
            assert_eq!(open(&F, SHA1, bytes), None, "{how}");
        }
        assert_eq!(open(&F, SHA1, &file), Some(&content[..]));
    }
}

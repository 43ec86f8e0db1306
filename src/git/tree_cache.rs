//! The content of `.git/gitops/trees`: the raw trees a run read, kept so that
//! the next run does not inflate them and resolve their delta chains again.
//!
//! Each entry is the tree's id (its raw bytes), the length of its content as a
//! 32-bit little-endian number, then the content exactly as git stores it
//! inflated. Keyed by id, an entry never goes stale. The envelope around it (the
//! header and the CRC-32) is [`super::cache`]'s.
//!
//! Pure: bytes in, bytes out.

use std::ops::Range;

use super::Oid;

/// The entries, one after another, in memory.
#[cfg(test)]
pub fn encode<'a>(entries: impl Iterator<Item = (&'a Oid, &'a [u8])>) -> Vec<u8> {
    let entries: Vec<_> = entries.collect();
    let mut out = Vec::new();
    write(&entries, &mut out).expect("writing to memory");
    out
}

/// What [`encode`] makes of `entries`, written to `out` piece by piece: a
/// run's trees are megabytes, not worth putting together in memory first.
pub fn write(entries: &[(&Oid, &[u8])], out: &mut impl std::io::Write) -> std::io::Result<()> {
    for (id, data) in entries {
        out.write_all(id.as_bytes())?;
        out.write_all(&length(data).to_le_bytes())?;
        out.write_all(data)?;
    }
    Ok(())
}

/// The length and CRC-32 of what [`encode`] makes of `entries`.
pub fn size_and_crc(entries: &[(&Oid, &[u8])]) -> (usize, u32) {
    let mut crc = crc32fast::Hasher::new();
    let mut size = 0;
    for (id, data) in entries {
        crc.update(id.as_bytes());
        crc.update(&length(data).to_le_bytes());
        crc.update(data);
        size += id.as_bytes().len() + 4 + data.len();
    }
    (size, crc.finalize())
}

fn length(data: &[u8]) -> u32 {
    u32::try_from(data.len()).expect("a tree under 4 GiB")
}

/// Where each tree's content is in `content`, which [`encode`] wrote for ids of
/// `hash`; `None` when it does not divide into whole entries.
pub fn decode(content: &[u8], hash: gix::hash::Kind) -> Option<Vec<(Oid, Range<usize>)>> {
    let id_len = hash.len_in_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < content.len() {
        let id = Oid::try_from(content.get(at..at + id_len)?).ok()?;
        at += id_len;
        let len = u32::from_le_bytes(content.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        let range = at..at.checked_add(len)?;
        content.get(range.clone())?;
        at = range.end;
        out.push((id, range));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: gix::hash::Kind = gix::hash::Kind::Sha1;

    fn id(byte: u8) -> Oid {
        Oid::try_from(&[byte; 20][..]).unwrap()
    }

    #[test]
    fn entries_come_back_as_written() {
        let trees: Vec<(Oid, Vec<u8>)> = vec![
            (id(1), b"100644 a.yaml\0aaaaaaaaaaaaaaaaaaaa".to_vec()),
            (id(2), Vec::new()),
            (id(3), vec![0, 10, 255, 13]),
        ];
        let content = encode(trees.iter().map(|(id, d)| (id, d.as_slice())));
        let back = decode(&content, SHA1).unwrap();
        let back: Vec<(Oid, Vec<u8>)> = back
            .into_iter()
            .map(|(id, r)| (id, content[r].to_vec()))
            .collect();
        assert_eq!(back, trees);
        assert_eq!(decode(&[], SHA1), Some(Vec::new()));
        // The header's size and checksum are those of what is written.
        let entries: Vec<(&Oid, &[u8])> = trees.iter().map(|(id, d)| (id, d.as_slice())).collect();
        assert_eq!(
            size_and_crc(&entries),
            (content.len(), crc32fast::hash(&content))
        );
    }

    /// Content that does not divide into whole entries is refused whole: cut
    /// anywhere but between entries, or with bytes after the last one. (Other
    /// damage is the envelope's to catch: see `cache::damaged`.)
    #[test]
    fn content_cut_or_extended_is_refused() {
        let trees = [(id(1), &b"one"[..]), (id(2), &b"three"[..])];
        let content = encode(trees.iter().map(|(id, d)| (id, *d)));
        let first_end = 20 + 4 + 3;
        for len in 1..content.len() {
            let decoded = decode(&content[..len], SHA1);
            assert_eq!(decoded.is_some(), len == first_end, "cut at {len}");
        }
        let mut longer = content.clone();
        longer.push(0);
        assert_eq!(decode(&longer, SHA1), None);
        let mut huge = content.clone();
        huge[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&huge, SHA1), None);
    }
}

//! A fast, conservative syntax check for the YAML most manifests are written in:
//! block mappings and sequences of plain, quoted and block scalars. It answers
//! "surely valid" or "cannot tell", never "invalid": a text it cannot tell about
//! goes to the real parser, which also gives the error and its position.
//!
//! Why: the first `status` in a clone checks the syntax of every manifest blob
//! (tens of thousands in a large repository), and libyaml — through serde,
//! building and dropping every event — was a quarter of that run. This scan reads
//! each byte once and allocates only its stack of open collections.
//!
//! What it accepts, line by line (anything else: cannot tell):
//!
//! - ASCII text without tabs, carriage returns or other control characters;
//! - blank lines, comment lines, and `---` alone on a line (a new document);
//! - `key:` entries whose key is a plain word (`[A-Za-z0-9_]` first, then also
//!   `.`, `/`, `-`), and `- ` sequence entries, nested on one line (`- - a`,
//!   `- key: value`), with indentation that opens, continues or closes
//!   collections exactly as libyaml's block rules do, including a sequence at its
//!   parent key's column (`ports:` / `- name: http`);
//! - values that are a plain scalar on one line (not starting with an
//!   indicator, without `: ` or a trailing `:`), a single- or double-quoted scalar
//!   closed on its line (valid escapes), a one-line flow sequence of such
//!   scalars (`[get, "list"]`), `{}`, a block scalar (`|`, `>`,
//!   with `-` or `+`), or nothing (null, or a nested collection on the next lines);
//! - at most [`MAX_DEPTH`] open collections (far below the parser's limit).
//!
//! Not accepted: flow mappings with content, nested flow sequences, anchors, aliases, tags,
//! directives, `...`, multi-line plain or quoted scalars, complex keys, quoted
//! keys, explicit block scalar indentation. Pure: bytes in, a yes or "cannot tell".

/// The most open collections the scan follows; deeper texts go to the parser.
pub const MAX_DEPTH: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

/// An open collection.
#[derive(Clone, Copy)]
struct Open<'a> {
    col: usize,
    kind: Kind,
    /// Where this mapping's keys start in [`Scan::keys`].
    keys_from: usize,
    /// A sequence that is the value of a `containers`, `initContainers` or
    /// `ephemeralContainers` key.
    containers: bool,
    /// A mapping that is an item of such a sequence: a container.
    container: bool,
    /// A container's `image`, as written (a string scalar).
    image: Option<&'a [u8]>,
    /// The root mapping's `metadata` mapping (read for [`identity`]).
    metadata: bool,
}

/// What the previous line left open.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending<'a> {
    /// Nothing: the next line continues or closes the open collections.
    None,
    /// `key:` with no value, in the mapping at this column: the value may
    /// start on the next line, deeper (or as a sequence at the same column).
    MapValue(usize, &'a [u8]),
    /// `-` with no value, in the sequence at this column.
    SeqItem(usize),
    /// A block scalar whose parent collection is at this column: its lines are
    /// those more indented than it.
    Block(usize),
    /// A scalar ended the line at this column: a next line deeper would be its
    /// continuation (or an error), which this scan does not follow.
    Scalar(usize),
}

/// The keys under which a sequence's mapping items are containers (as
/// `crate::model::images` finds them).
const CONTAINER_LISTS: [&[u8]; 3] = [b"containers", b"initContainers", b"ephemeralContainers"];

/// Whether `text` is surely valid YAML as libyaml parses it; `false` means
/// "cannot tell" (ask the parser), not "invalid".
pub fn surely_valid(text: &[u8]) -> bool {
    Scan::new(false).run(text).is_some()
}

/// For a text that is surely valid YAML and surely parses into values (no
/// duplicate keys), the images its containers run, in document order, as
/// written: what `crate::model::images::file_images` finds in it. `None`:
/// cannot tell (parse it). Texts with an `images` key (a kustomization's) or
/// with a container list inside a container are left to the parser.
pub fn container_images(text: &[u8]) -> Option<Vec<&[u8]>> {
    Scan::new(true).run(text)
}

/// What identifies a Kubernetes object, as written: `apiVersion`, `kind`,
/// `metadata.name` and `metadata.namespace`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    pub api_version: Option<&'a [u8]>,
    pub kind: Option<&'a [u8]>,
    pub name: Option<&'a [u8]>,
    pub namespace: Option<&'a [u8]>,
}

/// For one document that is surely valid YAML without duplicate keys, an
/// object with a string `apiVersion`, `kind` and `metadata.name` (and
/// `metadata.namespace` when it has one), those as the parser reads them.
/// `None`: cannot tell (parse it) — another shape, a second document, a
/// kustomization's `images` key, or a field that is not surely a string.
pub fn identity(text: &[u8]) -> Option<Identity<'_>> {
    identity_with(text, false)
}

/// [`identity`] for a document known to parse (a document of a file the
/// parser accepted): the scan stops once it has read `apiVersion`, `kind` and
/// the whole `metadata` mapping, since nothing after them can change what
/// they are (a valid document repeats no key).
pub fn identity_of_valid(text: &[u8]) -> Option<Identity<'_>> {
    identity_with(text, true)
}

fn identity_with(text: &[u8], valid: bool) -> Option<Identity<'_>> {
    let mut scan = Scan::new(true);
    scan.identity = Some(Identity::default());
    scan.stop_when_identified = valid;
    let id = scan.run_identity(text)?;
    (id.api_version.is_some() && id.kind.is_some() && id.name.is_some()).then_some(id)
}

struct Scan<'a> {
    /// Follow keys and containers (else only the syntax).
    images: bool,
    /// Also read the object's identity ([`identity`]); implies `images`.
    identity: Option<Identity<'a>>,
    /// A line other than blank lines, comments and `---` was read.
    content: bool,
    /// Stop once `apiVersion`, `kind` and the whole `metadata` are read (the
    /// text is known to parse: [`identity_of_valid`]).
    stop_when_identified: bool,
    /// The root's `metadata` mapping was read to its end.
    metadata_read: bool,
    stack: Vec<Open<'a>>,
    keys: Vec<&'a [u8]>,
    found: Vec<&'a [u8]>,
    /// How many open mappings are containers.
    in_container: usize,
}

impl<'a> Scan<'a> {
    fn new(images: bool) -> Self {
        Scan {
            images,
            identity: None,
            content: false,
            stop_when_identified: false,
            metadata_read: false,
            stack: Vec::with_capacity(16),
            keys: Vec::new(),
            found: Vec::new(),
            in_container: 0,
        }
    }

    fn run_identity(mut self, text: &'a [u8]) -> Option<Identity<'a>> {
        self.scan(text)?;
        self.identity
    }

    fn run(mut self, text: &'a [u8]) -> Option<Vec<&'a [u8]>> {
        self.scan(text)?;
        Some(self.found)
    }

    fn scan(&mut self, text: &'a [u8]) -> Option<()> {
        if !plain_ascii(text) {
            return None;
        }
        let mut pending = Pending::None;
        // Inside a block scalar: the indentation of its content, once known.
        let mut block_indent: Option<usize> = None;
        let mut in_block = false;
        for line in super::lines(text) {
            let indent = line.iter().take_while(|&&b| b == b' ').count();
            let rest = &line[indent..];
            if in_block {
                let Pending::Block(parent) = pending else {
                    unreachable!("in a block scalar without its parent")
                };
                if rest.is_empty() {
                    // An empty line, or one of spaces only: libyaml lets leading
                    // space-only lines decide the indentation; not followed here.
                    if !line.is_empty() && block_indent.is_none() {
                        return None;
                    }
                    continue;
                }
                match block_indent {
                    None if indent > parent => {
                        block_indent = Some(indent);
                        continue;
                    }
                    Some(n) if indent >= n => continue,
                    _ => {
                        in_block = false;
                        pending = Pending::None;
                    }
                }
            }
            if rest.is_empty() || rest[0] == b'#' {
                continue;
            }
            if indent == 0 && rest.starts_with(b"---") {
                if rest.len() != 3 || (self.content && self.identity.is_some()) {
                    return None;
                }
                self.close_to(0)?;
                pending = Pending::None;
                continue;
            }
            if indent == 0 && (rest.starts_with(b"...") || rest[0] == b'%') {
                return None;
            }
            self.content = true;
            self.line_fits(pending, indent, is_seq_entry(rest))?;
            pending = self.entries(indent, rest)?;
            if self.stop_when_identified
                && self.metadata_read
                && self
                    .identity
                    .is_some_and(|id| id.api_version.is_some() && id.kind.is_some())
            {
                return Some(());
            }
            if self.stack.len() > MAX_DEPTH {
                return None;
            }
            if let Pending::Block(_) = pending {
                in_block = true;
                block_indent = None;
            }
        }
        self.close_to(0)
    }

    /// Opens a collection at `col`; `key`: the key whose value it is.
    fn open(&mut self, col: usize, kind: Kind, key: Option<&[u8]>) -> Option<()> {
        let parent = self.stack.last();
        let containers =
            self.images && kind == Kind::Seq && key.is_some_and(|k| CONTAINER_LISTS.contains(&k));
        let container = self.images
            && kind == Kind::Map
            && key.is_none()
            && parent.is_some_and(|p| p.kind == Kind::Seq && p.containers);
        if containers && self.in_container > 0 {
            // Containers inside a container: the parser's walk skips them.
            return None;
        }
        let metadata = self.identity.is_some()
            && kind == Kind::Map
            && key == Some(b"metadata".as_slice())
            && self.stack.len() == 1;
        self.in_container += usize::from(container);
        self.stack.push(Open {
            col,
            kind,
            keys_from: self.keys.len(),
            containers,
            container,
            image: None,
            metadata,
        });
        Some(())
    }

    /// Closes every collection deeper than `len` open ones.
    fn close_to(&mut self, len: usize) -> Option<()> {
        while self.stack.len() > len {
            self.close()?;
        }
        Some(())
    }

    fn close(&mut self) -> Option<()> {
        let open = self.stack.pop()?;
        self.keys.truncate(open.keys_from);
        self.metadata_read |= open.metadata;
        if open.container {
            self.in_container -= 1;
            if let Some(image) = open.image {
                self.found.push(image);
            }
        }
        Some(())
    }

    /// Makes the open collections fit a line starting at `indent` (a sequence
    /// entry or a mapping entry): opens the value a pending `key:` or `-` was
    /// waiting for, closes deeper collections, and checks the line continues the
    /// collection it lands in. `None`: cannot tell.
    fn line_fits(&mut self, pending: Pending<'a>, indent: usize, seq: bool) -> Option<()> {
        let kind = if seq { Kind::Seq } else { Kind::Map };
        match pending {
            Pending::MapValue(col, key) if indent > col || (indent == col && seq) => {
                return self.open(indent, kind, Some(key));
            }
            Pending::SeqItem(col) if indent > col => return self.open(indent, kind, None),
            // A deeper line would continue the scalar (or be an error).
            Pending::Scalar(col) if indent > col => return None,
            _ => {}
        }
        if self.stack.is_empty() {
            // The document's root collection.
            return self.open(indent, kind, None);
        }
        loop {
            // Below the root's column: a second root without `---`.
            let top = *self.stack.last()?;
            if top.col > indent {
                self.close()?;
                continue;
            }
            if top.col < indent {
                // Deeper than the collection it would continue, with nothing open.
                return None;
            }
            // A sequence at its parent key's column ends at the next key.
            if top.kind == Kind::Seq && !seq {
                let below = self.stack.len().checked_sub(2).map(|i| self.stack[i]);
                if below.is_some_and(|b| b.kind == Kind::Map && b.col == top.col) {
                    self.close()?;
                    continue;
                }
            }
            return (top.kind == kind).then_some(());
        }
    }

    /// Reads the entries of one line, which starts at `indent` and fits the top
    /// of the stack: `- ` entries (each opening a sequence on this line after
    /// the first), then a `key:` (opening a mapping when it follows a `- `) or a
    /// scalar. Returns what the line leaves pending; `None`: cannot tell.
    fn entries(&mut self, indent: usize, line: &'a [u8]) -> Option<Pending<'a>> {
        let mut at = 0;
        let mut col = indent;
        let mut first = true;
        loop {
            let rest = &line[at..];
            if is_seq_entry(rest) {
                if !first {
                    self.open(col, Kind::Seq, None)?;
                }
                let spaces = rest[1..].iter().take_while(|&&b| b == b' ').count();
                if rest.len() == 1 + spaces || rest[1 + spaces] == b'#' {
                    return Some(Pending::SeqItem(col));
                }
                at += 1 + spaces;
                col += 1 + spaces;
                first = false;
                continue;
            }
            if let Some(key_len) = plain_key(rest) {
                if !first {
                    self.open(col, Kind::Map, None)?;
                }
                let key = &rest[..key_len];
                self.key(key)?;
                let after = &rest[key_len + 1..];
                let spaces = after.iter().take_while(|&&b| b == b' ').count();
                let value = &after[spaces..];
                if value.is_empty() || (spaces > 0 && value[0] == b'#') {
                    return Some(Pending::MapValue(col, key));
                }
                if self.images && key == b"image" && self.stack.last()?.container {
                    let image = string_scalar(value)?;
                    self.stack.last_mut()?.image = Some(image);
                }
                if self.identity.is_some() {
                    self.identity_entry(key, value)?;
                }
                return value_of(value, col);
            }
            if first {
                // A scalar where a `key:` or `- ` was expected.
                return None;
            }
            // The scalar item of the last `- `, whose sequence is the innermost.
            let parent = self.stack.last().map_or(indent, |o| o.col);
            return value_of(rest, parent);
        }
    }

    /// Reads `key: value` into the identity when it is one of its fields: the
    /// root mapping's `apiVersion` and `kind`, its `metadata`'s `name` and
    /// `namespace`. `None` when such a field is not surely a string.
    fn identity_entry(&mut self, key: &[u8], value: &'a [u8]) -> Option<()> {
        let top = *self.stack.last()?;
        let root = self.stack.len() == 1 && top.kind == Kind::Map;
        let id = self.identity.as_mut()?;
        let field = match key {
            b"apiVersion" if root => &mut id.api_version,
            b"kind" if root => &mut id.kind,
            b"name" if top.metadata => &mut id.name,
            b"namespace" if top.metadata => &mut id.namespace,
            _ => return Some(()),
        };
        *field = Some(string_scalar(value)?);
        Some(())
    }

    /// Records a key of the mapping on top; `None` when the parser could see
    /// it as a duplicate, or it may be a kustomization's `images`.
    fn key(&mut self, key: &'a [u8]) -> Option<()> {
        if !self.images {
            return Some(());
        }
        if key == b"images" || !is_plain_string(key) {
            return None;
        }
        let from = self.stack.last()?.keys_from;
        let keys = &self.keys[from..];
        if keys.len() >= 256 || keys.contains(&key) {
            return None;
        }
        self.keys.push(key);
        Some(())
    }
}

fn is_seq_entry(rest: &[u8]) -> bool {
    rest[0] == b'-' && (rest.len() == 1 || rest[1] == b' ')
}

/// Whether a plain scalar is surely a string to the parser: it starts with a
/// letter and is none of the words YAML reads as null or a boolean.
fn is_plain_string(word: &[u8]) -> bool {
    const WORDS: [&[u8]; 9] = [
        b"null", b"true", b"false", b"yes", b"no", b"on", b"off", b"y", b"n",
    ];
    word.first().is_some_and(u8::is_ascii_alphabetic)
        && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// The text of a value that is surely a string scalar on its line: plain (see
/// [`is_plain_string`]), single-quoted without `''`, or double-quoted without
/// escapes. `None`: cannot tell.
fn string_scalar(value: &[u8]) -> Option<&[u8]> {
    match value[0] {
        b'"' | b'\'' => {
            let len = quoted(value)?;
            let inner = &value[1..len - 1];
            (!inner.contains(&b'\\') && !inner.contains(&b'\'') && !inner.contains(&b'"'))
                .then_some(inner)
        }
        _ => {
            // To the end of the line or a ` #` comment, trailing spaces dropped.
            let end = value
                .windows(2)
                .position(|w| w == b" #")
                .unwrap_or(value.len());
            let text = value[..end].trim_ascii_end();
            is_plain_string(text).then_some(text)
        }
    }
}

/// The length of a plain `key` followed by `:` and a space or the end of the
/// line; `None` when the line does not start with one.
fn plain_key(line: &[u8]) -> Option<usize> {
    let first = *line.first()?;
    if !(first.is_ascii_alphanumeric() || first == b'_') {
        return None;
    }
    let len = line
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        .count();
    if len > 256 || line.get(len) != Some(&b':') {
        return None;
    }
    match line.get(len + 1) {
        None | Some(b' ') => Some(len),
        _ => None,
    }
}

/// Reads a value that starts a line's remainder (not empty, not a comment), in
/// the collection at `parent`; returns what it leaves pending.
fn value_of(value: &[u8], parent: usize) -> Option<Pending<'static>> {
    match value[0] {
        b'|' | b'>' => {
            let header = &value[1..];
            let chomp = usize::from(matches!(header.first(), Some(b'-' | b'+')));
            if !end_of_value(&header[chomp..])
                || header[chomp..].first().is_some_and(|&b| b != b' ')
            {
                return None;
            }
            Some(Pending::Block(parent))
        }
        b'"' | b'\'' => {
            let len = quoted(value)?;
            end_of_value(&value[len..]).then_some(Pending::Scalar(parent))
        }
        b'[' => {
            let len = flow_sequence(value)?;
            end_of_value(&value[len..]).then_some(Pending::Scalar(parent))
        }
        b'{' => (value.get(1) == Some(&b'}') && end_of_value(&value[2..]))
            .then_some(Pending::Scalar(parent)),
        b'-' | b'?' | b':' => {
            // Plain only when followed by a non-space; `-1`, `-foo`. `?x` and
            // `:x` are left to the parser.
            if value[0] != b'-' || value.get(1).is_none_or(|&b| b == b' ') {
                return None;
            }
            plain(value).then_some(Pending::Scalar(parent))
        }
        b',' | b']' | b'}' | b'#' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => None,
        _ => plain(value).then_some(Pending::Scalar(parent)),
    }
}

/// The length of a quoted scalar closed on its line (`"…"` with valid escapes,
/// `'…'` with `''`), quotes included.
fn quoted(value: &[u8]) -> Option<usize> {
    let mut i = 1;
    if value[0] == b'\'' {
        loop {
            match *value.get(i)? {
                b'\'' if value.get(i + 1) == Some(&b'\'') => i += 2,
                b'\'' => return Some(i + 1),
                _ => i += 1,
            }
        }
    }
    loop {
        match *value.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => {
                let hex = match *value.get(i + 1)? {
                    b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"'
                    | b'/' | b'\\' | b'N' | b'_' | b'L' | b'P' => 0,
                    b'x' => 2,
                    b'u' => 4,
                    _ => return None,
                };
                let digits = value.get(i + 2..i + 2 + hex)?;
                // Lone surrogates are refused by the parser.
                if !digits.iter().all(u8::is_ascii_hexdigit) || (hex == 4 && is_surrogate(digits)) {
                    return None;
                }
                i += 2 + hex;
            }
            _ => i += 1,
        }
    }
}

/// The length of a one-line flow sequence of scalars (`[]`, `[a, "b", 'c']`),
/// brackets included: no nesting, no empty or trailing entries, plain entries of
/// word characters only.
fn flow_sequence(value: &[u8]) -> Option<usize> {
    let spaces = |at: usize| {
        value[at.min(value.len())..]
            .iter()
            .take_while(|&&b| b == b' ')
            .count()
    };
    let mut i = 1 + spaces(1);
    if value.get(i) == Some(&b']') {
        return Some(i + 1);
    }
    loop {
        match *value.get(i)? {
            b'"' | b'\'' => i += quoted(&value[i..])?,
            b if b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'.' | b'/')
                // `-x`, `--flag`: plain; `- x` would not be.
                || (b == b'-'
                    && value
                        .get(i + 1)
                        .is_some_and(|&n| n.is_ascii_alphanumeric() || n == b'-')) =>
            {
                i += value[i..]
                    .iter()
                    .take_while(|&&b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
                    })
                    .count();
            }
            _ => return None,
        }
        i += spaces(i);
        match *value.get(i)? {
            b']' => return Some(i + 1),
            b',' => i += 1 + spaces(i + 1),
            _ => return None,
        }
    }
}

fn is_surrogate(hex4: &[u8]) -> bool {
    let v = hex4
        .iter()
        .fold(0u32, |v, &d| v * 16 + (d as char).to_digit(16).unwrap_or(0));
    (0xd800..0xe000).contains(&v)
}

/// Whether a plain scalar running to the end of the line (or to ` #`) holds no
/// `: ` and does not end with `:` (a mapping where a scalar is).
fn plain(value: &[u8]) -> bool {
    let mut prev = b' ';
    for (i, &b) in value.iter().enumerate() {
        match b {
            b'#' if prev == b' ' => return true,
            b':' if matches!(value.get(i + 1), None | Some(b' ')) => return false,
            _ => {}
        }
        prev = b;
    }
    true
}

/// Whether only spaces and a comment follow.
fn end_of_value(rest: &[u8]) -> bool {
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    spaces == rest.len() || (spaces > 0 && rest[spaces] == b'#')
}

/// Whether `text` is printable ASCII and line breaks only. Checked 64 bytes
/// at a time without an early exit inside a block, so that the compiler
/// compares many bytes at once (the byte-at-a-time `any` showed in profiles).
fn plain_ascii(text: &[u8]) -> bool {
    text.chunks(64).all(|block| {
        !block.iter().fold(false, |bad, &b| {
            bad | (b >= 0x7f) | ((b < 0x20) & (b != b'\n'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest;

    /// Texts the scan must take as valid: the parser agrees.
    const VALID: &[&str] = &[
        "",
        "# only a comment\n",
        "a: 1\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  ports:\n    - name: http\n      port: 80\n",
        "spec:\n  ports:\n  - name: http\n    port: 80\n  - name: metrics\n    port: 9090\n  type: ClusterIP\n",
        "a: 1\n---\nb: 2\n---\n",
        "---\na:\n",
        "data:\n  app.properties: |\n    x=1\n\n    # not a comment: content\n    y: 2\n  other: \"x\"\n",
        "a: |-\n  text\nb: >+\n  folded\n",
        "args: []\nresources: {}\nempty: [ ]\n",
        "rules:\n  - apiGroups: [\"\"]\n    verbs: [get, \"list\", 'w''x']  # c\n    names: [__name__,go_gc_, --port, -1]\n",
        "- a\n- - b\n  - c\n- key: v\n  k2: 'it''s'\n-\n- x: \"\\u00e9\\n\"\n",
        "a: value#not-a-comment\nb: http://x:8080/path # comment\nc: -1\nd: x, y [z] {w}\n",
        "a:\n  # comment\n  b: 1\n",
        "a:\nb:\n",
        "list:\n- a\n-\n  b: 1\n",
        "  indented: root\n  second: 1\n",
    ];

    /// Texts the scan must not claim: invalid, or beyond what it follows.
    const NOT_SURE: &[&str] = &[
        "a: b: c\n",
        "a: 1\n  b: 2\n",
        "a: 1\n - b\n",
        "a:\n  - b\n c: 1\n",
        "a: [1, [2]]\n",
        "a: [1,]\n",
        "a: [1,,2]\n",
        "a: [b: c]\n",
        "a: [\n  b]\n",
        "a: [\"x\"y]\n",
        "a: [- x]\n",
        "a: [-]\n",
        "a: [x] y\n",
        "a: {b: 1}\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: \"unclosed\n",
        "a: 'unclosed\n",
        "a: \"\\q\"\n",
        "a:\tb\n",
        "a: 1\r\n",
        "\"quoted\": key\n",
        "? complex\n: key\n",
        "a: |2\n   x\n",
        "- a\nb: 1\n",
        "a: 1\n- b\n",
        "scalar root\n",
        "a: %x\n",
        "a: @x\n",
        "a: plain\n  continued\n",
        "--- a: 1\n",
        "...\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: x:\n",
        "a: \"x\"y\n",
        "a: |\n   \n  x\n",
        "é: 1\n",
        "a: -\n",
        "-x\n",
        "key:value\n",
    ];

    #[test]
    fn takes_what_the_parser_takes() {
        for text in VALID {
            assert!(surely_valid(text.as_bytes()), "should be sure of {text:?}");
            assert!(
                manifest::validate(text.as_bytes()).is_ok(),
                "the parser refuses {text:?}"
            );
        }
    }

    #[test]
    fn leaves_the_rest_to_the_parser() {
        for text in NOT_SURE {
            assert!(!surely_valid(text.as_bytes()), "claimed {text:?}");
        }
    }

    #[test]
    fn container_images_are_read_off_plain_text() {
        let images = |text: &str| {
            container_images(text.as_bytes()).map(|found| {
                found
                    .iter()
                    .map(|i| String::from_utf8_lossy(i).into_owned())
                    .collect::<Vec<_>>()
            })
        };
        let deployment = "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1 # c\n      - image: 'side:2'\n        name: side\n      initContainers:\n        -\n          image: \"init:3\"\n---\nkind: Pod\nspec:\n  containers: []\n  image: not-a-container\n";
        assert_eq!(images(deployment).unwrap(), ["web:1", "side:2", "init:3"]);
        // What the parser reads differently, or this scan does not follow.
        for text in [
            "a: 1\na: 2\n",
            "containers:\n- image: a\n  image: b\n",
            "images:\n- name: web\n  newTag: 1\n",
            "containers:\n- image: 123\n",
            "containers:\n- image: \"a\\tb\"\n",
            "containers:\n- image: |\n    a\n",
            "containers:\n- name: a\n  sidecars:\n    containers:\n    - image: b\n",
            "true: 1\n",
            "8080: http\n",
        ] {
            assert_eq!(images(text), None, "{text}");
        }
        // Not a container: under another key, or not an item of the list.
        assert_eq!(
            images("image: a\nspec:\n  image: b\n  containers:\n  - - image: c\n").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn identities_are_read_off_plain_text_as_the_parser_reads_them() {
        let id = |text: &str| {
            identity(text.as_bytes()).map(|i| {
                [i.api_version, i.kind, i.name, i.namespace]
                    .map(|f| f.map(|b| String::from_utf8_lossy(b).into_owned()))
            })
        };
        let text = "---\napiVersion: apps/v1 # c\nkind: \"Deployment\"\nmetadata:\n  labels:\n    name: not-this\n  name: 'web'\n  namespace: shop\nspec:\n  name: nor-this\n";
        let found = id(text).unwrap();
        assert_eq!(
            found,
            [
                Some("apps/v1"),
                Some("Deployment"),
                Some("web"),
                Some("shop")
            ]
            .map(|f| f.map(str::to_owned))
        );
        // Known to parse: the scan stops after `metadata`, with the same answer.
        assert_eq!(
            identity_of_valid(text.as_bytes()),
            identity(text.as_bytes())
        );
        let later = "kind: Service\nmetadata:\n  name: web\nspec:\n  ports: [1]\napiVersion: v1\n";
        assert_eq!(
            identity_of_valid(later.as_bytes()).and_then(|i| i.api_version),
            Some(b"v1".as_slice())
        );
        // The parser agrees.
        let doc = manifest::parse_documents(text.as_bytes()).unwrap();
        let keys = manifest::resources("f.yaml", &doc, false);
        assert_eq!(keys[0].key.name, "web");
        assert_eq!(keys[0].key.namespace.as_deref(), Some("shop"));
        // Cannot tell: no name, a name that is not surely a string, a name on
        // the next line, two documents, a duplicate key, flow style.
        for text in [
            "apiVersion: v1\nkind: ConfigMap\ndata: {}\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 123\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: true\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name:\n    x\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nkind: B\n",
            "apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: a\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: 1\n",
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n",
        ] {
            assert_eq!(id(text), None, "{text}");
        }
    }

    #[test]
    fn never_claims_a_text_the_parser_refuses() {
        // Every text made of these lines, two to four of them: whatever the scan
        // claims, the parser must accept.
        let lines = [
            "a: 1",
            "a:",
            "  b: 2",
            "  - c",
            "- d",
            "  - e: 3",
            "    f: 4",
            "b: |",
            "  text",
            "---",
            "x: \"q\"",
            "  y:",
            "- - z",
            "# c",
            "",
            "   g: 1",
            "h: 'i'",
            "k: v: w",
            " - m",
            "n: -1",
            "  p: {}",
            "- |-",
            "q: [a, \"b\"]",
            "- [c,d]",
            "r: [e,",
        ];
        let mut checked = 0;
        let n = lines.len();
        for a in 0..n {
            for b in 0..n {
                for c in 0..n {
                    for d in [None, Some(0), Some(2), Some(5), Some(7), Some(12)] {
                        let mut text = format!("{}\n{}\n{}\n", lines[a], lines[b], lines[c]);
                        if let Some(d) = d {
                            text.push_str(lines[d]);
                            text.push('\n');
                        }
                        if surely_valid(text.as_bytes()) {
                            checked += 1;
                            assert!(
                                manifest::validate(text.as_bytes()).is_ok(),
                                "claimed a text the parser refuses: {text:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} texts claimed");
    }
}

//! How deeply a YAML text nests, found by one linear scan before any parser
//! sees it. Pure: bytes in, a verdict out.
//!
//! Deep flow nesting (`[[[[…]]]]`, `{a: {a: …}}`) is quadratic in libyaml's
//! scanner, which yaml_serde runs (libyaml-rs, a port of libyaml; serde_norway
//! ran the same code): each token walks the list of open flow levels, so a
//! 200 KB file of brackets takes about a minute before the parser gives up on
//! it anyway (yaml_serde refuses more than [`MAX_DEPTH`] nested collections,
//! but only after scanning the whole file). Files nested deeper than
//! [`MAX_DEPTH`] are therefore refused here, in time linear in their size.
//!
//! The limit is yaml_serde's own recursion limit, so the scan refuses nothing
//! that used to parse. Real files stay far below it: a Kubernetes manifest
//! nests about ten levels, and the deepest CustomResourceDefinition schemas
//! (each level of `properties:` is two mappings) a few dozen.
//!
//! The depth counted is the number of open collections: flow sequences and
//! mappings (`[`, `{`) plus block sequences and mappings (`- ` items and
//! `key:` lines, by their columns). It is a guard, not a parser: brackets
//! inside quoted scalars, plain scalars (`a: x[1]`), comments and block scalars
//! (`|`, `>`) do not count, and the rare text it misreads (a multi-line plain
//! scalar whose lines start with `- `) can only count a few levels too many.

/// The deepest nesting of collections gitops parses: yaml_serde's recursion
/// limit (128 nested sequences or mappings).
pub const MAX_DEPTH: usize = 128;

/// Where a text first nests deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in bytes).
    pub column: usize,
}

impl TooDeep {
    /// The message, without the position: what is wrong and what to do.
    pub fn message(&self) -> String {
        format!(
            "YAML nested more than {MAX_DEPTH} levels deep (`[`, `{{` or indentation) is refused unparsed; real files nest a few dozen levels at most: fix what wrote this one"
        )
    }
}

/// A block collection open on the lines read so far: its column and whether it
/// is a sequence (`- ` items) or a mapping (`key:` lines, `? ` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    column: usize,
    sequence: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
}

/// Scans `bytes` (UTF-8, or any ASCII-compatible encoding) and fails at the
/// first place where more than [`MAX_DEPTH`] collections are open.
pub fn check(bytes: &[u8]) -> Result<(), TooDeep> {
    scan(bytes, MAX_DEPTH)
}

fn scan(bytes: &[u8], limit: usize) -> Result<(), TooDeep> {
    let mut scan = Scan {
        limit,
        ..Scan::default()
    };
    for (index, line) in super::lines(bytes).enumerate() {
        scan.line(line).map_err(|column| TooDeep {
            line: index + 1,
            column: column + 1,
        })?;
    }
    Ok(())
}

#[derive(Default)]
struct Scan {
    /// The most collections that may be open at once.
    limit: usize,
    /// Block collections open, innermost last; their columns increase, or stay
    /// the same for a sequence written at its mapping's column (`key:\n- a`).
    blocks: Vec<Block>,
    /// Open flow collections.
    flow: usize,
    /// A quoted scalar that continues on the next line.
    quote: Option<Quote>,
    /// Whether the next character may start a node (so `[`, `{` and quotes are
    /// indicators there, and plain text elsewhere in block context).
    node_start: bool,
    /// Inside a block scalar whose lines are those indented deeper than this
    /// (`None`: a block scalar at the top of a document, `--- |`).
    block_scalar: Option<Option<usize>>,
    /// A block scalar header was just read (`key: |`).
    header: bool,
    /// The block collections the line being read opens, or continues (its
    /// first), not yet counted.
    pending: Vec<Block>,
    /// Where a block mapping key would start on the line being read, until one
    /// is found there.
    key_column: Option<usize>,
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Whether `line` starts with a document marker (`---` or `...`, alone or
/// before a space).
fn is_document_marker(line: &[u8]) -> bool {
    (line.starts_with(b"---") || line.starts_with(b"..."))
        && line.get(3).is_none_or(|&b| is_blank(b))
}

impl Scan {
    fn too_deep(&self) -> bool {
        self.blocks.len() + self.flow > self.limit
    }

    /// Counts the block collections of `pending`: closes those its first item
    /// ends (deeper ones, and a sequence at a mapping's column when the mapping
    /// goes on), continues the collection that item belongs to, opens the rest.
    fn open_blocks(&mut self) -> Result<(), ()> {
        let Some(&first) = self.pending.first() else {
            return Ok(());
        };
        while let Some(top) = self.blocks.last() {
            let closes = top.column > first.column
                || (top.column == first.column && top.sequence && !first.sequence);
            if !closes {
                break;
            }
            self.blocks.pop();
        }
        let same = usize::from(self.blocks.last() == Some(&first));
        self.blocks.extend(self.pending.drain(..).skip(same));
        if self.too_deep() {
            return Err(());
        }
        Ok(())
    }

    /// Reads one line (without its `\n`); `Err(column)` where the nesting gets
    /// too deep.
    fn line(&mut self, line: &[u8]) -> Result<(), usize> {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let blank = line[indent..].iter().all(|&b| is_blank(b));
        let marker = is_document_marker(line);
        if let Some(parent) = self.block_scalar {
            let inside = match parent {
                Some(parent) => (blank || indent > parent) && !marker,
                None => !marker,
            };
            if inside {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let mut at = indent;
        if marker {
            // A new document (or the end of one) starts afresh, whatever the
            // last one left open.
            *self = Scan {
                limit: self.limit,
                ..Scan::default()
            };
            if line[0] == b'.' {
                return Ok(());
            }
            at = 3;
        } else if self.quote.is_some() || self.flow > 0 {
            // A quoted scalar or a flow collection going on: indentation means
            // nothing there.
            return self.chars(line, 0);
        } else if blank || line[indent] == b'#' || (indent == 0 && line[0] == b'%') {
            return Ok(());
        }
        // `- ` and `? ` opening collections at the start of the line.
        loop {
            while line.get(at).is_some_and(|&b| is_blank(b)) {
                at += 1;
            }
            let Some(&b) = line.get(at) else { break };
            let next_blank = line.get(at + 1).is_none_or(|&n| is_blank(n));
            if (b == b'-' || b == b'?') && next_blank {
                self.pending.push(Block {
                    column: at,
                    sequence: b == b'-',
                });
                at += 1;
            } else {
                break;
            }
        }
        self.node_start = true;
        self.key_column = Some(at);
        self.chars(line, at)?;
        self.key_column = None;
        self.open_blocks().map_err(|()| indent)?;
        if std::mem::take(&mut self.header) {
            // `key: |`: the scalar's lines are indented deeper than its
            // collection; at the top of a document, every line until the next
            // document marker.
            self.block_scalar = Some(self.blocks.last().map(|b| b.column));
        }
        Ok(())
    }

    /// Reads `line` from `at` character by character: quotes, flow brackets,
    /// comments, block scalar indicators, and a block mapping key (`key:`
    /// outside any flow collection) where [`Scan::key_column`] says one may be.
    fn chars(&mut self, line: &[u8], mut at: usize) -> Result<(), usize> {
        while at < line.len() {
            let b = line[at];
            match self.quote {
                Some(Quote::Double) => {
                    match b {
                        b'\\' => at += 1,
                        b'"' => self.quote = None,
                        _ => {}
                    }
                    at += 1;
                    continue;
                }
                Some(Quote::Single) => {
                    if b == b'\'' {
                        if line.get(at + 1) == Some(&b'\'') {
                            at += 1;
                        } else {
                            self.quote = None;
                        }
                    }
                    at += 1;
                    continue;
                }
                None => {}
            }
            let next_blank = line.get(at + 1).is_none_or(|&n| is_blank(n));
            match b {
                b' ' | b'\t' | b'\r' => {}
                b'#' if at == 0 || is_blank(line[at - 1]) => break,
                b'"' | b'\'' if self.node_start => {
                    self.quote = Some(if b == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    });
                    self.node_start = false;
                }
                b'[' | b'{' if self.node_start || self.flow > 0 => {
                    self.open_blocks().map_err(|()| at)?;
                    self.flow += 1;
                    if self.too_deep() {
                        return Err(at);
                    }
                    self.node_start = true;
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    self.node_start = false;
                }
                b',' if self.flow > 0 => self.node_start = true,
                b':' if next_blank
                    || (self.flow > 0 && matches!(line.get(at + 1), Some(b',' | b']' | b'}'))) =>
                {
                    if self.flow == 0 {
                        if let Some(column) = self.key_column.take() {
                            self.pending.push(Block {
                                column,
                                sequence: false,
                            });
                        }
                    }
                    self.node_start = true;
                }
                b'|' | b'>' if self.node_start && self.flow == 0 => {
                    // A block scalar: its header (and a comment) ends the line.
                    self.header = true;
                    break;
                }
                b'&' | b'!' | b'*' if self.node_start => {
                    // An anchor or a tag comes before the node; an alias is one.
                    while at + 1 < line.len()
                        && !is_blank(line[at + 1])
                        && !(self.flow > 0 && matches!(line[at + 1], b',' | b']' | b'}'))
                    {
                        at += 1;
                    }
                    self.node_start = b != b'*';
                }
                _ => self.node_start = false,
            }
            at += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The depth the scan finds: the smallest limit it passes under.
    fn depth(text: &str) -> usize {
        (0..)
            .find(|&limit| scan(text.as_bytes(), limit).is_ok())
            .unwrap()
    }

    fn flow(n: usize) -> String {
        format!("x: {}{}\n", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn flow_nesting_counts_each_bracket_and_brace() {
        assert_eq!(check(flow(MAX_DEPTH - 1).as_bytes()), Ok(()));
        // `x:` is one block mapping: one bracket more is too deep.
        let err = check(flow(MAX_DEPTH).as_bytes()).unwrap_err();
        assert_eq!(
            err,
            TooDeep {
                line: 1,
                column: 3 + MAX_DEPTH
            }
        );
        let braces = format!("{}1{}", "{a: ".repeat(200), "}".repeat(200));
        assert_eq!(check(braces.as_bytes()).unwrap_err().line, 1);
        // Spread over lines, the position is where the limit is crossed.
        let lines = "[\n".repeat(300);
        assert_eq!(
            check(lines.as_bytes()).unwrap_err(),
            TooDeep {
                line: MAX_DEPTH + 1,
                column: 1
            }
        );
    }

    #[test]
    fn block_nesting_counts() {
        let mut mappings = String::new();
        for level in 0..200 {
            mappings.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
        }
        let err = check(mappings.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            TooDeep {
                line: MAX_DEPTH + 1,
                column: MAX_DEPTH + 1
            }
        );
        let mut sequences = String::new();
        for level in 0..200 {
            sequences.push_str(&format!("{}- a\n", "  ".repeat(level)));
            sequences.push_str(&format!("{}-\n", "  ".repeat(level)));
        }
        assert!(check(sequences.as_bytes()).is_err());
        let compact = format!("{}x\n", "- ".repeat(200));
        assert_eq!(check(compact.as_bytes()).unwrap_err().line, 1);
    }

    /// The depth of small texts, as the scan counts it.
    #[test]
    fn depths() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("a: 1\n", 1),
            ("a: 1\nb: 2\n", 1),
            ("a:\n  b: 1\n", 2),
            ("a:\n  b:\n    c: [1, {d: 2}]\n", 5),
            // A sequence at its key's column is one level deeper.
            ("a:\n- b: 1\n  c: 2\nd: 3\n", 3),
            ("- - - x\n", 3),
            ("- a: 1\n  b: [1]\n", 3),
            ("? a\n: b\n", 1),
            ("a: &x [1]\nb: !!seq [2]\nc: *x\n", 2),
            // Brackets that are no collection: in quotes, plain scalars,
            // comments and block scalars.
            ("a: '[[[['\n", 1),
            ("a: \"[[{{\\\"[\"\n", 1),
            ("a: 'it''s [['\n", 1),
            ("a: x[1][2]\n", 1),
            ("a: don't [x]\n", 1),
            ("a: 1 # [[[[\n", 1),
            ("# [[[[\na: 1\n", 1),
            ("a: |\n  [[[[\n  - b:\n      - c\nd: 1\n", 1),
            ("a: >-\n  {{{{\n\n  [[\nb: [1]\n", 2),
            ("- |\n  [[\n- x\n", 1),
            ("--- |\n[[[[\n---\na: 1\n", 1),
            // A quoted scalar over several lines.
            ("a: \"[\n  [[[\"\nb: 1\n", 1),
            ("a: [x, '[[\n  ]', y]\n", 2),
            // Flow keys and adjacent values.
            ("{\"a\":[1], b: {c: [2]}}\n", 3),
            ("[a]: [b]\n", 2),
            // Documents start afresh.
            ("a:\n  b: 1\n---\nc: 1\n...\n", 2),
            ("%YAML 1.2\n--- [1]\n", 1),
        ];
        for &(text, want) in cases {
            assert_eq!(depth(text), want, "{text:?}");
        }
    }

    #[test]
    fn real_manifests_are_shallow() {
        let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the [public] site
  labels: {app: web, tier: \"front[end]\"}
spec:
  template:
    spec:
      containers:
      - name: web
        image: registry.example.com/shop/web:1.2.3
        args: [--port, '8080']
        command:
          - sh
          - -c
          - |
            echo [ready] {
            exec web
        env:
        - name: A
          value: >
            folded [text
";
        // The document, spec, template, spec, containers, a container, env
        // and its item.
        assert_eq!(depth(deployment), 8);
        assert_eq!(check(deployment.as_bytes()), Ok(()));
    }
}

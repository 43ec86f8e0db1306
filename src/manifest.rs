//! Kubernetes manifests as plain data: YAML documents, resource identity and the
//! flattening of a document into leaf field paths. Pure: bytes in, values out.

use serde::Deserialize;
use serde_json::Value as Json;
use serde_norway::Value;

/// One YAML document of a (possibly multi-document) file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Position of the document in its file, counting from 0 (empty documents count).
    pub index: usize,
    pub value: Value,
}

/// A YAML file that does not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseError {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "line {} column {}: {}",
                self.line, self.column, self.message
            )
        } else {
            write!(f, "{}", self.message)
        }
    }
}

fn parse_error(err: &serde_norway::Error) -> ParseError {
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    // serde_norway appends " at line X column Y" to its message; keep the cause only.
    let mut message = err.to_string();
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    ParseError {
        line,
        column,
        message,
    }
}

/// Parses every document of a YAML file. Empty documents (`---` alone, comments
/// only) are skipped but still counted in `index`.
pub fn parse_documents(bytes: &[u8]) -> Result<Vec<Document>, ParseError> {
    let mut docs = Vec::new();
    for (index, de) in serde_norway::Deserializer::from_slice(bytes).enumerate() {
        let value = Value::deserialize(de).map_err(|e| parse_error(&e))?;
        if !value.is_null() {
            docs.push(Document { index, value });
        }
    }
    Ok(docs)
}

/// Checks that every document of a YAML file parses, without building values:
/// the cheap way to find the files that do not.
pub fn validate(bytes: &[u8]) -> Result<(), ParseError> {
    for de in serde_norway::Deserializer::from_slice(bytes) {
        serde::de::IgnoredAny::deserialize(de).map_err(|e| parse_error(&e))?;
    }
    Ok(())
}

/// What identifies a resource across branches: apiVersion, kind, namespace, name.
/// A document that is not a Kubernetes object (a Helm values file, say) has no
/// apiVersion or kind and is named by its file (and document index).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ResourceKey {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Some(kind) => {
                write!(f, "{kind}/")?;
                if let Some(ns) = &self.namespace {
                    write!(f, "{ns}/")?;
                }
                write!(f, "{}", self.name)
            }
            None => write!(f, "{}", self.name),
        }
    }
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    v.as_str()
}

/// The identity of a document found in `path`.
pub fn resource_key(path: &str, doc: &Document) -> ResourceKey {
    let api_version = str_at(&doc.value, &["apiVersion"]).map(str::to_owned);
    let kind = str_at(&doc.value, &["kind"]).map(str::to_owned);
    let name = str_at(&doc.value, &["metadata", "name"]).map(str::to_owned);
    match (kind, name) {
        (Some(kind), Some(name)) => ResourceKey {
            api_version,
            kind: Some(kind),
            namespace: str_at(&doc.value, &["metadata", "namespace"]).map(str::to_owned),
            name,
        },
        (kind, _) => ResourceKey {
            api_version,
            kind,
            namespace: None,
            name: if doc.index == 0 {
                path.to_owned()
            } else {
                format!("{path}#{}", doc.index)
            },
        },
    }
}

/// A scalar (or empty collection) as JSON, for output.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number)
                    .unwrap_or_else(|| Json::String(n.to_string()))
            }
        }
        Value::String(s) => Json::String(s.clone()),
        Value::Sequence(seq) => Json::Array(seq.iter().map(to_json).collect()),
        Value::Mapping(map) => {
            Json::Object(map.iter().map(|(k, v)| (key_text(k), to_json(v))).collect())
        }
        Value::Tagged(t) => to_json(&t.value),
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => serde_norway::to_string(other)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_default(),
    }
}

/// Flattens a document into `(field path, leaf value)` pairs, in document order.
///
/// Paths join mapping keys with `.`; a sequence item that is a mapping with a
/// string `name` is addressed by it (`containers[name=web]`), any other item by its
/// index (`args[0]`). Empty mappings and sequences are leaves.
pub fn flatten(value: &Value) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    flatten_into(value, String::new(), &mut out);
    out
}

fn flatten_into(value: &Value, prefix: String, out: &mut Vec<(String, Json)>) {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = key_text(k);
                let path = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_into(v, path, out);
            }
        }
        Value::Sequence(seq) if !seq.is_empty() => {
            for (i, item) in seq.iter().enumerate() {
                let path = match item.get("name").and_then(Value::as_str) {
                    Some(name) => format!("{prefix}[name={name}]"),
                    None => format!("{prefix}[{i}]"),
                };
                flatten_into(item, path, out);
            }
        }
        Value::Tagged(t) => flatten_into(&t.value, prefix, out),
        leaf => out.push((prefix, to_json(leaf))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_files_skip_empty_documents_but_count_them() {
        let docs = parse_documents(b"---\n# only a comment\n---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].index, 1);
        assert_eq!(docs[1].index, 2);
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        let err = parse_documents(b"a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert!(!err.message.contains(" at line "), "{err:?}");
    }

    #[test]
    fn validate_agrees_with_parse() {
        for text in [
            "a: 1\n---\nb: [1, 2]\n",
            "a: [1, 2\n",
            "",
            "---\n---\n",
            "a: b: c\n",
            "\tx: 1\n",
        ] {
            let parsed = parse_documents(text.as_bytes()).map(|_| ());
            assert_eq!(validate(text.as_bytes()), parsed, "{text:?}");
        }
    }

    #[test]
    fn resource_keys() {
        let docs = parse_documents(
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n---\nreplicaCount: 2\n",
        )
        .unwrap();
        let k = resource_key("apps/web/a.yaml", &docs[0]);
        assert_eq!(k.to_string(), "Deployment/shop/web");
        assert_eq!(k.api_version.as_deref(), Some("apps/v1"));
        let k = resource_key("apps/web/a.yaml", &docs[1]);
        assert_eq!(k.name, "apps/web/a.yaml#1");
        assert_eq!(k.kind, None);
    }

    #[test]
    fn flatten_names_list_items_by_name_else_index() {
        let docs = parse_documents(
            b"spec:\n  replicas: 2\n  containers:\n  - name: web\n    image: a:1\n    args: [x, y]\n  empty: {}\n",
        )
        .unwrap();
        let flat = flatten(&docs[0].value);
        let paths: Vec<_> = flat.iter().map(|(p, v)| format!("{p}={v}")).collect();
        assert_eq!(
            paths,
            [
                "spec.replicas=2",
                "spec.containers[name=web].name=\"web\"",
                "spec.containers[name=web].image=\"a:1\"",
                "spec.containers[name=web].args[0]=\"x\"",
                "spec.containers[name=web].args[1]=\"y\"",
                "spec.empty={}",
            ]
        );
    }
}

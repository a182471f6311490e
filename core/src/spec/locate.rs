//! Where things are in a spec's source. serde-saphyr reports a line and
//! column for a deserialization error but no field path, and validation
//! works on the typed spec, which has no positions at all. So, only when
//! there is something to report, the source is read a second time into a
//! tree of positioned nodes; that tree turns an error position into a path
//! (`steps[1].timeout`) and a path into a line.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;

/// A YAML node, positioned by its `Spanned` wrapper. Scalars keep their
/// text so mapping keys can be matched; the values themselves do not matter.
#[derive(Debug)]
enum Node {
    Scalar(Option<String>),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_string())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Some(v.to_owned())))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

/// (line, column), comparable in document order.
type Pos = (u64, u64);

fn pos(location: &Location) -> Pos {
    (location.line(), location.column())
}

fn at<T>(node: &Spanned<T>) -> Pos {
    pos(&node.referenced)
}

/// One step of a path.
#[derive(Debug, PartialEq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `steps[1].needs[0]` into `steps`, `1`, `needs`, `0`.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                out.push(Segment::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

/// The positioned tree of one source text.
pub(super) struct LocationTree {
    root: Spanned<Node>,
}

impl LocationTree {
    /// Reads `source` leniently (duplicate keys kept, any scalar accepted);
    /// `None` when it is not even well-formed YAML.
    pub(super) fn build(source: &str, mut options: serde_saphyr::Options) -> Option<Self> {
        options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
        options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::AsString;
        serde_saphyr::from_str_with_options::<Spanned<Node>>(source, options)
            .ok()
            .map(|root| LocationTree { root })
    }

    /// The path of the node at `line`:`column`: the deepest key or item starting
    /// at or before it. With `container`, stop at a mapping that starts
    /// exactly there (a missing field is reported at its mapping's start).
    pub(super) fn path_at(&self, line: u64, column: u64, container: bool) -> String {
        let target = (line, column);
        let mut path = String::new();
        let mut node = &self.root;
        loop {
            match &node.value {
                Node::Map(entries) => {
                    if container && at(node) == target {
                        break;
                    }
                    let Some((key, value)) = entries
                        .iter()
                        .filter(|(k, _)| at(k) <= target)
                        .max_by_key(|(k, _)| at(k))
                    else {
                        break;
                    };
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key_text(key));
                    if at(key) == target || at(value) > target {
                        break;
                    }
                    node = value;
                }
                Node::Seq(items) => {
                    let Some((i, item)) = items
                        .iter()
                        .enumerate()
                        .filter(|(_, item)| at(item) <= target)
                        .max_by_key(|(_, item)| at(item))
                    else {
                        break;
                    };
                    path.push_str(&format!("[{i}]"));
                    node = item;
                }
                Node::Scalar(_) => break,
            }
        }
        path
    }

    /// The line of `path`, or of its deepest part that exists. For a
    /// mapping entry that is the key's line.
    pub(super) fn line_of(&self, path: &str) -> Option<u32> {
        let mut node = &self.root;
        let mut line = node.referenced.line();
        for segment in segments(path) {
            let next = match (&node.value, segment) {
                (Node::Map(entries), Segment::Key(name)) => entries
                    .iter()
                    .find(|(k, _)| key_text(k) == name)
                    .map(|(k, v)| (k.referenced.line(), v)),
                (Node::Seq(items), Segment::Index(i)) => {
                    items.get(i).map(|item| (item.referenced.line(), item))
                }
                _ => None,
            };
            match next {
                Some((l, child)) => {
                    line = l;
                    node = child;
                }
                None => break,
            }
        }
        u32::try_from(line).ok().filter(|l| *l > 0)
    }
}

fn key_text(key: &Spanned<Node>) -> &str {
    match &key.value {
        Node::Scalar(Some(text)) => text,
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
name: x
steps:
  - id: a
    needs:
      - b
    env: { A: 1, B: .nan }
  -
    id: q
    http: {method: GET, url: 'http://x'}
";

    fn tree(src: &str) -> LocationTree {
        LocationTree::build(src, serde_saphyr::Options::default()).unwrap()
    }

    #[test]
    fn splits_paths() {
        assert_eq!(
            segments("steps[1].needs[0]"),
            vec![
                Segment::Key("steps"),
                Segment::Index(1),
                Segment::Key("needs"),
                Segment::Index(0)
            ]
        );
        assert_eq!(segments(""), vec![]);
        assert_eq!(segments("a[x]"), vec![Segment::Key("a")]);
    }

    #[test]
    fn lines_of_paths() {
        let t = tree(SRC);
        let cases = [
            ("", Some(1)),
            ("name", Some(1)),
            ("steps", Some(2)),
            ("steps[0]", Some(3)),
            ("steps[0].needs[0]", Some(5)),
            ("steps[0].env.B", Some(6)),
            ("steps[1].id", Some(8)),
            ("steps[1].http.url", Some(9)),
            ("steps[1].nope", Some(8)),
            ("steps[7].id", Some(2)),
        ];
        for (path, want) in cases {
            assert_eq!(t.line_of(path), want, "{path}");
        }
    }

    #[test]
    fn paths_at_positions() {
        let t = tree(SRC);
        let cases = [
            ((1, 7), false, "name"),
            ((3, 9), false, "steps[0].id"),
            ((5, 9), false, "steps[0].needs[0]"),
            ((6, 18), false, "steps[0].env.B"),
            ((8, 5), false, "steps[1].id"),
            ((9, 33), false, "steps[1].http.url"),
            ((1, 1), true, ""),
            ((3, 5), true, "steps[0]"),
        ];
        for ((line, column), container, want) in cases {
            assert_eq!(t.path_at(line, column, container), want, "{line}:{column}");
        }
    }

    #[test]
    fn malformed_yaml_has_no_tree() {
        assert!(LocationTree::build("a: [b", serde_saphyr::Options::default()).is_none());
    }
}

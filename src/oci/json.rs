//! JSON bytes as Go's `encoding/json` writes them: compact, struct field order, sorted map keys,
//! and `<`, `>`, `&`, U+2028, U+2029 escaped. Matching it byte for byte keeps digests equal to
//! those the Go client computes for the same inputs.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

struct GoFormatter(CompactFormatter);

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Serialises `value` exactly as Go's `json.Marshal` would.
pub fn to_go_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter(CompactFormatter));
    value.serialize(&mut ser)?;
    Ok(out)
}

/// Serialises `value` as Go's `json.Encoder` with a two-space indent does (used by
/// `--format json`): HTML characters escaped, trailing newline.
pub fn to_go_json_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    struct Pretty<'a>(serde_json::ser::PrettyFormatter<'a>);
    impl Formatter for Pretty<'_> {
        fn write_string_fragment<W: ?Sized + io::Write>(
            &mut self,
            writer: &mut W,
            fragment: &str,
        ) -> io::Result<()> {
            GoFormatter(CompactFormatter).write_string_fragment(writer, fragment)
        }
        fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.begin_array(w)
        }
        fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.end_array(w)
        }
        fn begin_array_value<W: ?Sized + io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> io::Result<()> {
            self.0.begin_array_value(w, first)
        }
        fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.end_array_value(w)
        }
        fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.begin_object(w)
        }
        fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.end_object(w)
        }
        fn begin_object_key<W: ?Sized + io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> io::Result<()> {
            self.0.begin_object_key(w, first)
        }
        fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.begin_object_value(w)
        }
        fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.0.end_object_value(w)
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        Pretty(serde_json::ser::PrettyFormatter::with_indent(b"  ")),
    );
    value.serialize(&mut ser)?;
    out.push(b'\n');
    Ok(out)
}

/// Re-indents JSON text with two spaces, keeping its key order and string bytes (Go's
/// `json.Indent`), with a trailing newline. `None` when `src` is not valid JSON.
#[must_use]
pub fn indent_json(src: &[u8]) -> Option<Vec<u8>> {
    serde_json::from_slice::<serde::de::IgnoredAny>(src).ok()?;
    let mut out = Vec::with_capacity(src.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', depth * 2));
    };
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(c);
            }
            b'{' | b'[' => {
                // An empty object or array stays on one line.
                let close = if c == b'{' { b'}' } else { b']' };
                let next = src[i + 1..].iter().position(|b| !b.is_ascii_whitespace());
                if next.is_some_and(|n| src[i + 1 + n] == close) {
                    out.extend([c, close]);
                    i += 2 + next.unwrap_or(0);
                    continue;
                }
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            b':' => out.extend(b": "),
            _ => out.push(c),
        }
        i += 1;
    }
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn indents_keeping_key_order() {
        let src = br#"{"b":1,"a":[true,{"x":"y, z: \"q\""}],"e":{},"f":[]}"#;
        assert_eq!(
            String::from_utf8(super::indent_json(src).unwrap()).unwrap(),
            "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    {\n      \"x\": \"y, z: \\\"q\\\"\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}\n"
        );
        assert_eq!(super::indent_json(b"{nope"), None);
    }

    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn escapes_like_go() {
        let mut m = BTreeMap::new();
        m.insert("b", "x<y>&z\u{2028}");
        m.insert("a", "\"q\"\n");
        assert_eq!(
            String::from_utf8(to_go_json(&m).unwrap()).unwrap(),
            r#"{"a":"\"q\"\n","b":"x\u003cy\u003e\u0026z\u2028"}"#
        );
    }

    #[test]
    fn pretty_has_two_space_indent_and_newline() {
        let mut m = BTreeMap::new();
        m.insert("k", vec![1, 2]);
        assert_eq!(
            String::from_utf8(to_go_json_pretty(&m).unwrap()).unwrap(),
            "{\n  \"k\": [\n    1,\n    2\n  ]\n}\n"
        );
    }
}

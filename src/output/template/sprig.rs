//! The sprig functions (Go client: `sprig.TxtFuncMap()`, sprig v3) with sprig's argument order,
//! Go's checks of typed parameters, and sprig's answers on odd input.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use gotmpl::{TemplateError, Value as Tv};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::go;

/// A template value back as JSON (for `toJson`).
fn to_json(v: &Tv) -> Value {
    match v {
        Tv::Bool(b) => Value::Bool(*b),
        Tv::Int(i) => Value::from(*i),
        Tv::Uint(u) => Value::from(*u),
        Tv::Float(f) => {
            // Go's json.Marshal writes integral float64s without a fraction.
            if f.fract() == 0.0 && f.abs() < 1e15 {
                Value::from(*f as i64)
            } else {
                Value::from(*f)
            }
        }
        Tv::String(s) => Value::String(s.to_string()),
        Tv::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Tv::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
        _ => Value::Null,
    }
}

fn arg(args: &[Tv], i: usize) -> Tv {
    args.get(i).cloned().unwrap_or(Tv::Nil)
}

fn text(v: &Tv) -> String {
    match v {
        Tv::String(s) => s.to_string(),
        Tv::Nil => String::new(),
        other => other.to_string(),
    }
}

fn string(s: impl Into<Arc<str>>) -> Tv {
    Tv::String(s.into())
}

fn list(items: impl IntoIterator<Item = Tv>) -> Tv {
    Tv::List(items.into_iter().collect())
}

fn strings(items: impl IntoIterator<Item = impl Into<Arc<str>>>) -> Tv {
    list(items.into_iter().map(string))
}

/// sprig's `empty`: the zero value of its type.
fn is_empty(v: &Tv) -> bool {
    !v.is_truthy()
}

fn fail(message: impl Into<String>) -> TemplateError {
    TemplateError::Exec(message.into())
}

/// A Go runtime panic inside a function, as `text/template` reports it.
fn panicked(name: &str, message: impl std::fmt::Display) -> TemplateError {
    fail(format!("error calling {name}: {message}"))
}

/// Go's check of a call's argument count.
fn args<'a, const N: usize>(name: &str, a: &'a [Tv]) -> gotmpl::Result<&'a [Tv; N]> {
    a.try_into().map_err(|_| {
        fail(format!(
            "wrong number of args for {name}: want {N} got {}",
            a.len()
        ))
    })
}

fn at_least<'a>(name: &str, a: &'a [Tv], n: usize) -> gotmpl::Result<&'a [Tv]> {
    if a.len() < n {
        return Err(fail(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            a.len()
        )));
    }
    Ok(a)
}

/// The Go type the value has in the Go client (JSON data decode to `interface{}`).
fn go_type(v: &Tv) -> &'static str {
    match v {
        Tv::List(_) => "[]interface {}",
        Tv::Map(_) => "map[string]interface {}",
        other => other.type_name(),
    }
}

/// `reflect.Kind`'s name, which sprig's list errors print.
fn go_kind(v: &Tv) -> &'static str {
    match v {
        Tv::List(_) => "slice",
        other => other.type_name(),
    }
}

fn wrong_type(expected: &str, v: &Tv) -> TemplateError {
    match v {
        Tv::Nil => fail(format!("invalid value; expected {expected}")),
        other => fail(format!(
            "wrong type for value; expected {expected}; got {}",
            go_type(other)
        )),
    }
}

/// A `string` parameter: Go refuses anything else (a float64, a missing value).
fn want_str(v: &Tv) -> gotmpl::Result<&str> {
    match v {
        Tv::String(s) => Ok(s),
        other => Err(wrong_type("string", other)),
    }
}

/// An `int` parameter: a literal or an integer result; a float64 from the data is refused.
fn want_int(v: &Tv) -> gotmpl::Result<i64> {
    match v {
        Tv::Int(i) => Ok(*i),
        Tv::Uint(u) => i64::try_from(*u).map_err(|_| wrong_type("int", v)),
        other => Err(wrong_type("int", other)),
    }
}

fn want_bool(v: &Tv) -> gotmpl::Result<bool> {
    match v {
        Tv::Bool(b) => Ok(*b),
        other => Err(wrong_type("bool", other)),
    }
}

/// A `map[string]interface{}` parameter; nil is an empty map.
fn want_map(v: &Tv) -> gotmpl::Result<Option<&BTreeMap<Arc<str>, Tv>>> {
    match v {
        Tv::Map(m) => Ok(Some(m)),
        Tv::Nil => Ok(None),
        other => Err(wrong_type("map[string]interface {}", other)),
    }
}

/// sprig's `strval`: `fmt.Sprintf("%v", v)` for anything but a string.
fn strval(v: &Tv) -> String {
    match v {
        Tv::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// sprig's `strslice`: a list's non-nil items as strings, nil as none, anything else as one.
fn strslice(v: &Tv) -> Vec<String> {
    match v {
        Tv::List(l) => l
            .iter()
            .filter(|v| !matches!(v, Tv::Nil))
            .map(strval)
            .collect(),
        Tv::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// `reflect.DeepEqual` on decoded JSON: a float64 never equals an int.
fn deep_equal(a: &Tv, b: &Tv) -> bool {
    match (a, b) {
        (Tv::Nil, Tv::Nil) => true,
        (Tv::Bool(x), Tv::Bool(y)) => x == y,
        (Tv::Int(x), Tv::Int(y)) => x == y,
        (Tv::Uint(x), Tv::Uint(y)) => x == y,
        #[allow(clippy::float_cmp)]
        (Tv::Float(x), Tv::Float(y)) => x == y,
        (Tv::String(x), Tv::String(y)) => x == y,
        (Tv::List(x), Tv::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| deep_equal(a, b))
        }
        (Tv::Map(x), Tv::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}

/// The items of a list argument of sprig's list functions, which panic on anything else.
fn want_list<'a>(name: &str, what: &str, v: &'a Tv) -> gotmpl::Result<&'a [Tv]> {
    match v {
        Tv::List(l) => Ok(l),
        Tv::Nil => Err(panicked(
            name,
            "runtime error: invalid memory address or nil pointer dereference",
        )),
        other => Err(panicked(
            name,
            format!("Cannot {what} on type {}", go_kind(other)),
        )),
    }
}

/// `cast.ToInt64`, which sprig's arithmetic applies to every operand: strings are parsed with
/// `ParseInt(s, 0, 64)` after a zero fraction (`"3.0"`) is dropped; what does not convert is 0.
fn to_int64(v: &Tv) -> i64 {
    match v {
        Tv::Int(i) => *i,
        Tv::Uint(u) => u.cast_signed(),
        Tv::Float(f) => go::float_to_int(*f),
        Tv::Bool(b) => i64::from(*b),
        Tv::String(s) => go::parse_int(trim_zero_decimal(s), true).unwrap_or(0),
        _ => 0,
    }
}

/// cast's `trimZeroDecimal`: `"12.00"` → `"12"`; `"12.5"` and `"12."` unchanged.
fn trim_zero_decimal(s: &str) -> &str {
    let mut found_zero = false;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b'.' if found_zero => return &s[..i],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `cast.ToFloat64`.
#[allow(clippy::cast_precision_loss)]
fn to_float64(v: &Tv) -> f64 {
    match v {
        Tv::Int(i) => *i as f64,
        Tv::Uint(u) => *u as f64,
        Tv::Float(f) => *f,
        Tv::Bool(b) => f64::from(u8::from(*b)),
        Tv::String(s) => go::parse_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `s[from..to]` on bytes, as Go slices strings (a cut through a character is replaced).
fn byte_slice(s: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned()
}

fn byte_len(s: &str) -> i64 {
    i64::try_from(s.len()).unwrap_or(i64::MAX)
}

fn int(i: i64) -> Tv {
    Tv::Int(i)
}

fn usize_of(i: i64) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

/// `strings.Repeat`, which panics on a negative count or an overflowing length.
fn repeat(name: &str, s: &str, count: i64) -> gotmpl::Result<String> {
    let count =
        usize::try_from(count).map_err(|_| panicked(name, "strings: negative Repeat count"))?;
    if s.len()
        .checked_mul(count)
        .is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(panicked(name, "strings: Repeat output length overflow"));
    }
    Ok(s.repeat(count))
}

/// sprig's `split`/`splitn` result: `_0`, `_1`, … → parts.
fn numbered(parts: impl IntoIterator<Item = impl Into<Arc<str>>>) -> Tv {
    Tv::Map(Arc::new(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (Arc::from(format!("_{i}")), string(p)))
            .collect(),
    ))
}

/// `strings.Split`: an empty separator splits after each character.
fn go_split<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    if sep.is_empty() {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect()
    } else {
        s.split(sep).collect()
    }
}

/// `strings.SplitN`: `n < 0` all parts, `0` none, else at most `n`.
fn go_splitn<'a>(s: &'a str, sep: &str, n: i64) -> Vec<&'a str> {
    match usize::try_from(n) {
        Ok(0) => Vec::new(),
        Err(_) => go_split(s, sep),
        Ok(n) if sep.is_empty() => {
            let mut parts = go_split(s, sep);
            if parts.len() > n {
                let rest_at = parts[..n - 1].iter().map(|p| p.len()).sum();
                parts.truncate(n - 1);
                parts.push(&s[rest_at..]);
            }
            parts
        }
        Ok(n) => s.splitn(n, sep).collect(),
    }
}

/// goutils' `DeleteWhiteSpace`, which works on bytes: when it removes anything, every other byte
/// is written back as the character of that code point (so non-ASCII text is mangled, as in Go).
fn nospace(s: &str) -> String {
    let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0);
    if !s.bytes().any(|b| space(&b)) {
        return s.to_owned();
    }
    s.bytes().filter(|b| !space(b)).map(char::from).collect()
}

fn regex(name: &str, pattern: &Tv) -> gotmpl::Result<regex::Regex> {
    go::compile(want_str(pattern)?).map_err(|e| panicked(name, e))
}

/// `regexReplaceAll[Literal] <re> <s> <replacement>`.
fn regex_replace(name: &str, a: &[Tv], literal: bool) -> gotmpl::Result<Tv> {
    let [re, s, repl] = args(name, a)?;
    let re = regex(name, re)?;
    Ok(string(go::replace_all(
        &re,
        want_str(s)?,
        want_str(repl)?,
        literal,
    )))
}

type Func = fn(&[Tv]) -> gotmpl::Result<Tv>;

/// The sprig functions (Go client: `sprig.TxtFuncMap()`) that scripts use on this data.
pub(super) const FUNCS: &[(&str, Func)] = &[
    // `json.Marshal`: `<`, `>`, `&` escaped, as `toRawJson` does not.
    ("toJson", |a| {
        let bytes = crate::oci::to_go_json(&to_json(&arg(a, 0))).unwrap_or_default();
        Ok(string(String::from_utf8_lossy(&bytes)))
    }),
    ("toRawJson", |a| Ok(string(to_json(&arg(a, 0)).to_string()))),
    // `json.MarshalIndent(v, "", "  ")`: escaped as `toJson`, no trailing newline.
    ("toPrettyJson", |a| {
        let bytes = crate::oci::to_go_json_pretty(&to_json(&arg(a, 0))).unwrap_or_default();
        Ok(string(
            String::from_utf8_lossy(&bytes).trim_end_matches('\n'),
        ))
    }),
    ("first", |a| {
        Ok(match arg(a, 0) {
            Tv::List(l) => l.first().cloned().unwrap_or(Tv::Nil),
            _ => Tv::Nil,
        })
    }),
    ("last", |a| {
        Ok(match arg(a, 0) {
            Tv::List(l) => l.last().cloned().unwrap_or(Tv::Nil),
            _ => Tv::Nil,
        })
    }),
    // `keys <dict>…`: Go's order is random; these come sorted, one dict after the other.
    ("keys", |a| {
        let mut keys = Vec::new();
        for d in a {
            keys.extend(want_map(d)?.into_iter().flat_map(|m| m.keys().cloned()));
        }
        Ok(list(keys.into_iter().map(Tv::String)))
    }),
    ("hasKey", |a| {
        Ok(Tv::Bool(match arg(a, 0) {
            Tv::Map(m) => m.contains_key(text(&arg(a, 1)).as_str()),
            _ => false,
        }))
    }),
    // `default <fallback> <value>`: the value unless it is empty.
    ("default", |a| {
        let value = arg(a, 1);
        Ok(if is_empty(&value) { arg(a, 0) } else { value })
    }),
    // `join <sep> <list>`: nil items are left out.
    ("join", |a| {
        Ok(string(strslice(&arg(a, 1)).join(&text(&arg(a, 0)))))
    }),
    ("upper", |a| Ok(string(text(&arg(a, 0)).to_uppercase()))),
    ("lower", |a| Ok(string(text(&arg(a, 0)).to_lowercase()))),
    ("trim", |a| Ok(string(text(&arg(a, 0)).trim()))),
    ("trimPrefix", |a| {
        let (prefix, s) = (text(&arg(a, 0)), text(&arg(a, 1)));
        Ok(string(s.strip_prefix(&prefix).unwrap_or(&s)))
    }),
    ("trimSuffix", |a| {
        let (suffix, s) = (text(&arg(a, 0)), text(&arg(a, 1)));
        Ok(string(s.strip_suffix(&suffix).unwrap_or(&s)))
    }),
    ("contains", |a| {
        Ok(Tv::Bool(text(&arg(a, 1)).contains(&text(&arg(a, 0)))))
    }),
    ("hasPrefix", |a| {
        Ok(Tv::Bool(text(&arg(a, 1)).starts_with(&text(&arg(a, 0)))))
    }),
    ("hasSuffix", |a| {
        Ok(Tv::Bool(text(&arg(a, 1)).ends_with(&text(&arg(a, 0)))))
    }),
    ("replace", |a| {
        Ok(string(
            text(&arg(a, 2)).replace(&text(&arg(a, 0)), &text(&arg(a, 1))),
        ))
    }),
    ("quote", |a| Ok(string(format!("{:?}", text(&arg(a, 0)))))),
    // Strings. Lengths and offsets count bytes, as Go's do.
    // `trunc <n> <s>`: the first n bytes, or the last -n.
    ("trunc", |a| {
        let [n, s] = args("trunc", a)?;
        let (n, s) = (want_int(n)?, want_str(s)?);
        let len = byte_len(s);
        Ok(string(match n {
            n if n < 0 && len + n > 0 => byte_slice(s, usize_of(len + n), s.len()),
            n if n >= 0 && len > n => byte_slice(s, 0, usize_of(n)),
            _ => s.to_owned(),
        }))
    }),
    // `substr <start> <end> <s>`: start < 0 means 0; end < 0 or past the end means the end; Go
    // panics on what is still out of range.
    ("substr", |a| {
        let [start, end, s] = args("substr", a)?;
        let (start, end, s) = (want_int(start)?, want_int(end)?, want_str(s)?);
        let len = byte_len(s);
        let out_of_range = |what: String| {
            panicked(
                "substr",
                format!("runtime error: slice bounds out of range {what}"),
            )
        };
        let (from, to) = if start < 0 {
            if end < 0 {
                return Err(out_of_range(format!("[:{end}]")));
            }
            if end > len {
                return Err(out_of_range(format!("[:{end}] with length {len}")));
            }
            (0, end)
        } else if end < 0 || end > len {
            if start > len {
                return Err(out_of_range(format!("[{start}:{len}]")));
            }
            (start, len)
        } else {
            if start > end {
                return Err(out_of_range(format!("[{start}:{end}]")));
            }
            (start, end)
        };
        Ok(string(byte_slice(s, usize_of(from), usize_of(to))))
    }),
    // `abbrev <width> <s>`: cut to width bytes ending in "..." (width < 4: unchanged).
    ("abbrev", |a| {
        let [width, s] = args("abbrev", a)?;
        let (width, s) = (want_int(width)?, want_str(s)?);
        Ok(string(if width < 4 || byte_len(s) <= width {
            s.to_owned()
        } else {
            byte_slice(s, 0, usize_of(width - 3)) + "..."
        }))
    }),
    ("title", |a| {
        let [s] = args("title", a)?;
        Ok(string(go::title(want_str(s)?)))
    }),
    // `repeat <n> <s>`.
    ("repeat", |a| {
        let [n, s] = args("repeat", a)?;
        Ok(string(repeat("repeat", want_str(s)?, want_int(n)?)?))
    }),
    ("nospace", |a| {
        let [s] = args("nospace", a)?;
        Ok(string(nospace(want_str(s)?)))
    }),
    // `trimAll <cutset> <s>`: `strings.Trim`.
    ("trimAll", |a| {
        let [cutset, s] = args("trimAll", a)?;
        let cutset = want_str(cutset)?;
        Ok(string(want_str(s)?.trim_matches(|c| cutset.contains(c))))
    }),
    // `cat <v>…`: the non-nil values, space-separated.
    ("cat", |a| {
        Ok(string(
            a.iter()
                .filter(|v| !matches!(v, Tv::Nil))
                .map(strval)
                .collect::<Vec<_>>()
                .join(" "),
        ))
    }),
    // `indent <n> <s>`: n spaces before every line.
    ("indent", |a| {
        let [n, s] = args("indent", a)?;
        let pad = repeat("indent", " ", want_int(n)?)?;
        Ok(string(
            pad.clone() + &want_str(s)?.replace('\n', &format!("\n{pad}")),
        ))
    }),
    ("nindent", |a| {
        let [n, s] = args("nindent", a)?;
        let pad = repeat("nindent", " ", want_int(n)?)?;
        Ok(string(format!(
            "\n{pad}{}",
            want_str(s)?.replace('\n', &format!("\n{pad}"))
        )))
    }),
    // `squote <v>…`: each non-nil value in single quotes, unescaped.
    ("squote", |a| {
        Ok(string(
            a.iter()
                .filter(|v| !matches!(v, Tv::Nil))
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(" "),
        ))
    }),
    ("toString", |a| {
        let [v] = args("toString", a)?;
        Ok(string(strval(v)))
    }),
    // `split <sep> <s>`: a dict `_0`, `_1`, … of the parts.
    ("split", |a| {
        let [sep, s] = args("split", a)?;
        Ok(numbered(go_split(want_str(s)?, want_str(sep)?)))
    }),
    ("splitList", |a| {
        let [sep, s] = args("splitList", a)?;
        Ok(strings(go_split(want_str(s)?, want_str(sep)?)))
    }),
    // `splitn <sep> <n> <s>`.
    ("splitn", |a| {
        let [sep, n, s] = args("splitn", a)?;
        Ok(numbered(go_splitn(
            want_str(s)?,
            want_str(sep)?,
            want_int(n)?,
        )))
    }),
    // Regular expressions, Go's RE2 syntax. An invalid pattern is an error, except for
    // `regexMatch`, which answers false.
    ("regexMatch", |a| {
        let [re, s] = args("regexMatch", a)?;
        let s = want_str(s)?;
        Ok(Tv::Bool(
            go::compile(want_str(re)?).is_ok_and(|re| re.is_match(s)),
        ))
    }),
    ("regexFind", |a| {
        let [re, s] = args("regexFind", a)?;
        let (re, s) = (regex("regexFind", re)?, want_str(s)?);
        Ok(string(re.find(s).map_or("", |m| m.as_str())))
    }),
    // `regexFindAll <re> <s> <n>`: at most n matches, all if n < 0.
    ("regexFindAll", |a| {
        let [re, s, n] = args("regexFindAll", a)?;
        let (re, s, n) = (regex("regexFindAll", re)?, want_str(s)?, want_int(n)?);
        Ok(strings(
            go::find_all(&re, s, n)
                .into_iter()
                .map(|(from, to)| &s[from..to]),
        ))
    }),
    // `regexReplaceAll <re> <s> <replacement>`: `$1`, `${name}` expanded.
    ("regexReplaceAll", |a| {
        regex_replace("regexReplaceAll", a, false)
    }),
    ("regexReplaceAllLiteral", |a| {
        regex_replace("regexReplaceAllLiteral", a, true)
    }),
    // `regexSplit <re> <s> <n>`.
    ("regexSplit", |a| {
        let [re, s, n] = args("regexSplit", a)?;
        let (re, s, n) = (regex("regexSplit", re)?, want_str(s)?, want_int(n)?);
        Ok(strings(go::split(&re, s, n)))
    }),
    // Encoding and hashing.
    ("b64enc", |a| {
        let [s] = args("b64enc", a)?;
        Ok(string(
            base64::engine::general_purpose::STANDARD.encode(want_str(s)?),
        ))
    }),
    // `b64dec`: what does not decode gives Go's error text as the result.
    ("b64dec", |a| {
        let [s] = args("b64dec", a)?;
        Ok(string(match go::b64_decode(want_str(s)?) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(at) => format!("illegal base64 data at input byte {at}"),
        }))
    }),
    ("sha256sum", |a| {
        let [s] = args("sha256sum", a)?;
        Ok(string(hex::encode(Sha256::digest(want_str(s)?))))
    }),
    // Numbers: every operand goes through `cast.ToInt64` (strings parsed, the rest 0) and the
    // arithmetic is int64's, wrapping.
    ("int", |a| {
        let [v] = args("int", a)?;
        Ok(int(to_int64(v)))
    }),
    ("int64", |a| {
        let [v] = args("int64", a)?;
        Ok(int(to_int64(v)))
    }),
    ("float64", |a| {
        let [v] = args("float64", a)?;
        Ok(Tv::Float(to_float64(v)))
    }),
    // `atoi <s>`: `strconv.Atoi`, decimal only; 0 when it fails, clamped when out of range.
    ("atoi", |a| {
        let [s] = args("atoi", a)?;
        Ok(int(match go::parse_int(want_str(s)?, false) {
            Ok(i) | Err(go::IntError::Range(i)) => i,
            Err(go::IntError::Syntax) => 0,
        }))
    }),
    ("add", |a| {
        Ok(int(a.iter().map(to_int64).fold(0, i64::wrapping_add)))
    }),
    ("add1", |a| {
        let [v] = args("add1", a)?;
        Ok(int(to_int64(v).wrapping_add(1)))
    }),
    ("sub", |a| {
        let [x, y] = args("sub", a)?;
        Ok(int(to_int64(x).wrapping_sub(to_int64(y))))
    }),
    ("mul", |a| {
        let a = at_least("mul", a, 1)?;
        Ok(int(a.iter().map(to_int64).fold(1, i64::wrapping_mul)))
    }),
    ("div", |a| {
        let [x, y] = args("div", a)?;
        match to_int64(y) {
            0 => Err(panicked("div", "runtime error: integer divide by zero")),
            y => Ok(int(to_int64(x).wrapping_div(y))),
        }
    }),
    ("mod", |a| {
        let [x, y] = args("mod", a)?;
        match to_int64(y) {
            0 => Err(panicked("mod", "runtime error: integer divide by zero")),
            y => Ok(int(to_int64(x).wrapping_rem(y))),
        }
    }),
    ("max", |a| {
        let a = at_least("max", a, 1)?;
        Ok(int(a.iter().map(to_int64).max().unwrap_or_default()))
    }),
    ("biggest", |a| {
        let a = at_least("biggest", a, 1)?;
        Ok(int(a.iter().map(to_int64).max().unwrap_or_default()))
    }),
    ("min", |a| {
        let a = at_least("min", a, 1)?;
        Ok(int(a.iter().map(to_int64).min().unwrap_or_default()))
    }),
    // Lists and dicts.
    ("list", |a| Ok(list(a.iter().cloned()))),
    ("tuple", |a| Ok(list(a.iter().cloned()))),
    // `dict <key> <value>…`: keys as strings, a missing last value "".
    ("dict", |a| {
        Ok(Tv::Map(Arc::new(
            a.chunks(2)
                .map(|kv| {
                    let value = kv.get(1).cloned().unwrap_or_else(|| string(""));
                    (Arc::from(strval(&kv[0])), value)
                })
                .collect(),
        )))
    }),
    // `get <dict> <key>`: "" when the key is missing.
    ("get", |a| {
        let [d, key] = args("get", a)?;
        let (d, key) = (want_map(d)?, want_str(key)?);
        Ok(d.and_then(|d| d.get(key))
            .cloned()
            .unwrap_or_else(|| string("")))
    }),
    // `values <dict>`: in key order (Go's is random).
    ("values", |a| {
        let [d] = args("values", a)?;
        Ok(list(
            want_map(d)?.into_iter().flat_map(|m| m.values().cloned()),
        ))
    }),
    // `pluck <key> <dict>…`: the key's value in each dict that has it.
    ("pluck", |a| {
        let a = at_least("pluck", a, 1)?;
        let key = want_str(&a[0])?;
        let mut found = Vec::new();
        for d in &a[1..] {
            found.extend(want_map(d)?.and_then(|m| m.get(key)).cloned());
        }
        Ok(list(found))
    }),
    // `has <needle> <list>`: `reflect.DeepEqual`, so 1 (an int) is not in a list of float64s.
    ("has", |a| {
        let [needle, haystack] = args("has", a)?;
        if matches!(haystack, Tv::Nil) {
            return Ok(Tv::Bool(false));
        }
        let items = want_list("has", "find has", haystack)?;
        Ok(Tv::Bool(items.iter().any(|item| deep_equal(needle, item))))
    }),
    // `compact <list>`: without the empty items.
    ("compact", |a| {
        let [l] = args("compact", a)?;
        let items = want_list("compact", "compact", l)?;
        Ok(list(items.iter().filter(|v| !is_empty(v)).cloned()))
    }),
    ("uniq", |a| {
        let [l] = args("uniq", a)?;
        let mut unique: Vec<Tv> = Vec::new();
        for item in want_list("uniq", "find uniq", l)? {
            if !unique.iter().any(|u| deep_equal(u, item)) {
                unique.push(item.clone());
            }
        }
        Ok(list(unique))
    }),
    // `sortAlpha <list>`: the items as strings, sorted; anything else as a one-item list.
    ("sortAlpha", |a| {
        let [l] = args("sortAlpha", a)?;
        let mut items = match l {
            Tv::List(_) => strslice(l),
            other => vec![strval(other)],
        };
        items.sort();
        Ok(strings(items))
    }),
    ("empty", |a| {
        let [v] = args("empty", a)?;
        Ok(Tv::Bool(is_empty(v)))
    }),
    // `coalesce <v>…`: the first non-empty value, or nil.
    ("coalesce", |a| {
        Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or(Tv::Nil))
    }),
    // `ternary <if-true> <if-false> <bool>`.
    ("ternary", |a| {
        let [yes, no, cond] = args("ternary", a)?;
        Ok(if want_bool(cond)? {
            yes.clone()
        } else {
            no.clone()
        })
    }),
];

#[cfg(test)]
mod tests {
    use super::super::render;

    fn data() -> serde_json::Value {
        serde_json::json!({
            "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "ref": "localhost:5000/repo:v1", "size": 1234, "half": 2.5, "neg": -7.9,
            "path": "/a/b c/d.txt", "empty": "", "zero": 0, "t": true, "f": false,
            "tags": ["v2", "v1", "latest", "v1"], "nums": [1, 2, 1], "mixed": ["a", null, "", 0, "b"],
            "annotations": {"k": "v", "org.opencontainers.image.title": "d.txt"},
            "files": [{"path": "/p/1", "size": 1}, {"path": "/p/2"}],
            "multi": "line1\nline2", "wide": "héllo"
        })
    }

    fn check(cases: &[(&str, &str)]) {
        let data = data();
        for (template, want) in cases {
            match render(template, &data) {
                Ok(got) => assert_eq!(&got, want, "{template}"),
                Err(e) => panic!("{template}: {e}"),
            }
        }
    }

    fn check_errors(cases: &[(&str, &str)]) {
        let data = data();
        for (template, want) in cases {
            match render(template, &data) {
                Ok(got) => panic!("{template}: rendered {got:?}"),
                Err(e) => assert!(e.to_string().contains(want), "{template}: {e}"),
            }
        }
    }

    #[test]
    fn string_functions() {
        check(&[
            ("{{trunc 19 .digest}}", "sha256:0123456789ab"),
            ("{{.digest | trunc 19}}", "sha256:0123456789ab"),
            ("{{trunc -5 .digest}}", "bcdef"),
            ("{{trunc -100 .ref}}", "localhost:5000/repo:v1"),
            ("{{trunc 0 .ref}}", ""),
            ("{{trunc 100 .ref}}", "localhost:5000/repo:v1"),
            ("{{trunc 2 .wide}}", "h\u{fffd}"),
            ("{{substr 0 6 .digest}}", "sha256"),
            ("{{.digest | substr 7 19}}", "0123456789ab"),
            ("{{substr -3 5 .ref}}", "local"),
            ("{{substr 15 -1 .ref}}", "repo:v1"),
            ("{{substr 15 1000 .ref}}", "repo:v1"),
            ("{{substr 3 3 .ref}}", ""),
            ("{{abbrev 10 .ref}}", "localho..."),
            ("{{abbrev 3 .ref}}", "localhost:5000/repo:v1"),
            ("{{abbrev 100 .ref}}", "localhost:5000/repo:v1"),
            ("{{title \"hello oras-rs world\"}}", "Hello Oras-Rs World"),
            ("{{repeat 3 \"ab\"}}|{{\"x\" | repeat 0}}", "ababab|"),
            ("{{nospace .path}}", "/a/bc/d.txt"),
            ("{{nospace \"a b\u{e9}\"}}", "ab\u{c3}\u{a9}"),
            ("{{nospace .wide}}", "héllo"),
            ("{{trimAll \"/\" \"//a/b//\"}}", "a/b"),
            ("{{cat \"a\" .size .missing .t \"b\"}}", "a 1234 true b"),
            ("{{indent 2 .multi}}", "  line1\n  line2"),
            ("{{nindent 2 .multi}}", "\n  line1\n  line2"),
            ("{{squote \"a\" .size .missing}}", "'a' '1234'"),
            (
                "{{toString .size}}|{{toString .t}}|{{toString .missing}}|{{toString .tags}}",
                "1234|true|<nil>|[v2 v1 latest v1]",
            ),
            (
                "{{hasPrefix \"sha256:\" .digest}}|{{.ref | hasSuffix \":v1\"}}",
                "true|true",
            ),
            (
                "{{trimPrefix \"sha256:\" .digest | trunc 4}}|{{trimSuffix \".txt\" .path}}",
                "0123|/a/b c/d",
            ),
        ]);
        check_errors(&[
            (
                "{{substr 5 2 .ref}}",
                "error calling substr: runtime error: slice bounds out of range [5:2]",
            ),
            ("{{substr 30 -1 .ref}}", "slice bounds out of range [30:22]"),
            (
                "{{substr -1 30 .ref}}",
                "slice bounds out of range [:30] with length 22",
            ),
            ("{{substr -1 -1 .ref}}", "slice bounds out of range [:-1]"),
            (
                "{{repeat -1 \"a\"}}",
                "error calling repeat: strings: negative Repeat count",
            ),
            ("{{indent -1 \"a\"}}", "strings: negative Repeat count"),
            // Go passes no float64 to an int parameter, nor a number or nothing to a string one.
            (
                "{{trunc .size .ref}}",
                "wrong type for value; expected int; got float64",
            ),
            (
                "{{trunc 3 .size}}",
                "wrong type for value; expected string; got float64",
            ),
            ("{{trunc 3 .missing}}", "invalid value; expected string"),
            (
                "{{trunc 3}}",
                "wrong number of args for trunc: want 2 got 1",
            ),
        ]);
    }

    #[test]
    fn split_functions() {
        check(&[
            ("{{(split \":\" .digest)._0}}", "sha256"),
            ("{{(split \":\" .digest)._1 | substr 0 12}}", "0123456789ab"),
            (
                "{{range $k, $v := split \"/\" \"a/b/c\"}}{{$k}}={{$v}};{{end}}",
                "_0=a;_1=b;_2=c;",
            ),
            (
                "{{(split \":\" \"nocolon\")._0}}|{{(split \":\" \"nocolon\")._1}}",
                "nocolon|<no value>",
            ),
            ("{{len (split \"\" \"héllo\")}}", "5"),
            ("{{splitList \":\" .ref}}", "[localhost 5000/repo v1]"),
            ("{{splitList \",\" \"\" | len}}", "1"),
            (
                "{{$p := splitn \":\" 2 .ref}}{{$p._0}}|{{$p._1}}",
                "localhost|5000/repo:v1",
            ),
            (
                "{{splitn \":\" 0 .ref | len}}|{{splitn \":\" -1 .ref | len}}",
                "0|3",
            ),
            ("{{(splitn \"\" 2 \"abc\")._1}}", "bc"),
        ]);
    }

    #[test]
    fn regex_functions() {
        check(&[
            ("{{regexMatch \"^sha256:[a-f0-9]{64}$\" .digest}}", "true"),
            ("{{regexMatch \"^v\\\\d+$\" \"v١\"}}", "false"),
            ("{{regexMatch \"(\" .digest}}", "false"),
            (
                "{{regexFind \":v[0-9]+$\" .ref}}|{{regexFind \"x\" .ref}}",
                ":v1|",
            ),
            ("{{regexFindAll \"v[0-9]\" \"v1 v2 v3\" -1}}", "[v1 v2 v3]"),
            (
                "{{regexFindAll \"v[0-9]\" \"v1 v2 v3\" 2}}|{{regexFindAll \"v\" \"v\" 0 | len}}",
                "[v1 v2]|0",
            ),
            (
                "{{regexReplaceAll \"sha256:\" .digest \"\" | trunc 6}}",
                "012345",
            ),
            (
                "{{regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"${1}W\"}}",
                "-W-xxW-",
            ),
            (
                "{{regexReplaceAll \"(?P<repo>[^/]+):(?P<tag>\\\\w+)$\" .ref \"$tag@$repo\"}}",
                "localhost:5000/v1@repo",
            ),
            (
                "{{regexReplaceAllLiteral \"a(x*)b\" \"-ab-axxb-\" \"$1\"}}",
                "-$1-$1-",
            ),
            (
                "{{regexSplit \"[:/]\" .ref -1}}",
                "[localhost 5000 repo v1]",
            ),
            ("{{regexSplit \"[:/]\" .ref 2}}", "[localhost 5000/repo:v1]"),
            ("{{regexSplit \"z+\" \"pizza\" 0 | len}}", "0"),
        ]);
        check_errors(&[
            (
                "{{regexFind \"(\" .ref}}",
                "error calling regexFind: regexp: Compile(`(`): error parsing regexp:",
            ),
            (
                "{{regexReplaceAll \"[\" .ref \"\"}}",
                "error calling regexReplaceAll: regexp: Compile(`[`)",
            ),
            (
                "{{regexFindAll \"a\" .ref .size}}",
                "expected int; got float64",
            ),
        ]);
    }

    #[test]
    fn encoding_and_hashing() {
        check(&[
            ("{{b64enc \"hello\"}}|{{b64enc \"\"}}", "aGVsbG8=|"),
            ("{{b64dec \"aGVsbG8=\"}}|{{\"aGk=\" | b64dec}}", "hello|hi"),
            (
                "{{b64dec \"aGVsbG8\"}}",
                "illegal base64 data at input byte 4",
            ),
            ("{{b64enc .ref | b64dec}}", "localhost:5000/repo:v1"),
            (
                "{{sha256sum \"\"}}",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                "{{sha256sum \"hello world\\n\" | trunc 12}}",
                "a948904f2f0f",
            ),
        ]);
        check_errors(&[("{{sha256sum .size}}", "expected string; got float64")]);
    }

    #[test]
    fn number_functions() {
        check(&[
            ("{{int .size}}|{{int64 .half}}|{{int .neg}}", "1234|2|-7"),
            (
                "{{int \"42\"}}|{{int \"3.0\"}}|{{int \"3.5\"}}|{{int \"0x1F\"}}|{{int \"010\"}}|{{int \"08\"}}",
                "42|3|0|31|8|0",
            ),
            (
                "{{int \"1_000\"}}|{{int \" 1\"}}|{{int .t}}|{{int .missing}}|{{int .tags}}",
                "1000|0|1|0|0",
            ),
            ("{{int \"99999999999999999999\"}}", "0"),
            (
                "{{float64 \"1.5\"}}|{{float64 .size}}|{{float64 \"x\"}}|{{float64 3}}",
                "1.5|1234|0|3",
            ),
            (
                "{{atoi \"42\"}}|{{atoi \"-7\"}}|{{atoi \"3.0\"}}|{{atoi \"0x1F\"}}|{{atoi \"x\"}}",
                "42|-7|0|0|0",
            ),
            ("{{atoi \"99999999999999999999\"}}", "9223372036854775807"),
            (
                "{{add 1 2 3}}|{{add}}|{{add .size \"6\" .half}}|{{add1 .size}}",
                "6|0|1242|1235",
            ),
            (
                "{{sub 10 3}}|{{sub .size 34}}|{{mul 2 3 4}}|{{mul 5}}",
                "7|1200|24|5",
            ),
            (
                "{{div 7 2}}|{{div -7 2}}|{{mod 7 3}}|{{mod -7 3}}",
                "3|-3|1|-1",
            ),
            ("{{max 1 5 3}}|{{min 4 .half 9}}|{{biggest 2}}", "5|2|2"),
            ("{{add 9223372036854775807 1}}", "-9223372036854775808"),
            ("{{len .tags | add1}}", "5"),
        ]);
        check_errors(&[
            (
                "{{div 1 0}}",
                "error calling div: runtime error: integer divide by zero",
            ),
            (
                "{{mod 1 .zero}}",
                "error calling mod: runtime error: integer divide by zero",
            ),
            ("{{sub 1}}", "wrong number of args for sub: want 2 got 1"),
            (
                "{{max}}",
                "wrong number of args for max: want at least 1 got 0",
            ),
            ("{{atoi 5}}", "expected string; got int"),
        ]);
    }

    #[test]
    fn list_and_dict_functions() {
        check(&[
            ("{{list 1 \"a\" .t}}|{{list | len}}", "[1 a true]|0"),
            ("{{range list \"x\" \"y\"}}<{{.}}>{{end}}", "<x><y>"),
            (
                "{{$d := dict \"a\" 1 \"b\" .ref}}{{$d.a}}|{{$d.b}}|{{len $d}}",
                "1|localhost:5000/repo:v1|2",
            ),
            (
                "{{$d := dict \"a\"}}{{printf \"%q\" $d.a}}|{{dict 1 2}}",
                "\"\"|map[1:2]",
            ),
            (
                "{{get .annotations \"k\"}}|{{get .annotations \"nope\" | printf \"%q\"}}",
                "v|\"\"",
            ),
            ("{{get .missing \"k\" | printf \"%q\"}}", "\"\""),
            (
                "{{keys .annotations}}|{{keys .annotations (dict \"z\" 1)}}",
                "[k org.opencontainers.image.title]|[k org.opencontainers.image.title z]",
            ),
            ("{{values .annotations}}", "[v d.txt]"),
            (
                "{{pluck \"path\" (index .files 0) (index .files 1)}}|{{pluck \"size\" (index .files 0) (index .files 1)}}",
                "[/p/1 /p/2]|[1]",
            ),
            (
                "{{has \"v1\" .tags}}|{{has \"v9\" .tags}}|{{.tags | has \"latest\"}}",
                "true|false|true",
            ),
            (
                "{{has 1 .nums}}|{{has 1.0 .nums}}|{{has \"x\" .missing}}",
                "false|true|false",
            ),
            ("{{compact .mixed}}|{{compact .mixed | len}}", "[a b]|2"),
            ("{{uniq .tags}}|{{uniq .nums}}", "[v2 v1 latest]|[1 2]"),
            (
                "{{sortAlpha .tags}}|{{sortAlpha .mixed}}|{{sortAlpha .ref}}",
                "[latest v1 v1 v2]|[ 0 a b]|[localhost:5000/repo:v1]",
            ),
            (
                "{{join \",\" .mixed}}|{{join \"-\" (sortAlpha (uniq .tags))}}",
                "a,,0,b|latest-v1-v2",
            ),
            (
                "{{empty .empty}}|{{empty .zero}}|{{empty .f}}|{{empty .missing}}|{{empty .tags}}|{{empty .ref}}",
                "true|true|true|true|false|false",
            ),
            (
                "{{coalesce .missing .empty .zero .ref}}|{{coalesce .missing | printf \"%v\"}}",
                "localhost:5000/repo:v1|<nil>",
            ),
            (
                "{{ternary \"yes\" \"no\" .t}}|{{.f | ternary \"yes\" \"no\"}}",
                "yes|no",
            ),
            (
                "{{default \"d\" .missing}}|{{default \"d\" .ref}}|{{toJson (list 1 .half)}}",
                "d|localhost:5000/repo:v1|[1,2.5]",
            ),
        ]);
        check_errors(&[
            (
                "{{uniq .ref}}",
                "error calling uniq: Cannot find uniq on type string",
            ),
            (
                "{{compact .annotations}}",
                "error calling compact: Cannot compact on type map",
            ),
            (
                "{{has \"a\" .ref}}",
                "error calling has: Cannot find has on type string",
            ),
            ("{{uniq .missing}}", "nil pointer dereference"),
            (
                "{{ternary 1 2 \"true\"}}",
                "wrong type for value; expected bool; got string",
            ),
            (
                "{{get .tags \"k\"}}",
                "expected map[string]interface {}; got []interface {}",
            ),
        ]);
    }
}

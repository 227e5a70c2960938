//! Go standard library behaviour the sprig functions inherit and Rust's does not share: `strconv`'s
//! number parsing, `encoding/base64`'s lenient decoder, `regexp`'s RE2 dialect and its handling of
//! empty matches, `strings.Title`.

use regex::{Captures, Regex, RegexBuilder};

/// Why `strconv.ParseInt` refused a string.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum IntError {
    Syntax,
    /// Out of range; Go returns the value clamped to `int64`.
    Range(i64),
}

/// `strconv.ParseInt(s, base, 64)` for base 10 or 0 (`base_prefix`: `0x`, `0o`, `0b` or a
/// leading `0` for octal, and `_` between digits).
pub(super) fn parse_int(s: &str, base_prefix: bool) -> Result<i64, IntError> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        Some(_) => (false, s),
        None => return Err(IntError::Syntax),
    };
    let b = body.as_bytes();
    let (radix, digits) = match b {
        [] => return Err(IntError::Syntax),
        [b'0', p, _, ..] if base_prefix && matches!(p.to_ascii_lowercase(), b'b' | b'o' | b'x') => {
            let radix = match p.to_ascii_lowercase() {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (radix, &body[2..])
        }
        [b'0', ..] if base_prefix => (8, &body[1..]),
        _ => (10, body),
    };
    let mut value: u64 = 0;
    let mut underscores = false;
    for c in digits.chars() {
        if c == '_' && base_prefix {
            underscores = true;
            continue;
        }
        let digit = c.to_digit(radix).ok_or(IntError::Syntax)?;
        // ParseUint reports the overflow at the first digit that causes it.
        value = match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(v) => v,
            None => return Err(IntError::Range(if neg { i64::MIN } else { i64::MAX })),
        };
    }
    if underscores && !underscore_ok(s) {
        return Err(IntError::Syntax);
    }
    if neg {
        match value {
            v if v <= 1 << 63 => Ok(0i64.wrapping_sub_unsigned(v)),
            _ => Err(IntError::Range(i64::MIN)),
        }
    } else {
        i64::try_from(value).map_err(|_| IntError::Range(i64::MAX))
    }
}

/// `strconv`'s `underscoreOK`: each `_` sits between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseFloat(s, 64)`, `None` where Go returns an error (overflow included). Hexadecimal
/// floats (`0x1p-2`) are not parsed.
pub(super) fn parse_float(s: &str) -> Option<f64> {
    let plain;
    let s = if s.contains('_') {
        if !underscore_ok(s) {
            return None;
        }
        plain = s.replace('_', "");
        plain.as_str()
    } else {
        s
    };
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s).to_ascii_lowercase();
    if unsigned == "nan" && s.len() != unsigned.len() {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    let infinite_literal = matches!(unsigned.as_str(), "inf" | "infinity");
    (!f.is_infinite() || infinite_literal).then_some(f)
}

/// Go's conversion of a float64 to int64 as amd64 performs it: out of range and NaN give the
/// most negative value.
#[allow(clippy::cast_precision_loss)]
pub(super) fn float_to_int(f: f64) -> i64 {
    if f.is_nan() || f >= i64::MAX as f64 || f < i64::MIN as f64 {
        i64::MIN
    } else {
        f as i64
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `base64.StdEncoding.DecodeString`: padding required, `\r` and `\n` skipped, non-zero trailing
/// bits accepted. The error is the offset Go's `CorruptInputError` reports.
pub(super) fn b64_decode(s: &str) -> Result<Vec<u8>, usize> {
    let src = s.as_bytes();
    let value = |c: u8| B64.iter().position(|&b| b == c).map(|p| p as u32);
    let skip_newlines = |mut si: usize| {
        while si < src.len() && matches!(src[si], b'\n' | b'\r') {
            si += 1;
        }
        si
    };
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        // One quantum: four symbols, or fewer before padding.
        let mut quad = [0u32; 4];
        let mut len = 0;
        let mut trailing = None;
        while len < 4 {
            if si == src.len() {
                if len == 0 {
                    return Ok(out);
                }
                return Err(si - len);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = value(c) {
                quad[len] = v;
                len += 1;
                continue;
            }
            if matches!(c, b'\n' | b'\r') {
                continue;
            }
            if c != b'=' || len < 2 {
                return Err(si - 1);
            }
            if len == 2 {
                si = skip_newlines(si);
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            si = skip_newlines(si);
            if si < src.len() {
                trailing = Some(si);
            }
            break;
        }
        let bits = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..len]);
        if let Some(at) = trailing {
            return Err(at);
        }
    }
    Ok(out)
}

/// Compiles a Go (RE2) pattern. Go's `\d`, `\w`, `\s` and `\b` are ASCII where Rust's are
/// Unicode; `\Q…\E` quotes; `\<`, `\>` and a `{` that starts no repetition are literals in Go.
pub(super) fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(&translate(pattern)).build().map_err(|e| {
        let detail = match e {
            regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().to_owned(),
            other => other.to_string(),
        };
        format!(
            "regexp: Compile({}): error parsing regexp: {}",
            quote(pattern),
            detail.trim_start_matches("error: ")
        )
    })
}

/// `regexp`'s `quote`: backquoted when it can be.
fn quote(s: &str) -> String {
    if s.chars()
        .all(|c| c == '\t' || !c.is_control() && c != '`' && c != '\u{feff}')
    {
        format!("`{s}`")
    } else {
        format!("{s:?}")
    }
}

fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut rest = pattern;
    let mut in_class = false;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' => {
                let Some(e) = rest.chars().next() else {
                    out.push('\\');
                    break;
                };
                rest = &rest[e.len_utf8()..];
                match e {
                    'Q' if !in_class => {
                        let (quoted, after) = rest.split_once("\\E").unwrap_or((rest, ""));
                        out.push_str(&regex::escape(quoted));
                        rest = after;
                    }
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => out.push_str(perl_class(e, in_class)),
                    'b' | 'B' if !in_class => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    '<' | '>' => out.push(e),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if let Some(r) = rest.strip_prefix('^') {
                    out.push('^');
                    rest = r;
                }
                if let Some(r) = rest.strip_prefix(']') {
                    out.push_str("\\]");
                    rest = r;
                }
            }
            // Go has no nested classes or set operations: only `[:name:]` is special.
            '[' if rest.starts_with(':') && rest.contains(":]") => {
                let end = rest.find(":]").unwrap_or_default() + 2;
                out.push('[');
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '{' if !in_class && !starts_repetition(rest) => out.push_str("\\{"),
            _ => out.push(c),
        }
    }
    out
}

/// After a `{`: `n}`, `n,}` or `n,m}`.
fn starts_repetition(rest: &str) -> bool {
    let Some((inside, _)) = rest.split_once('}') else {
        return false;
    };
    let (min, max) = inside.split_once(',').unwrap_or((inside, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(min) && (max.is_empty() || digits(max))
}

/// Go's Perl classes, ASCII only.
fn perl_class(name: char, in_class: bool) -> &'static str {
    match (name, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('s', false) => r"[\t\n\f\r ]",
        ('s', true) => r"\t\n\f\r ",
        ('D', _) => "[^0-9]",
        ('W', _) => "[^0-9A-Za-z_]",
        _ => r"[^\t\n\f\r ]",
    }
}

/// The byte width of the character at `at` (1 past the end, as Go advances there).
fn width_at(s: &str, at: usize) -> usize {
    s[at..].chars().next().map_or(1, char::len_utf8)
}

/// `Regexp.FindAllStringIndex(s, n)`: at most `n` matches (all if `n < 0`); an empty match right
/// after the previous match is skipped.
pub(super) fn find_all(re: &Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let mut found = Vec::new();
    let mut pos = 0;
    let mut prev_end = None;
    while found.len() < limit && pos <= s.len() {
        let Some(m) = re.find_at(s, pos) else { break };
        let mut accept = true;
        if m.end() == pos {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos += width_at(s, pos);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            found.push((m.start(), m.end()));
        }
    }
    found
}

/// `Regexp.ReplaceAllString` (`literal`: `ReplaceAllLiteralString`).
pub(super) fn replace_all(re: &Regex, s: &str, repl: &str, literal: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_end = 0;
    let mut pos = 0;
    while pos <= s.len() {
        let Some(caps): Option<Captures<'_>> = re.captures_at(s, pos) else {
            break;
        };
        let m = caps.get(0).expect("group 0 always matches");
        out.push_str(&s[last_end..m.start()]);
        // No replacement for an empty match right after another match.
        if m.end() > last_end || m.start() == 0 {
            if literal {
                out.push_str(repl);
            } else {
                caps.expand(repl, &mut out);
            }
        }
        last_end = m.end();
        let width = if pos < s.len() { width_at(s, pos) } else { 0 };
        pos = if pos + width > m.end() {
            pos + width
        } else if pos + 1 > m.end() {
            pos + 1
        } else {
            m.end()
        };
    }
    out.push_str(&s[last_end..]);
    out
}

/// `Regexp.Split(s, n)`.
pub(super) fn split(re: &Regex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !re.as_str().is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let limit = usize::try_from(n).ok();
    let mut parts = Vec::new();
    let (mut begin, mut end) = (0, 0);
    for (start, stop) in find_all(re, s, n) {
        if limit.is_some_and(|l| parts.len() == l - 1) {
            break;
        }
        end = start;
        if stop != 0 {
            parts.push(s[begin..end].to_owned());
        }
        begin = stop;
    }
    if end != s.len() {
        parts.push(s[begin..].to_owned());
    }
    parts
}

/// `strings.Title`: the first letter of each word in title case; words are split at anything but
/// ASCII letters, digits, `_`, and non-ASCII letters and digits that are not spaces.
pub(super) fn title(s: &str) -> String {
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separator(prev) { to_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// `unicode.ToTitle` for one character: the digraphs have title forms of their own; otherwise the
/// upper case when it is a single character.
fn to_title(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        _ => {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_follows_strconv() {
        use IntError::{Range, Syntax};
        for (s, prefix, want) in [
            ("42", true, Ok(42)),
            ("-42", true, Ok(-42)),
            ("+7", false, Ok(7)),
            ("0x1F", true, Ok(31)),
            ("0o17", true, Ok(15)),
            ("0b101", true, Ok(5)),
            ("010", true, Ok(8)),
            ("010", false, Ok(10)),
            ("08", true, Err(Syntax)),
            ("0", true, Ok(0)),
            ("0x", true, Err(Syntax)),
            ("1_000", true, Ok(1000)),
            ("1_000", false, Err(Syntax)),
            ("1__0", true, Err(Syntax)),
            ("_1", true, Err(Syntax)),
            ("0x_1f", true, Ok(31)),
            ("", true, Err(Syntax)),
            ("-", false, Err(Syntax)),
            ("1.5", true, Err(Syntax)),
            (" 1", false, Err(Syntax)),
            ("9223372036854775807", false, Ok(i64::MAX)),
            ("-9223372036854775808", false, Ok(i64::MIN)),
            ("9223372036854775808", false, Err(Range(i64::MAX))),
            ("-9223372036854775809", false, Err(Range(i64::MIN))),
            ("99999999999999999999x", false, Err(Range(i64::MAX))),
        ] {
            assert_eq!(parse_int(s, prefix), want, "{s} {prefix}");
        }
    }

    #[test]
    fn parse_float_follows_strconv() {
        for (s, want) in [
            ("1.5", Some(1.5)),
            ("-2", Some(-2.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e3", Some(1000.0)),
            ("1_000.5", Some(1000.5)),
            ("1__0", None),
            ("Inf", Some(f64::INFINITY)),
            ("-infinity", Some(f64::NEG_INFINITY)),
            ("1e400", None),
            ("abc", None),
            ("", None),
        ] {
            assert_eq!(parse_float(s), want, "{s}");
        }
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn base64_decoding_reports_what_go_reports() {
        for (s, want) in [
            ("aGVsbG8=", Ok(&b"hello"[..])),
            ("aGVs\nbG8=", Ok(b"hello")),
            ("aGk=", Ok(b"hi")),
            ("YQ==", Ok(b"a")),
            ("YR==", Ok(b"a")),
            ("", Ok(b"")),
            ("YQ", Err(0)),
            ("YQ=", Err(3)),
            ("Y", Err(0)),
            ("aGVsbG8", Err(4)),
            ("a!==", Err(1)),
            ("YQ==YQ==", Err(4)),
            ("=", Err(0)),
        ] {
            assert_eq!(
                b64_decode(s).as_deref(),
                want.map(<[u8]>::to_vec).as_deref(),
                "{s}"
            );
        }
    }

    #[test]
    fn go_patterns_keep_their_meaning() {
        for (pattern, s, want) in [
            (r"\d+", "a١٢3", Some("3")),
            (r"\w+", "é_x1", Some("_x1")),
            (r"[\d.]+", "v1.2x", Some("1.2")),
            (r"[^\d]+", "12ab3", Some("ab")),
            (r"[\D]+", "12ab3", Some("ab")),
            (r"\s", "a\u{a0}b c", Some(" ")),
            (r"\bx", "éx x", Some("x")),
            (r"a\Q.*\E", "xa.*", Some("a.*")),
            (r"a{", "a{", Some("a{")),
            (r"a{2}", "aaa", Some("aa")),
            (r"[[:digit:]]+", "ab12", Some("12")),
            (r"[a&&b]", "&", Some("&")),
            (r"[a[]", "[", Some("[")),
            (r"(?i)SHA", "sha256", Some("sha")),
            (r"\<", "a<b", Some("<")),
            (r"\pL+", "1éa2", Some("éa")),
        ] {
            let re = compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(re.find(s).map(|m| m.as_str()), want, "{pattern} on {s:?}");
        }
        assert_eq!(
            compile("a(b").unwrap_err(),
            "regexp: Compile(`a(b`): error parsing regexp: unclosed group"
        );
    }

    #[test]
    fn empty_matches_are_handled_as_go_handles_them() {
        let re = |p| compile(p).unwrap();
        let texts = |v: Vec<(usize, usize)>, s: &str| {
            v.into_iter()
                .map(|(a, b)| s[a..b].to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            texts(find_all(&re("a*"), "baaab", -1), "baaab"),
            ["", "aaa", ""]
        );
        assert_eq!(texts(find_all(&re("a"), "banana", 2), "banana"), ["a", "a"]);
        assert!(find_all(&re("a"), "banana", 0).is_empty());
        assert_eq!(replace_all(&re("a*"), "baaac", "X", false), "XbXcX");
        assert_eq!(
            replace_all(&re("a(x*)b"), "-ab-axxb-", "${1}W", false),
            "-W-xxW-"
        );
        assert_eq!(replace_all(&re("a(x*)b"), "-ab-axxb-", "$1W", false), "---");
        assert_eq!(
            replace_all(&re("a(x*)b"), "-ab-axxb-", "$1", true),
            "-$1-$1-"
        );
        assert_eq!(split(&re("a"), "banana", -1), ["b", "n", "n", ""]);
        assert_eq!(
            split(&re("a*"), "abaabaccadaaae", 5),
            ["", "b", "b", "c", "cadaaae"]
        );
        assert_eq!(split(&re("z+"), "pizza", 2), ["pi", "a"]);
        assert_eq!(split(&re(""), "abc", -1), ["a", "b", "c"]);
        assert_eq!(split(&re("x"), "", -1), [""]);
        assert!(split(&re("a"), "banana", 0).is_empty());
    }

    #[test]
    fn title_capitalises_words_as_strings_title_does() {
        for (s, want) in [
            ("hello world", "Hello World"),
            ("sha256:abc-def_ghi", "Sha256:Abc-Def_ghi"),
            ("élan vital", "Élan Vital"),
            ("ǆemal", "ǅemal"),
            ("straße", "Straße"),
            ("ßa", "ßa"),
        ] {
            assert_eq!(title(s), want, "{s}");
        }
    }
}

//! `--format go-template=…`: Go's `text/template` (the `gotmpl` crate), applied to the command's
//! JSON output as the Go client passes it (objects are maps, numbers float64), with the sprig
//! functions scripts reach for (`toJson`, `default`, `join`, `trunc`, `split`, `regexFind`, …).

mod go;
mod sprig;

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value as Tv;
use serde_json::Value;

use sprig::FUNCS;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TemplateError(String);

/// A JSON value as Go's `encoding/json` decodes it into `interface{}`.
fn to_template(v: &Value) -> Tv {
    match v {
        Value::Null => Tv::Nil,
        Value::Bool(b) => Tv::Bool(*b),
        Value::Number(n) => Tv::Float(n.as_f64().unwrap_or_default()),
        Value::String(s) => Tv::String(s.as_str().into()),
        Value::Array(a) => Tv::List(a.iter().map(to_template).collect()),
        Value::Object(o) => Tv::Map(Arc::new(
            o.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), to_template(v)))
                .collect::<BTreeMap<_, _>>(),
        )),
    }
}

fn parse(template: &str) -> Result<gotmpl::Template, TemplateError> {
    let mut t = gotmpl::Template::new("oras");
    for (name, f) in FUNCS {
        t = t.func(name, f);
    }
    // sprig's alias, which oras-rs documented before the engine was complete.
    t = t.func("json", FUNCS[0].1);
    t.parse(template)
        .map_err(|e| TemplateError(format!("invalid template: {e}")))
}

/// The words a template may call besides `FUNCS`: Go's keywords, constants and built-ins.
const BUILTINS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
    "true", "false", "nil", "and", "or", "not", "call", "html", "index", "slice", "js", "len",
    "print", "printf", "println", "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "json",
];

/// What Go's parser finds wrong with `template` and gotmpl does not, or only when the template
/// runs, after the command has done its work: a call of a function that does not exist, a block
/// (`if`, `range`, `with`, `define`, `block`) left open, and an `{{end}}` or `{{else}}` outside one.
/// The message is Go's.
fn go_parse_error(template: &str) -> Option<String> {
    let line = |at: usize| 1 + template[..at].matches('\n').count();
    let mut open = 0usize;
    let mut at = 0;
    while let Some(start) = template[at..].find("{{") {
        let inner = at + start + 2;
        let end = inner + template[inner..].find("}}")?;
        let action = template[inner..end].trim_matches('-').trim();
        at = end + 2;
        if action.starts_with("/*") {
            continue;
        }
        let words = action_words(action);
        match words.split_whitespace().next() {
            Some("if" | "range" | "with" | "define" | "block") => open += 1,
            Some(keyword @ ("end" | "else")) if open == 0 => {
                return Some(format!(
                    "template: oras:{}: unexpected {{{{{keyword}}}}}",
                    line(inner)
                ));
            }
            Some("end") => open -= 1,
            _ => {}
        }
        let unknown = words.split_whitespace().find(|w| {
            w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && !BUILTINS.contains(w)
                && !FUNCS.iter().any(|(name, _)| name == w)
        });
        if let Some(word) = unknown {
            return Some(format!("template: oras: function {word:?} not defined"));
        }
    }
    (open > 0).then(|| format!("template: oras:{}: unexpected EOF", line(template.len())))
}

/// An action's words outside string and character literals (each literal and punctuation mark
/// becomes a space).
fn action_words(action: &str) -> String {
    let mut words = String::new();
    let mut quote = None;
    let mut escaped = false;
    for c in action.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q != '`' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if matches!(c, '"' | '`' | '\'') => {
                quote = Some(c);
                words.push(' ');
            }
            None if matches!(c, '(' | ')' | '|' | ',' | '=' | ':') => words.push(' '),
            None => words.push(c),
        }
    }
    words
}

/// Parses `template` without running it: a mistake is reported before the command does
/// anything.
pub fn check(template: &str) -> Result<(), TemplateError> {
    parse(template)?;
    match go_parse_error(template) {
        Some(e) => Err(TemplateError(format!("invalid template: {e}"))),
        None => Ok(()),
    }
}

/// Renders `template` with `data` (no trailing newline is added, as in Go).
pub(super) fn render(template: &str, data: &Value) -> Result<String, TemplateError> {
    parse(template)?
        .execute_to_string(&to_template(data))
        .map_err(|e| TemplateError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_forms_scripts_use() {
        let data = serde_json::json!({
            "reference": "r/x@sha256:ab", "size": 1_234_567, "n": 2,
            "tags": ["a", "b"], "files": [{"path": "/p/1"}, {"path": "/p/2"}],
            "content": {"layers": [{"digest": "sha256:1"}]},
            "annotations": {"org.opencontainers.image.created": "2026-11-29T00:00:00Z"}
        });
        let cases = [
            ("{{.reference}}", "r/x@sha256:ab"),
            ("{{range .tags}}<{{.}}>{{end}}", "<a><b>"),
            ("{{range .files}}{{println .path}}{{end}}", "/p/1\n/p/2\n"),
            ("{{(first .content.layers).digest}}", "sha256:1"),
            ("{{toJson .tags}}", r#"["a","b"]"#),
            // Go prints float64 1234567 as 1.234567e+06; whole numbers print whole here.
            ("{{.size}} {{.n}}", "1234567 2"),
            (
                "{{if .tags}}yes{{else}}no{{end}}{{if .missing}}x{{end}}",
                "yes",
            ),
            ("{{len .tags}}", "2"),
            // What the subset lacked: pipes, index, printf, eq, variables, sprig.
            ("{{.tags | len}}", "2"),
            (
                r#"{{index .annotations "org.opencontainers.image.created"}}"#,
                "2026-11-29T00:00:00Z",
            ),
            (r#"{{printf "%s=%v" .reference .n}}"#, "r/x@sha256:ab=2"),
            (r#"{{if eq .reference "r/x@sha256:ab"}}same{{end}}"#, "same"),
            ("{{range $i, $t := .tags}}{{$i}}{{$t}}{{end}}", "0a1b"),
            (
                r#"{{join "," .tags}} {{upper "x"}} {{default "d" .missing}}"#,
                "a,b X d",
            ),
            ("{{with .content}}{{len .layers}}{{end}}", "1"),
            ("{{print 1 2}}", "1 2"),
            ("{{.missing}}", "<no value>"),
            ("{{toJson .n}}", "2"),
        ];
        for (tpl, want) in cases {
            assert_eq!(render(tpl, &data).unwrap(), want, "{tpl}");
        }
        assert!(render("{{.x", &data).is_err());
        assert!(render("{{nosuch .x}}", &data).is_err());
    }

    #[test]
    fn unknown_functions_are_found_before_the_template_runs() {
        for ok in [
            "{{.digest}}",
            r#"{{range $i, $t := .tags}}{{printf "%d %s" $i $t}}{{end}}"#,
            r#"{{if eq .a "nosuch x"}}{{(first .l).digest | len}}{{else}}{{toJson .}}{{end}}"#,
            "{{/* nosuch */}}{{- .a -}}{{with .b}}{{.c}}{{end}}",
            r#"{{index .annotations "org.opencontainers.image.title" | upper}}"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, name) in [
            ("{{nosuch .x}}", "nosuch"),
            ("{{.x | uper}}", "uper"),
            ("{{if .a}}{{(frist .l).digest}}{{end}}", "frist"),
        ] {
            let err = check(bad).unwrap_err().to_string();
            assert!(
                err.contains(&format!("function {name:?} not defined")),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn blocks_left_open_or_closed_twice_are_refused_as_go_refuses_them() {
        for ok in [
            "{{if .a}}x{{else if .b}}y{{else}}z{{end}}",
            "{{range .l}}{{with .m}}{{.}}{{end}}{{end}}",
            "{{- range .l -}}\n{{.}}\n{{- end -}}",
            r#"{{printf "{{end}}"}}"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, message) in [
            ("{{range .layers}}x", "template: oras:1: unexpected EOF"),
            (
                "{{if .a}}\n{{with .b}}{{end}}\n",
                "template: oras:3: unexpected EOF",
            ),
            ("{{.a}}\n{{end}}", "template: oras:2: unexpected {{end}}"),
            (
                "{{if .a}}{{end}}{{else}}",
                "template: oras:1: unexpected {{else}}",
            ),
        ] {
            assert_eq!(
                check(bad).unwrap_err().to_string(),
                format!("invalid template: {message}"),
                "{bad}"
            );
        }
    }
}

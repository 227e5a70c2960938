//! A small subset of Go's `text/template`, enough for `--format go-template=…` as scripts use
//! it: `{{.field.sub}}`, `{{.}}`, `{{range .list}}…{{end}}`, `{{if .x}}…{{else}}…{{end}}`,
//! and the functions `println`, `print`, `toJson`/`json`, `toPrettyJson`, `first`, `len`.
//! Data is the command's JSON output, as the Go client passes it (numbers are float64).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Vec<String>),
    Range(Vec<String>, Vec<Node>),
    If(Vec<String>, Vec<Node>, Vec<Node>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid template: {0}")]
pub(super) struct TemplateError(String);

fn tokenize(src: &str) -> Result<Vec<(bool, String)>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push((false, rest[..start].to_owned()));
        }
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| TemplateError("unclosed action".into()))?;
        let inner = rest[start + 2..start + end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        out.push((true, inner.to_owned()));
        rest = &rest[start + end + 2..];
    }
    if !rest.is_empty() {
        out.push((false, rest.to_owned()));
    }
    Ok(out)
}

fn words(action: &str) -> Vec<String> {
    action.split_whitespace().map(str::to_owned).collect()
}

fn parse(
    tokens: &[(bool, String)],
    pos: &mut usize,
    stop: &[&str],
) -> Result<(Vec<Node>, String), TemplateError> {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let (is_action, text) = &tokens[*pos];
        *pos += 1;
        if !is_action {
            nodes.push(Node::Text(text.clone()));
            continue;
        }
        let w = words(text);
        match w.first().map(String::as_str) {
            Some(k) if stop.contains(&k) => return Ok((nodes, k.to_owned())),
            Some("range") => {
                let (body, _) = parse(tokens, pos, &["end"])?;
                nodes.push(Node::Range(w[1..].to_vec(), body));
            }
            Some("if") => {
                let (then, ended) = parse(tokens, pos, &["end", "else"])?;
                let otherwise = if ended == "else" {
                    parse(tokens, pos, &["end"])?.0
                } else {
                    Vec::new()
                };
                nodes.push(Node::If(w[1..].to_vec(), then, otherwise));
            }
            Some(_) => nodes.push(Node::Action(w)),
            None => return Err(TemplateError("empty action".into())),
        }
    }
    if stop.is_empty() {
        Ok((nodes, String::new()))
    } else {
        Err(TemplateError(format!("missing {{{{{}}}}}", stop[0])))
    }
}

fn lookup(dot: &Value, path: &str) -> Value {
    if path == "." {
        return dot.clone();
    }
    let mut cur = dot;
    for key in path.trim_start_matches('.').split('.') {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// Go's `fmt.Print` of a JSON-decoded value.
#[allow(clippy::many_single_char_names)]
fn show(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f.abs() < 1e6 {
                format!("{f:.0}")
            } else if f.abs() >= 1e6 || f.abs() < 1e-4 {
                let s = format!("{f:e}");
                // Rust `1.234567e6` → Go `1.234567e+06`.
                match s.split_once('e') {
                    Some((m, e)) => {
                        let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                        format!("{m}e{sign}{digits:0>2}")
                    }
                    None => s,
                }
            } else {
                f.to_string()
            }
        }
        Value::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => format!(
            "map[{}]",
            o.iter()
                .map(|(k, v)| format!("{k}:{}", show(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Evaluates `fn arg…`, `(fn arg…).field` or a field path to a value.
fn eval(dot: &Value, w: &[String]) -> Result<Value, TemplateError> {
    let joined = w.join(" ");
    if let Some(rest) = joined.strip_prefix('(') {
        let (inner, tail) = rest
            .rsplit_once(')')
            .ok_or_else(|| TemplateError(format!("unclosed parenthesis in {joined}")))?;
        let v = eval(dot, &words(inner))?;
        return Ok(if tail.is_empty() { v } else { lookup(&v, tail) });
    }
    let arg = |i: usize| w.get(i).map_or(Value::Null, |a| lookup(dot, a));
    Ok(match w.first().map(String::as_str) {
        Some(p) if p.starts_with('.') => lookup(dot, p),
        Some("println") => Value::String(format!(
            "{}\n",
            w[1..]
                .iter()
                .map(|a| show(&lookup(dot, a)))
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Some("print") => Value::String(w[1..].iter().map(|a| show(&lookup(dot, a))).collect()),
        Some("toJson" | "json" | "toRawJson") => {
            Value::String(serde_json::to_string(&arg(1)).unwrap_or_default())
        }
        Some("toPrettyJson") => {
            Value::String(serde_json::to_string_pretty(&arg(1)).unwrap_or_default())
        }
        Some("first") => match arg(1) {
            Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Some("len") => match arg(1) {
            Value::Array(a) => Value::from(a.len()),
            Value::Object(o) => Value::from(o.len()),
            Value::String(s) => Value::from(s.len()),
            _ => Value::from(0),
        },
        Some(f) => return Err(TemplateError(format!("function {f:?} not defined"))),
        None => Value::Null,
    })
}

fn render_nodes(nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), TemplateError> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Action(w) => {
                let v = eval(dot, w)?;
                out.push_str(&match v {
                    Value::String(s) => s,
                    other => show(&other),
                });
            }
            Node::Range(w, body) => match eval(dot, w)? {
                Value::Array(items) => {
                    for item in &items {
                        render_nodes(body, item, out)?;
                    }
                }
                Value::Object(map) => {
                    for item in map.values() {
                        render_nodes(body, item, out)?;
                    }
                }
                _ => {}
            },
            Node::If(w, then, otherwise) => {
                let branch = if truthy(&eval(dot, w)?) {
                    then
                } else {
                    otherwise
                };
                render_nodes(branch, dot, out)?;
            }
        }
    }
    Ok(())
}

/// Renders `template` with `data` (no trailing newline is added, as in Go).
pub(super) fn render(template: &str, data: &Value) -> Result<String, TemplateError> {
    let tokens = tokenize(template)?;
    let (nodes, _) = parse(&tokens, &mut 0, &[])?;
    let mut out = String::new();
    render_nodes(&nodes, data, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_forms_scripts_use() {
        let data = serde_json::json!({
            "reference": "r/x@sha256:ab", "size": 1_234_567, "n": 2,
            "tags": ["a", "b"], "files": [{"path": "/p/1"}, {"path": "/p/2"}],
            "content": {"layers": [{"digest": "sha256:1"}]}
        });
        let cases = [
            ("{{.reference}}", "r/x@sha256:ab"),
            ("{{range .tags}}<{{.}}>{{end}}", "<a><b>"),
            ("{{range .files}}{{println .path}}{{end}}", "/p/1\n/p/2\n"),
            ("{{(first .content.layers).digest}}", "sha256:1"),
            ("{{toJson .tags}}", r#"["a","b"]"#),
            ("{{.size}} {{.n}}", "1.234567e+06 2"),
            (
                "{{if .tags}}yes{{else}}no{{end}}{{if .missing}}x{{end}}",
                "yes",
            ),
            ("{{len .tags}}", "2"),
        ];
        for (tpl, want) in cases {
            assert_eq!(render(tpl, &data).unwrap(), want, "{tpl}");
        }
        assert!(render("{{.x", &data).is_err());
        assert!(render("{{range .tags}}", &data).is_err());
    }
}

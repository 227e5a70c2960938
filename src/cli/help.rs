//! Help in the Go client's layout, drawn from clap's command metadata: cobra's help template
//! (`Usage:`, `Aliases:`, `Available Commands:`, `Flags:`) around pflag's flag table.

use std::any::TypeId;
use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command};

/// cobra's smallest padding of command names in `Available Commands:`.
const MIN_NAME_PADDING: usize = 11;

/// The subcommand path (`["manifest", "fetch"]`) whose help the command line `args` (program
/// name first) asks for, by name or alias; `help <command>...` names that command, as in cobra.
#[must_use]
pub fn requested(root: &Command, args: &[String]) -> Vec<String> {
    let mut path = Vec::new();
    let mut cur = root;
    for word in args.iter().skip(1) {
        if word == "--" || !cur.has_subcommands() {
            break;
        }
        // Command groups take no flag with a value: every dash word is `-h` or the like.
        if word.starts_with('-') || word == "help" {
            continue;
        }
        match find(cur, word) {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                cur = sub;
            }
            None => break,
        }
    }
    path
}

fn find<'a>(cmd: &'a Command, word: &str) -> Option<&'a Command> {
    cmd.get_subcommands()
        .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
}

/// The help of the command at `path` under `root`, as cobra prints it: the long description
/// (examples included), usage, aliases, subcommands, flags.
#[must_use]
pub fn render(root: &Command, path: &[String]) -> String {
    let mut cmd = root;
    let mut words = vec![root.get_name()];
    for name in path {
        let Some(sub) = find(cmd, name) else { break };
        cmd = sub;
        words.push(sub.get_name());
    }
    let command_path = words.join(" ");
    let mut out = String::new();
    let long: Vec<String> = [
        cmd.get_long_about().or(cmd.get_about()),
        cmd.get_after_long_help().or(cmd.get_after_help()),
    ]
    .into_iter()
    .flatten()
    .map(|text| text.to_string().trim().to_owned())
    .filter(|text| !text.is_empty())
    .collect();
    if !long.is_empty() {
        let _ = write!(out, "{}\n\n", long.join("\n\n"));
    }
    out.push_str("Usage:");
    if cmd.has_subcommands() {
        let _ = write!(out, "\n  {command_path} [command]");
    } else {
        let line = cmd
            .get_overridden_usage()
            .map_or_else(|| command_path.clone(), ToString::to_string);
        // cobra's UseLine: `[flags]` is added where the usage does not name it.
        let flags = if line.contains("[flags]") {
            ""
        } else {
            " [flags]"
        };
        let _ = write!(out, "\n  {line}{flags}");
    }
    let aliases: Vec<&str> = cmd.get_visible_aliases().collect();
    if !aliases.is_empty() {
        let _ = write!(
            out,
            "\n\nAliases:\n  {}, {}",
            cmd.get_name(),
            aliases.join(", ")
        );
    }
    if cmd.has_subcommands() {
        out.push_str("\n\nAvailable Commands:");
        out.push_str(&subcommands(cmd, path.is_empty()));
    }
    out.push_str("\n\nFlags:\n");
    out.push_str(flag_usages(cmd, path.is_empty()).trim_end());
    if cmd.has_subcommands() {
        let _ = write!(
            out,
            "\n\nUse \"{command_path} [command] --help\" for more information about a command."
        );
    }
    out.push('\n');
    out
}

/// The `Available Commands:` lines, sorted by name; the root also lists cobra's `help`.
fn subcommands(cmd: &Command, root: bool) -> String {
    let mut entries: Vec<(&str, String)> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| {
            let short = s.get_about().map(ToString::to_string).unwrap_or_default();
            (s.get_name(), short)
        })
        .collect();
    if root {
        entries.push(("help", "Help about any command".to_owned()));
    }
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let width = entries
        .iter()
        .map(|(name, _)| name.len())
        .chain(cmd.get_subcommands().map(|s| s.get_name().len()))
        .max()
        .unwrap_or(0)
        .max(MIN_NAME_PADDING);
    let mut out = String::new();
    for (name, short) in entries {
        let _ = write!(out, "\n  {name:<width$} {short}");
    }
    out
}

/// pflag's `FlagUsages`: one line per visible flag, sorted by long name, the usage texts
/// aligned three spaces after the longest flag column. cobra adds `-h, --help`; the root also
/// has our `-V, --version`.
fn flag_usages(cmd: &Command, root: bool) -> String {
    let mut rows: Vec<(String, String, String)> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .filter(|a| !matches!(a.get_action(), ArgAction::Help | ArgAction::Version))
        .map(|a| {
            let (column, usage) = flag_row(a);
            let key = a.get_long().map_or_else(
                || a.get_short().map(String::from).unwrap_or_default(),
                str::to_owned,
            );
            (key, column, usage)
        })
        .collect();
    rows.push((
        "help".to_owned(),
        "  -h, --help".to_owned(),
        format!("help for {}", cmd.get_name()),
    ));
    if root {
        rows.push((
            "version".to_owned(),
            "  -V, --version".to_owned(),
            format!("version for {}", cmd.get_name()),
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let width = rows.iter().map(|(_, c, _)| c.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (_, column, usage) in rows {
        // Lines after the first of a usage text start under its first line, as in pflag.
        let usage = usage.replace('\n', &format!("\n{}", " ".repeat(width + 3)));
        let _ = writeln!(out, "{column:<width$}   {usage}");
    }
    out
}

/// What pflag knows of a flag: the Go type its value has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    String,
    StringArray,
    StringSlice,
}

impl Kind {
    fn of(arg: &Arg) -> Kind {
        let parsed = arg.get_value_parser().type_id();
        let numeric = [
            TypeId::of::<i64>(),
            TypeId::of::<i32>(),
            TypeId::of::<isize>(),
            TypeId::of::<u64>(),
            TypeId::of::<u32>(),
            TypeId::of::<usize>(),
        ]
        .iter()
        .any(|id| parsed == *id);
        match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count => Kind::Bool,
            ArgAction::Append if arg.get_value_delimiter().is_some() => Kind::StringSlice,
            ArgAction::Append => Kind::StringArray,
            _ if parsed == TypeId::of::<bool>() => Kind::Bool,
            // A size parsed into a number but written `4MiB` is a string to the user.
            _ if numeric
                && arg
                    .get_default_values()
                    .iter()
                    .all(|d| d.to_string_lossy().parse::<i128>().is_ok()) =>
            {
                Kind::Int
            }
            _ => Kind::String,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Bool => "",
            Kind::Int => "int",
            Kind::String => "string",
            Kind::StringArray => "stringArray",
            Kind::StringSlice => "stringSlice",
        }
    }
}

/// A flag's two columns: `  -a, --annotation stringArray` and its usage text with the default.
fn flag_row(arg: &Arg) -> (String, String) {
    let mut column = match (arg.get_short(), arg.get_long()) {
        (Some(short), Some(long)) => format!("  -{short}, --{long}"),
        (Some(short), None) => format!("  -{short}"),
        (None, long) => format!("      --{}", long.unwrap_or_default()),
    };
    let help = arg
        .get_help()
        .or(arg.get_long_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let kind = Kind::of(arg);
    let (word, mut usage) = unquote_usage(&help, kind);
    if !word.is_empty() {
        column.push(' ');
        column.push_str(&word);
    }
    if let Some(default) = default_text(arg, kind) {
        let _ = write!(usage, " (default {default})");
    }
    (column, usage)
}

/// pflag's `UnquoteUsage`: the first back-quoted word of the usage names the value (and loses
/// its quotes); otherwise the value's type does.
fn unquote_usage(help: &str, kind: Kind) -> (String, String) {
    if let Some((before, rest)) = help.split_once('`')
        && let Some((name, after)) = rest.split_once('`')
    {
        return (name.to_owned(), format!("{before}{name}{after}"));
    }
    (kind.word().to_owned(), help.to_owned())
}

/// The default as pflag prints it, or `None` where it is the type's zero value.
fn default_text(arg: &Arg, kind: Kind) -> Option<String> {
    if arg.is_hide_default_value_set() {
        return None;
    }
    let values: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    let value = values.first()?;
    match kind {
        Kind::Bool => (value == "true").then(|| value.clone()),
        Kind::Int => (value != "0").then(|| value.clone()),
        Kind::String => (!value.is_empty()).then(|| format!("{value:?}")),
        Kind::StringArray | Kind::StringSlice => Some(format!("[{}]", values.join(","))),
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, unquote_usage};

    #[test]
    fn back_quoted_word_names_the_value() {
        let cases = [
            (
                "`path` of the config file",
                Kind::String,
                "path",
                "path of the config file",
            ),
            (
                "registry username",
                Kind::String,
                "string",
                "registry username",
            ),
            ("a `b` and `c`", Kind::StringArray, "b", "a b and `c`"),
            ("one ` quote", Kind::Int, "int", "one ` quote"),
            ("output debug logs", Kind::Bool, "", "output debug logs"),
        ];
        for (help, kind, word, usage) in cases {
            assert_eq!(
                unquote_usage(help, kind),
                (word.to_owned(), usage.to_owned()),
                "{help}"
            );
        }
    }
}

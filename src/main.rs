//! The `oras` binary: parse arguments, run, map the result to an exit code.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::FromArgMatches as _;
use clap::error::{ContextKind, ContextValue, ErrorKind};

fn main() -> ExitCode {
    let command = oras::cli::command();
    let args = oras::cli::pflag_bools(std::env::args_os().collect(), &command);
    let typed: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|m| oras::cli::Cli::from_arg_matches(&m));
    match parsed {
        Ok(cli) => oras::run(cli),
        Err(e) => match e.kind() {
            ErrorKind::DisplayVersion => {
                let _ = e.print();
                ExitCode::SUCCESS
            }
            // `--help`, `-h`, `oras help <command>`, and `oras` or `oras manifest` alone: the
            // help in cobra's layout, on stdout.
            ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let root = oras::cli::command();
                let path = oras::cli::help::requested(&root, &typed);
                let _ = std::io::Write::write_all(
                    &mut std::io::stdout(),
                    oras::cli::help::render(&root, &path).as_bytes(),
                );
                ExitCode::SUCCESS
            }
            ErrorKind::UnknownArgument => {
                // The Go client's words (pflag), then clap's suggestion when it has one.
                let arg = match e.get(ContextKind::InvalidArg) {
                    Some(ContextValue::String(arg)) => arg.clone(),
                    _ => String::new(),
                };
                let name = arg.split('=').next().unwrap_or_default();
                let mut text = match name.strip_prefix('-') {
                    Some(short) if !short.starts_with('-') && !short.is_empty() => format!(
                        "Error: unknown shorthand flag: '{}' in {arg}\n",
                        short.chars().next().unwrap_or_default()
                    ),
                    _ => format!("Error: unknown flag: {name}\n"),
                };
                if let Some(ContextValue::String(like)) = e.get(ContextKind::SuggestedArg) {
                    let _ = writeln!(text, "Did you mean {like}?");
                }
                #[allow(clippy::print_stderr)]
                {
                    eprint!("{text}");
                }
                ExitCode::from(1)
            }
            _ => {
                // cobra's and pflag's words where they have some; else clap's `error: …` as
                // the Go client's `Error: …`. Exit 1 either way.
                let text = pflag_words(&e, &typed).unwrap_or_else(|| {
                    let text = e.render().to_string();
                    text.strip_prefix("error: ")
                        .map_or(text.clone(), |t| format!("Error: {t}"))
                });
                #[allow(clippy::print_stderr)]
                {
                    eprint!("{text}");
                }
                ExitCode::from(1)
            }
        },
    }
}

/// The flag of the invalid-value error `e` when the command line `typed` gave it an empty value
/// (`--flag ""` or `--flag=`), rather than none.
fn given_empty<'e>(e: &'e clap::Error, typed: &[String]) -> Option<&'e str> {
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let flag = arg.split_whitespace().next()?;
    let empty = typed.windows(2).any(|w| w[0] == flag && w[1].is_empty())
        || typed.iter().any(|a| a.strip_suffix('=') == Some(flag));
    (value.is_empty() && empty).then_some(flag)
}

/// What cobra and pflag print for an unknown command, a flag without its value and a value
/// that does not parse, for the clap error `e` on the command line `typed`.
fn pflag_words(e: &clap::Error, typed: &[String]) -> Option<String> {
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let name = text(ContextKind::InvalidSubcommand)?;
            // The command path: `oras` and the words before the unknown one.
            let at = typed.iter().position(|a| *a == name)?;
            let mut path = vec!["oras"];
            path.extend(
                typed[1..at]
                    .iter()
                    .filter(|a| !a.starts_with('-'))
                    .map(String::as_str),
            );
            let path = path.join(" ");
            let mut out = format!("Error: unknown command {name:?} for {path:?}\n");
            if let Some(ContextValue::Strings(like)) = e.get(ContextKind::SuggestedSubcommand) {
                out.push_str("\nDid you mean this?\n");
                for l in like {
                    let _ = writeln!(out, "\t{l}");
                }
                out.push('\n');
            }
            let _ = writeln!(out, "Run '{path} --help' for usage.");
            Some(out)
        }
        // An empty value for a flag that needs one (a path): pflag takes it, clap does not.
        ErrorKind::InvalidValue if given_empty(e, typed).is_some() => {
            let flag = given_empty(e, typed)?;
            Some(format!(
                "Error: invalid argument \"\" for \"{flag}\" flag: the value is empty\n"
            ))
        }
        // A flag at the end of the line, without its value.
        ErrorKind::InvalidValue if text(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) => {
            let flag = typed.last()?;
            Some(match flag.strip_prefix('-') {
                Some(short) if !short.starts_with('-') => format!(
                    "Error: flag needs an argument: {:?} in {flag}\n",
                    short.chars().last()?
                )
                .replace('"', "'"),
                _ => format!("Error: flag needs an argument: {flag}\n"),
            })
        }
        ErrorKind::ValueValidation => {
            let arg = text(ContextKind::InvalidArg)?;
            let flag = arg.split_whitespace().next()?;
            let value = text(ContextKind::InvalidValue)?;
            let source = std::error::Error::source(e)?;
            let why = match source.downcast_ref::<std::num::ParseIntError>() {
                Some(n) if *n.kind() == std::num::IntErrorKind::PosOverflow => {
                    format!("strconv.ParseInt: parsing {value:?}: value out of range")
                }
                Some(_) => format!("strconv.ParseInt: parsing {value:?}: invalid syntax"),
                None => source.to_string(),
            };
            Some(format!(
                "Error: invalid argument {value:?} for {flag:?} flag: {why}\n"
            ))
        }
        _ => None,
    }
}

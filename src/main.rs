//! The `oras` binary: parse arguments, run, map the result to an exit code.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::FromArgMatches as _;
use clap::error::{ContextKind, ContextValue, ErrorKind};

fn main() -> ExitCode {
    let command = oras::cli::command();
    let args = oras::cli::pflag_bools(std::env::args_os().collect(), &command);
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|m| oras::cli::Cli::from_arg_matches(&m));
    match parsed {
        Ok(cli) => oras::run(cli),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                ExitCode::SUCCESS
            }
            // `oras` or `oras manifest` alone: the help, on stdout as with --help (cobra).
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = std::io::Write::write_all(
                    &mut std::io::stdout(),
                    e.render().to_string().as_bytes(),
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
                // clap says `error: …`; the Go client says `Error: …`, and exits 1.
                let text = e.render().to_string();
                let text = text
                    .strip_prefix("error: ")
                    .map_or(text.clone(), |t| format!("Error: {t}"));
                #[allow(clippy::print_stderr)]
                {
                    eprint!("{text}");
                }
                ExitCode::from(1)
            }
        },
    }
}

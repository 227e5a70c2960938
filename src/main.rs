//! The `oras` binary: parse arguments, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    match oras::cli::Cli::try_parse() {
        Ok(cli) => oras::run(cli),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                ExitCode::SUCCESS
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

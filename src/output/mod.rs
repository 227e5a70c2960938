//! Everything the user sees: one handle that decides between progress bars (stderr is a
//! terminal), plain status lines on stdout (CI logs) or nothing (`--format json`), the data
//! printed on stdout, and the rendering of errors.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod status;
mod template;

pub use template::check as check_template;

use std::io::{IsTerminal as _, Write as _};

pub use error::{
    CopySide, Origin, SideError, UserError, escape_controls, escape_line, io_error_text,
    is_credential_missing, render_copy_error, render_error,
};
pub use status::{Operation, StatusReporter, humanize};

/// How transfer status is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMode {
    /// indicatif bars on stderr.
    Tty,
    /// The Go client's status lines on stdout.
    Plain,
    /// Nothing (machine-readable output was asked for).
    Silent,
}

/// The output format of a command's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// `--format go-template=…`: the JSON result rendered through a template.
    Template,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub status: StatusMode,
    pub format: Format,
    /// Show status lines for unnamed blobs (the deprecated `--verbose`, default on).
    pub verbose: bool,
    /// The template of `--format go-template`.
    pub template: Option<String>,
    /// Status and result lines go to stderr: stdout carries content (`pull -o -`).
    pub lines_on_stderr: bool,
}

impl Output {
    /// Chooses the status mode: bars only when stderr is a terminal and neither `--no-tty` nor
    /// `--debug` was given; nothing when the result is machine-readable.
    #[must_use]
    pub fn new(format: Format, no_tty: bool, debug: bool, verbose: bool) -> Self {
        let status = if format != Format::Text {
            StatusMode::Silent
        } else if !no_tty && !debug && std::io::stderr().is_terminal() {
            StatusMode::Tty
        } else {
            StatusMode::Plain
        };
        Self {
            status,
            format,
            verbose,
            template: None,
            lines_on_stderr: false,
        }
    }

    /// Sends status and result lines to stderr, keeping stdout for content.
    #[must_use]
    pub fn with_lines_on_stderr(mut self) -> Self {
        self.lines_on_stderr = true;
        self
    }

    #[must_use]
    pub fn with_template(mut self, template: Option<String>) -> Self {
        self.template = template;
        self
    }

    /// Prints a line of result data on stdout. A closed pipe is not an error.
    pub fn line(&self, text: &str) {
        if self.lines_on_stderr {
            self.warn(text);
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    /// Prints a status line (plain mode only; in TTY mode it goes above the bars).
    pub fn status_line(&self, text: &str) {
        match self.status {
            StatusMode::Plain => self.line(text),
            StatusMode::Tty => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
            StatusMode::Silent => {}
        }
    }

    /// Prints raw bytes on stdout.
    pub fn bytes(&self, bytes: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    /// A question on stdout, without a newline, flushed.
    pub fn prompt(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{text}");
        let _ = out.flush();
    }

    /// A note on stderr (warnings, deprecations).
    pub fn warn(&self, text: &str) {
        warn(text);
    }

    /// Prints a command's result as `--format json` (indented JSON) or `--format go-template`
    /// (the template applied to that JSON; no newline added) asks.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> anyhow::Result<()> {
        match (&self.format, &self.template) {
            (Format::Template, Some(t)) => {
                let data = serde_json::to_value(value)?;
                self.bytes(template::render(t, &data)?.as_bytes());
            }
            _ => self.bytes(&crate::oci::to_go_json_pretty(value)?),
        }
        Ok(())
    }
}

/// A note on stderr (warnings, deprecations), whatever the format and before any [`Output`]
/// exists: pflag's deprecation warnings come before the arguments are even counted.
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

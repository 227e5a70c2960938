//! Transfer status renderers: the Go client's status lines, or indicatif bars on a terminal.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Output, StatusMode};
use crate::oci::{Descriptor, Digest};
use crate::transfer::{Reporter, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Push,
    Pull,
    Copy,
}

impl Operation {
    /// The padded prompts of the Go client (`Uploaded ` + separator gives two spaces).
    fn prompt(self, state: State) -> &'static str {
        match (self, state) {
            (Self::Push, State::Started) => "Uploading",
            (Self::Push, State::Done) => "Uploaded ",
            (Self::Push, State::Exists) => "Exists   ",
            (Self::Push, State::Skipped) => "Skipped  ",
            (Self::Push, State::Processing) => "Processing",
            (Self::Push, State::Restored) => "Restored ",
            (Self::Push | Self::Copy, State::Mounted) => "Mounted",
            (Self::Pull, State::Mounted) => "Mounted    ",
            (Self::Copy, State::Started | State::Processing) => "Copying",
            (Self::Copy, State::Done | State::Restored) => "Copied ",
            (Self::Copy, State::Exists) => "Exists ",
            (Self::Copy, State::Skipped) => "Skipped",
            (Self::Pull, State::Started) => "Downloading",
            (Self::Pull, State::Done) => "Downloaded ",
            (Self::Pull, State::Processing) => "Processing ",
            (Self::Pull, State::Skipped) => "Skipped    ",
            (Self::Pull, State::Restored) => "Restored   ",
            (Self::Pull, State::Exists) => "Exists     ",
        }
    }
}

pub struct StatusReporter {
    output: Output,
    op: Operation,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    active: Mutex<HashMap<Digest, ProgressBar>>,
}

impl StatusReporter {
    #[must_use]
    pub fn new(output: &Output, op: Operation) -> Self {
        let bars = (output.status == StatusMode::Tty).then(|| Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(5)),
            active: Mutex::new(HashMap::new()),
        });
        Self {
            output: output.clone(),
            op,
            bars,
        }
    }

    fn plain(&self, desc: &Descriptor, state: State) {
        if desc.title().is_none() && !self.output.verbose {
            return;
        }
        self.output.line(&format!(
            "{} {} {}",
            self.op.prompt(state),
            desc.digest.short(),
            desc.display_name()
        ));
    }

    fn bar(&self, bars: &Bars, desc: &Descriptor, state: State) {
        let mut active = bars
            .active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let line = format!(
            "{} {}",
            self.op.prompt(state).trim_end(),
            desc.display_name()
        );
        match state {
            State::Started | State::Processing => {
                let bar = active.entry(desc.digest.clone()).or_insert_with(|| {
                    let bar = bars.multi.add(ProgressBar::new(desc.size));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{bar:20}] {binary_bytes_per_sec:>11} {msg} {bytes}/{total_bytes} {percent}% {elapsed}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_message(line);
            }
            State::Done | State::Exists | State::Skipped | State::Restored | State::Mounted => {
                let bar = active.remove(&desc.digest).unwrap_or_else(|| {
                    let bar = bars.multi.add(ProgressBar::new(desc.size));
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} [{bar:20}] {msg} {total_bytes}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_position(desc.size);
                bar.finish_with_message(format!("✓ {line}"));
            }
        }
    }
}

impl Reporter for StatusReporter {
    fn state(&self, desc: &Descriptor, state: State) {
        match &self.bars {
            Some(bars) => self.bar(bars, desc, state),
            None if self.output.status == StatusMode::Plain => self.plain(desc, state),
            None => {}
        }
    }

    fn progress(&self, desc: &Descriptor, bytes: u64) {
        if let Some(bars) = &self.bars
            && let Some(bar) = bars
                .active
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&desc.digest)
        {
            bar.set_position(bytes);
        }
    }
}

impl Drop for StatusReporter {
    fn drop(&mut self) {
        if let Some(bars) = &self.bars {
            for (_, bar) in bars
                .active
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .drain()
            {
                bar.abandon();
            }
            let _ = bars.multi.clear();
        }
    }
}

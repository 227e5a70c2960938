//! Transfer status renderers: the Go client's status lines, or indicatif bars on a terminal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Output, StatusMode};
use crate::oci::{Descriptor, Digest};
use crate::transfer::{Reporter, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Push,
    Pull,
    Copy,
    /// `oras backup`: a copy from a registry, told as pulling.
    Backup,
    /// `oras restore`: a copy to a registry, told as pushing.
    Restore,
}

impl Operation {
    /// The padded prompts of the Go client (`Uploaded ` + separator gives two spaces).
    fn prompt(self, state: State) -> &'static str {
        match (self, state) {
            (Self::Push, State::Started) => "Uploading",
            (Self::Push, State::Done) => "Uploaded ",
            (Self::Push | Self::Backup | Self::Restore, State::Exists) => "Exists   ",
            (Self::Push | Self::Backup | Self::Restore, State::Skipped) => "Skipped  ",
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
            (Self::Backup, State::Started | State::Processing) => "Pulling  ",
            (Self::Backup, State::Done | State::Restored) => "Pulled   ",
            (Self::Restore, State::Started | State::Processing) => "Pushing  ",
            (Self::Restore, State::Done | State::Restored) => "Pushed   ",
            (Self::Backup | Self::Restore, State::Mounted) => "Mounted  ",
        }
    }
}

/// In CI logs (no terminal), a long transfer reports its progress this often.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub struct StatusReporter {
    output: Output,
    op: Operation,
    bars: Option<Bars>,
    /// Plain mode: when each running transfer started and last printed a progress line.
    ticks: Mutex<HashMap<Digest, (Instant, Instant)>>,
}

struct Bars {
    multi: MultiProgress,
    active: Mutex<HashMap<Digest, ProgressBar>>,
    /// The overall line: blobs done and running, bytes moved, elapsed time.
    overall: ProgressBar,
    totals: Mutex<Totals>,
}

/// What the overall line counts.
#[derive(Default)]
struct Totals {
    done: u64,
    done_bytes: u64,
    /// Bytes moved so far by each running transfer.
    running: HashMap<Digest, u64>,
}

impl Bars {
    fn refresh(&self, totals: &Totals) {
        let bytes = totals.done_bytes + totals.running.values().sum::<u64>();
        self.overall.set_message(format!(
            "{} done, {} running, {}",
            totals.done,
            totals.running.len(),
            humanize(bytes)
        ));
    }
}

impl StatusReporter {
    #[must_use]
    pub fn new(output: &Output, op: Operation) -> Self {
        let bars = (output.status == StatusMode::Tty).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(5));
            let overall = multi.add(ProgressBar::no_length());
            overall.set_style(
                ProgressStyle::with_template("{spinner} Total: {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            overall.enable_steady_tick(Duration::from_millis(200));
            Bars {
                multi,
                active: Mutex::new(HashMap::new()),
                overall,
                totals: Mutex::new(Totals::default()),
            }
        });
        Self {
            output: output.clone(),
            op,
            bars,
            ticks: Mutex::new(HashMap::new()),
        }
    }

    fn plain(&self, desc: &Descriptor, state: State) {
        {
            let mut ticks = self
                .ticks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state == State::Started {
                let now = Instant::now();
                ticks.insert(desc.digest.clone(), (now, now));
            } else {
                ticks.remove(&desc.digest);
            }
        }
        if desc.title().is_none() && !self.output.verbose {
            return;
        }
        self.output.line(&format!(
            "{} {} {}",
            self.op.prompt(state),
            desc.digest.short(),
            shown_name(desc)
        ));
    }

    fn bar(&self, bars: &Bars, desc: &Descriptor, state: State) {
        {
            let mut totals = bars
                .totals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match state {
                State::Started => {
                    totals.running.entry(desc.digest.clone()).or_insert(0);
                }
                State::Processing => {}
                State::Done | State::Exists | State::Skipped | State::Restored | State::Mounted => {
                    totals.running.remove(&desc.digest);
                    totals.done += 1;
                    if state == State::Done {
                        totals.done_bytes += desc.size;
                    }
                }
            }
            bars.refresh(&totals);
        }
        let mut active = bars
            .active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let line = format!("{} {}", self.op.prompt(state).trim_end(), shown_name(desc));
        match state {
            State::Started | State::Processing => {
                let bar = active.entry(desc.digest.clone()).or_insert_with(|| {
                    let bar = bars.multi.add(ProgressBar::new(desc.size));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{bar:20}] {binary_bytes_per_sec:>11} {msg} {bytes}/{total_bytes} {percent}% {elapsed} (ETA {eta})",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    // The spinner keeps turning while no bytes arrive, so a stall is visible
                    // as a frozen count rather than a frozen screen.
                    bar.enable_steady_tick(Duration::from_millis(200));
                    bar
                });
                if state == State::Processing {
                    // A manifest being walked is already fully downloaded.
                    bar.set_position(desc.size);
                }
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
        if self.output.status == StatusMode::Plain {
            self.plain_progress(desc, bytes);
        }
        if let Some(bars) = &self.bars {
            if let Some(bar) = bars
                .active
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&desc.digest)
            {
                bar.set_position(bytes);
            }
            let mut totals = bars
                .totals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(moved) = totals.running.get_mut(&desc.digest) {
                *moved = bytes;
                bars.refresh(&totals);
            }
        }
    }
}

impl StatusReporter {
    /// A line every few seconds for a long transfer, so a CI log shows it is moving (the Go
    /// client prints nothing until a blob ends). On stderr: stdout keeps exactly the Go client's
    /// status lines, which scripts parse.
    fn plain_progress(&self, desc: &Descriptor, bytes: u64) {
        let now = Instant::now();
        let started = {
            let mut ticks = self
                .ticks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some((started, last)) = ticks.get_mut(&desc.digest) else {
                return;
            };
            if now.duration_since(*last) < PLAIN_PROGRESS_EVERY {
                return;
            }
            *last = now;
            *started
        };
        let secs = now.duration_since(started).as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)]
        let rate = bytes as f64 / secs;
        #[allow(clippy::cast_precision_loss)]
        let percent = if desc.size == 0 {
            100.0
        } else {
            bytes as f64 * 100.0 / desc.size as f64
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rate = rate as u64;
        self.output.warn(&format!(
            "Progress {} {}: {} / {} ({percent:.0}%), {}/s",
            desc.digest.short(),
            shown_name(desc),
            humanize(bytes),
            humanize(desc.size),
            humanize(rate)
        ));
    }
}

/// A descriptor's title (or media type) as a status line shows it: control characters
/// escaped, as whoever wrote the manifest chose the title.
fn shown_name(desc: &Descriptor) -> String {
    super::escape_line(desc.display_name())
}

/// Byte sizes as the Go client prints them: `512  B`, `1.5 KB`, `12.3 MB`, `123 GB`.
#[must_use]
pub fn humanize(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    // Go's `%v %2s`: the unit is right-aligned in two columns, so bytes read `512  B`.
    if bytes < 1024 {
        return format!("{bytes}  B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    // `%g` drops trailing zeros.
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{text} {}", UNITS[unit])
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
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::humanize;

    #[test]
    fn humanizes_like_go() {
        for (n, want) in [
            (0, "0  B"),
            (1023, "1023  B"),
            (1024, "1 KB"),
            (1536, "1.5 KB"),
            (10 * 1024 * 1024 + 300 * 1024, "10.3 MB"),
            (1 << 30, "1 GB"),
            (150 << 30, "150 GB"),
        ] {
            assert_eq!(humanize(n), want, "{n}");
        }
    }
}

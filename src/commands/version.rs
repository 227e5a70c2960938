//! `oras version`: aligned `key: value` lines as the Go client prints them.

use crate::cli::VersionArgs;
use crate::output::{Format, Output};

pub fn run(args: &VersionArgs) {
    let out = Output::new(Format::Text, true, false, true);
    if !args.extra.is_empty() {
        out.warn(&format!(
            "warning: `oras version` requires no argument, {:?} will be ignored",
            args.extra.join(",")
        ));
    }
    let os_arch = format!(
        "{}/{}",
        std::env::consts::OS,
        go_arch(std::env::consts::ARCH)
    );
    let lines = [
        ("Version", VERSION.to_owned()),
        ("Implementation", "oras-rs (Rust)".to_owned()),
        ("OS/Arch", os_arch),
    ];
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in lines {
        out.line(&format!("{k}: {}{v}", " ".repeat(width - k.len())));
    }
}

/// `1.3.3+oras-rs.0.1.0`: the Go client's release whose commands, flags and output this
/// build reproduces, so that scripts which read `oras version` to decide which flags they may
/// use (`--artifact-platform` needs 1.3) see that release; the build metadata says which
/// oras-rs it is.
pub const VERSION: &str = concat!("1.3.3", "+oras-rs.", env!("CARGO_PKG_VERSION"));

/// Architecture names as Go spells them (`amd64`, `arm64`).
fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

//! `oras manpage`: the roff manual page of oras or of one of its commands, or all of them
//! written into a directory (`oras.1`, `oras-push.1`, `oras-manifest-fetch.1`, ...), the pages
//! the top page's SUBCOMMANDS section names.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use crate::cli::{Cli, ManpageArgs};
use crate::output::{Format, Output};

pub fn run(args: &ManpageArgs) -> Result<()> {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    // Gives every subcommand its page name (`oras-manifest-fetch`).
    cmd.build();
    let out = Output::new(Format::Text, true, false, true);
    if let Some(dir) = &args.output_dir {
        for path in write_all(&cmd, dir)? {
            out.line(&path.display().to_string());
        }
        return Ok(());
    }
    let mut page = &cmd;
    for word in &args.command {
        let Some(sub) = page.find_subcommand(word) else {
            bail!(
                "unknown command {word:?} for {:?}\nRun 'oras --help' for the commands.",
                page.get_display_name().unwrap_or("oras").replace('-', " ")
            );
        };
        page = sub;
    }
    // Rendered into memory first: a closed pipe (`| head`) is not an error.
    out.bytes(&render(page)?);
    Ok(())
}

fn render(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    Ok(page)
}

/// Writes the page of `cmd` and of each of its visible subcommands, at any depth, into `dir`
/// (created if missing), each atomically; returns the paths written.
fn write_all(cmd: &clap::Command, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let mut written = Vec::new();
    let mut pending = vec![cmd];
    while let Some(cmd) = pending.pop() {
        pending.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()));
        let name = clap_mangen::Man::new(cmd.clone()).get_filename();
        let path = dir.join(name);
        let fail = || format!("failed to write {}", path.display());
        let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(fail)?;
        tmp.write_all(&render(cmd)?).with_context(fail)?;
        {
            use std::os::unix::fs::PermissionsExt as _;
            // Pages are for everyone to read, unlike the temporary file's 0600.
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .with_context(fail)?;
        }
        tmp.persist(&path).map_err(|e| e.error).with_context(fail)?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

//! The README's two commands: the first (`./scripts/demo`) pushes and pulls through an OCI
//! image layout with no registry; the second is the test command `.ci/run` runs.

use std::path::Path;
use std::process::Command;

use crate::harness::run_command;

fn readme_commands() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README has a ```sh block at the top");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_names_the_demo_and_the_test_command_that_ci_runs() {
    assert_eq!(readme_commands(), ["./scripts/demo", "./scripts/test"]);
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.contains("./scripts/test"),
        ".ci/run must run the README's test command:\n{ci}"
    );
}

#[test]
fn readme_first_command_round_trips_through_a_layout_without_a_registry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(root.join("scripts/demo"));
    // The demo builds the release binary itself; here it reuses the binary under test.
    command
        .env("ORAS", env!("CARGO_BIN_EXE_oras"))
        .env("DOCKER_CONFIG", "/nonexistent");
    let out = run_command(command, None);
    assert_eq!(out.code, 0, "scripts/demo failed\n{out}");
    assert!(
        out.stdout.contains("Pushed [oci-layout] ./layout:demo"),
        "{out}"
    );
    assert!(
        out.stdout.contains("Pulled [oci-layout] ./layout:demo"),
        "{out}"
    );
    assert!(out.stdout.contains("round-tripped every byte"), "{out}");
}

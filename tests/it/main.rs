//! Integration tests: the real `oras` binary against throw-away `docker-registry` processes,
//! OCI image layouts on disk, and skopeo as an independent second client.

// Test code favours plain, linear assertions over the library's pedantic style: long test
// functions, literal-heavy expectations and `format!` on paths are the point here.
#![allow(
    clippy::too_many_lines,
    clippy::missing_panics_doc,
    clippy::must_use_candidate,
    clippy::doc_markdown,
    clippy::return_self_not_must_use,
    unreachable_pub
)]

mod auth_commands;
mod auth_loop;
mod bad_input;
mod cmd_backup;
mod cmd_blob;
mod cmd_cache;
mod cmd_cp;
mod cmd_cp_flags;
mod cmd_index;
mod cmd_io;
mod cmd_manifest;
mod cmd_referrers;
mod cmd_repo;
mod cmd_tag_resolve;
mod completion;
mod credential_helpers;
mod downgrade;
mod e2e_push_pull;
mod e2e_referrers_cp;
mod faults;
mod harness;
mod harness_selftest;
mod headers;
mod help;
mod hostile_archives;
mod hostile_registry;
mod interop;
mod large;
mod layout;
mod login;
mod manifest_bytes;
mod output;
mod pflag;
mod pki;
mod proxy;
mod readme;
mod redirects;
mod referrers_api;
mod reliability;
mod safety;
mod servers;
mod snapshots_help;
mod tls;
mod token_auth;
mod transfer_faults;
mod tty;
mod walkthrough;

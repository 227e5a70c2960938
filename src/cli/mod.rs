//! The clap front end: the root parser, one struct per command, and the shared flag groups
//! (remote, target, format, common) flattened where the Go client has them.
// Command-line flags are naturally many booleans.
#![allow(clippy::struct_excessive_bools)]
// Doc comments here are clap's help text: `<name>`, `[Preview]` and the like are for users,
// not HTML tags or intra-doc links.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub mod help;

const EXAMPLES_PUSH: &str = "\
Example - Push file \"hi.txt\" with media type \"application/vnd.oci.image.layer.v1.tar\" (default):
  oras push localhost:5000/hello:v1 hi.txt

Example - Push file \"hi.txt\" with a custom layer media type:
  oras push localhost:5000/hello:v1 hi.txt:application/vnd.me.hi

Example - Push files with a config file and its media type:
  oras push --config config.json:application/vnd.me.config localhost:5000/hello:v1 hi.txt

Example - Push with several tags:
  oras push localhost:5000/hello:tag1,tag2,tag3 hi.txt

Example - Push into an OCI image layout directory (no registry needed):
  oras push --oci-layout layout-dir:v1 hi.txt

Example - Push in 16 MiB chunks to a registry that caps request sizes:
  oras push --chunk-size 16MiB localhost:5000/hello:v1 big.bin

Example - The oras 0.x syntax still works (with a deprecation note):
  oras push localhost:5000/hello:v1 --manifest-config config.json:a/b hi.txt:text/plain";

const EXAMPLES_PULL: &str = "\
Example - Pull the files of an artifact into the current directory:
  oras pull localhost:5000/hello:v1

Example - Pull into a given directory:
  oras pull localhost:5000/hello:v1 -o out

Example - Pull from an OCI image layout directory:
  oras pull --oci-layout layout-dir:v1

Example - Pull only layers of one media type (oras 0.x syntax):
  oras pull localhost:5000/hello:v1 --media-type application/vnd.me.hi";

const EXAMPLES_LOGIN: &str = "\
Example - Log in with username and password from the command line:
  oras login -u username -p password localhost:5000

Example - Log in with the password read from stdin:
  echo \"$PASSWORD\" | oras login -u username --password-stdin localhost:5000

Example - Log in with an identity token:
  oras login --identity-token token localhost:5000";

const EXAMPLES_ATTACH: &str = "\
Example - Attach file \"hi.txt\" with artifact type \"doc/example\" to manifest \"hello:v1\":
  oras attach --artifact-type doc/example localhost:5000/hello:v1 hi.txt

Example - Attach an SBOM with a custom layer media type:
  oras attach --artifact-type sbom/example localhost:5000/hello:v1 sbom.json:application/spdx+json

Example - Attach only annotations:
  oras attach --artifact-type doc/example --annotation \"key=value\" localhost:5000/hello:v1

Example - Attach to the linux/amd64 manifest of a multi-arch image:
  oras attach --artifact-type doc/example --platform linux/amd64 localhost:5000/hello:v1 hi.txt

Example - Attach to a manifest in an OCI image layout:
  oras attach --oci-layout --artifact-type doc/example layout-dir:v1 hi.txt";

const EXAMPLES_DISCOVER: &str = "\
Example - Show the referrers of a manifest as a tree:
  oras discover localhost:5000/hello:v1

Example - Only referrers of one artifact type, as JSON:
  oras discover --artifact-type sbom/example --format json localhost:5000/hello:v1

Example - Only direct referrers:
  oras discover --depth 1 localhost:5000/hello:v1

Example - A registry without the referrers API (uses the sha256-<hex> tag schema):
  oras discover --distribution-spec v1.1-referrers-tag localhost:5000/hello:v1

Example - Referrers in an OCI image layout:
  oras discover --oci-layout layout-dir:v1";

#[derive(Debug, Parser)]
#[command(
    name = "oras",
    version = crate::commands::version::VERSION,
    about = "Store and fetch artifacts (any files) in OCI registries and OCI image layouts",
    propagate_version = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Push files to a registry or an OCI image layout
    #[command(after_help = EXAMPLES_PUSH)]
    #[command(
        override_usage = "oras push [flags] <name>[:<tag>[,<tag>][...]] <file>[:<type>] [...]"
    )]
    Push(PushArgs),
    /// Pull files from a registry or an OCI image layout
    #[command(after_help = EXAMPLES_PULL)]
    #[command(override_usage = "oras pull [flags] <name>{:<tag>|@<digest>}")]
    Pull(PullArgs),
    /// Log in to a remote registry
    #[command(after_help = EXAMPLES_LOGIN)]
    #[command(override_usage = "oras login [flags] <registry>")]
    Login(LoginArgs),
    /// Log out from a remote registry
    #[command(after_help = "Example - Log out:\n  oras logout localhost:5000")]
    #[command(override_usage = "oras logout [flags] <registry>")]
    Logout(LogoutArgs),
    /// Show the oras version information
    #[command(after_help = "Example - Print the version:\n  oras version")]
    #[command(override_usage = "oras version [flags]")]
    Version(VersionArgs),
    /// Attach files to an existing artifact
    #[command(after_help = EXAMPLES_ATTACH)]
    #[command(
        override_usage = "oras attach [flags] --artifact-type=<type> <name>{:<tag>|@<digest>} {<file>[:<layer_media_type>]|--annotation <key>=<value>} [...]"
    )]
    Attach(AttachArgs),
    /// [Preview] Discover referrers of a manifest in a registry or an OCI image layout
    #[command(long_about = concat!(
        "[Preview] Discover referrers of a manifest in a registry or an OCI image layout\n\n",
        "** This command is in preview and under development. **"
    ))]
    #[command(after_help = EXAMPLES_DISCOVER)]
    #[command(override_usage = "oras discover [flags] <name>{:<tag>|@<digest>}")]
    Discover(DiscoverArgs),
    /// [Experimental] Back up artifacts from a registry into an OCI image layout
    #[command(
        after_help = "Example - Back up every tag of a repository into a directory:\n  oras backup localhost:5000/hello -o hello-backup\n\nExample - Back up two tags with their referrers into a tar archive:\n  oras backup --include-referrers localhost:5000/hello:v1,v2 -o hello.tar"
    )]
    #[command(
        override_usage = "oras backup [flags] --output <path> <registry>/<repository>[:<ref1>[,<ref2>...]]"
    )]
    Backup(BackupArgs),
    /// [Experimental] Restore artifacts to a registry from an OCI image layout
    #[command(
        after_help = "Example - Restore every tag of a backup:\n  oras restore --input hello.tar localhost:5000/hello\n\nExample - See what would be pushed:\n  oras restore --dry-run --input hello-backup localhost:5000/hello:v1"
    )]
    #[command(
        override_usage = "oras restore [flags] --input <path> <registry>/<repository>[:<ref1>[,<ref2>...]]"
    )]
    Restore(RestoreArgs),
    /// Tag a manifest in a registry or an OCI image layout
    #[command(
        after_help = "Example - Tag the manifest 'v1.0.1' as 'v1.0.2':\n  oras tag localhost:5000/hello:v1.0.1 v1.0.2\n\nExample - Add several tags:\n  oras tag localhost:5000/hello:v1.0.1 v1.0.2 latest"
    )]
    #[command(override_usage = "oras tag [flags] <name>{:<tag>|@<digest>} <new_tag> [...]")]
    Tag(TagArgs),
    /// [Preview] Resolves digest of the target artifact
    #[command(
        visible_alias = "digest",
        long_about = concat!(
            "[Preview] Resolves digest of the target artifact\n\n",
            "** This command is in preview and under development. **"
        ),
        after_help = "Example - Resolve the digest of a tag:\n  oras resolve localhost:5000/hello:v1"
    )]
    #[command(override_usage = "oras resolve [flags] <name>{:<tag>|@<digest>}")]
    Resolve(ResolveArgs),
    /// Manifest operations
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Blob operations
    #[command(subcommand)]
    Blob(BlobCommand),
    /// Repository operations
    #[command(subcommand, visible_alias = "repository")]
    Repo(RepoCommand),
    /// Generate the autocompletion script for the specified shell
    #[command(
        override_usage = "oras completion [flags] <bash|zsh|fish|powershell>",
        after_help = "Example - Load completions in the current bash session:\n  source <(oras completion bash)\n\nExample - Install for zsh:\n  oras completion zsh > \"${fpath[1]}/_oras\""
    )]
    Completion(CompletionArgs),
    /// Print the manual page (roff) of oras or of one of its commands
    #[command(
        name = "manpage",
        override_usage = "oras manpage [flags] [<command>...]",
        after_help = "Example - Read it:\n  oras manpage | man -l -\n\nExample - Read the page of a command:\n  oras manpage manifest fetch | man -l -\n\nExample - Install the pages of oras and every command (oras.1, oras-push.1, ...):\n  oras manpage --output-dir /usr/local/share/man/man1"
    )]
    Manpage(ManpageArgs),
    /// Copy artifacts from one target to another
    #[command(
        visible_alias = "copy",
        after_help = "Example - Copy an artifact between registries:\n  oras cp localhost:5000/net-monitor:v1 localhost:6000/net-monitor-copy:v1\n\nExample - Copy an artifact from a registry into an OCI image layout:\n  oras cp --to-oci-layout localhost:5000/net-monitor:v1 layout-dir:v1"
    )]
    #[command(
        override_usage = "oras cp [flags] <from>{:<tag>|@<digest>} <to>[:<tag>[,<tag>][...]]"
    )]
    Cp(CopyArgs),
}

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Fetch manifest of the target artifact
    #[command(visible_aliases = ["get", "show"], after_help = "Example - Fetch a manifest:\n  oras manifest fetch localhost:5000/hello:v1\n\nExample - Fetch its descriptor:\n  oras manifest fetch --descriptor localhost:5000/hello:v1")]
    #[command(override_usage = "oras manifest fetch [flags] <name>{:<tag>|@<digest>}")]
    Fetch(ManifestFetchArgs),
    /// Fetch the config of a manifest from a registry or an OCI image layout
    #[command(
        name = "fetch-config",
        visible_alias = "get-config",
        after_help = "Example - Fetch the config:\n  oras manifest fetch-config localhost:5000/hello:v1"
    )]
    #[command(override_usage = "oras manifest fetch-config [flags] <name>{:<tag>|@<digest>}")]
    FetchConfig(ManifestFetchConfigArgs),
    /// Push a manifest to a registry or an OCI image layout
    #[command(
        after_help = "Example - Push a manifest file:\n  oras manifest push localhost:5000/hello:v1 manifest.json\n\nExample - Push a manifest from stdin:\n  oras manifest push localhost:5000/hello:v1 - < manifest.json"
    )]
    #[command(
        override_usage = "oras manifest push [flags] <name>[:<tag>[,<tag>][...]|@<digest>] <file>"
    )]
    Push(ManifestPushArgs),
    /// Delete a manifest from remote registry
    #[command(visible_aliases = ["remove", "rm"], after_help = "Example - Delete a manifest without a prompt:\n  oras manifest delete -f localhost:5000/hello:v1")]
    #[command(override_usage = "oras manifest delete [flags] <name>{:<tag>|@<digest>}")]
    Delete(ManifestDeleteArgs),
    /// [Experimental] Index operations
    #[command(subcommand)]
    Index(IndexCommand),
}

const EXAMPLES_INDEX_CREATE: &str = "\
Example - Create an index from the manifests tagged 'linux-amd64' and 'linux-arm64', untagged:
  oras manifest index create localhost:5000/hello linux-amd64 linux-arm64

Example - Create an index and tag it 'v1':
  oras manifest index create localhost:5000/hello:v1 linux-amd64 linux-arm64

Example - Create an index from a tag and a digest:
  oras manifest index create localhost:5000/hello:v1 linux-amd64 sha256:...

Example - Create an index with several tags:
  oras manifest index create localhost:5000/hello:tag1,tag2,tag3 linux-amd64 linux-arm64

Example - Create an index with an annotation and an artifact type:
  oras manifest index create -a \"key=val\" --artifact-type a/b localhost:5000/hello:v1 linux-amd64

Example - Create an index in an OCI image layout directory 'layout-dir', tagged 'v1':
  oras manifest index create --oci-layout layout-dir:v1 linux-amd64 linux-arm64

Example - Write the index to index.json instead of pushing it:
  oras manifest index create --output index.json localhost:5000/hello linux-amd64 linux-arm64

Example - Print the index on stdout instead of pushing it:
  oras manifest index create localhost:5000/hello linux-arm64 --output - --pretty";

const EXAMPLES_INDEX_UPDATE: &str = "\
Example - Add two manifests to the index tagged 'v1' and remove one; 'v1' then names the result:
  oras manifest index update localhost:5000/hello:v1 --add amd64 --add arm64 --remove sha256:...

Example - Update the index with this digest and push the result untagged:
  oras manifest index update localhost:5000/hello@sha256:... --add linux-amd64

Example - Merge the manifests of the index 'v2-windows' into the index 'v2':
  oras manifest index update localhost:5000/hello:v2 --merge v2-windows

Example - Update an index and tag the result 'v2.1.0' and 'v2':
  oras manifest index update localhost:5000/hello@sha256:... --add s390x --tag v2.1.0 --tag v2

Example - Set the artifact type of the index tagged 'v2' (\"\" removes it):
  oras manifest index update localhost:5000/hello:v2 --artifact-type application/vnd.me.index

Example - Write the updated index to index.json instead of pushing it:
  oras manifest index update --output index.json localhost:5000/hello:v2 --add v2-linux-amd64

Example - Print the updated index on stdout instead of pushing it:
  oras manifest index update --output - --pretty localhost:5000/hello:v2 --remove sha256:...";

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// [Experimental] Create and push an index from provided manifests
    #[command(visible_alias = "pack", after_help = EXAMPLES_INDEX_CREATE)]
    #[command(
        override_usage = "oras manifest index create [flags] <name>[:<tag>[,<tag>][...]] [{<tag>|<digest>}...]"
    )]
    Create(IndexCreateArgs),
    /// [Experimental] Update and push an image index
    #[command(after_help = EXAMPLES_INDEX_UPDATE)]
    #[command(
        override_usage = "oras manifest index update [flags] <name>{:<tag>|@<digest>} [{--add|--merge|--remove} {<tag>|<digest>}] [...]"
    )]
    Update(IndexUpdateArgs),
}

#[derive(Debug, Subcommand)]
pub enum BlobCommand {
    /// Fetch a blob from a registry or an OCI image layout
    #[command(
        visible_alias = "get",
        after_help = "Example - Fetch a blob to a file:\n  oras blob fetch localhost:5000/hello@sha256:... -o blob.bin\n\nExample - Fetch a blob to stdout:\n  oras blob fetch localhost:5000/hello@sha256:... -o -"
    )]
    #[command(
        override_usage = "oras blob fetch [flags] {--output <file> | --descriptor} <name>@<digest>"
    )]
    Fetch(BlobFetchArgs),
    /// Push a blob to a registry or an OCI image layout
    #[command(
        after_help = "Example - Push a blob:\n  oras blob push localhost:5000/hello blob.tar"
    )]
    #[command(override_usage = "oras blob push [flags] <name>[@digest] <file>")]
    Push(BlobPushArgs),
    /// Delete a blob from a remote registry
    #[command(visible_aliases = ["remove", "rm"], after_help = "Example - Delete a blob without a prompt:\n  oras blob delete -f localhost:5000/hello@sha256:...")]
    #[command(override_usage = "oras blob delete [flags] <name>@<digest>")]
    Delete(DeleteArgs),
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// List the repositories under the registry
    #[command(
        name = "ls",
        visible_alias = "list",
        after_help = "Example - List repositories:\n  oras repo ls localhost:5000\n\nExample - As JSON:\n  oras repo ls localhost:5000 --format json"
    )]
    #[command(override_usage = "oras repo ls [flags] <registry>[/<namespace>]")]
    Ls(RepoLsArgs),
    /// Show tags of the target repository
    #[command(
        visible_alias = "show-tags",
        after_help = "Example - Show tags:\n  oras repo tags localhost:5000/hello\n\nExample - As JSON:\n  oras repo tags localhost:5000/hello --format json\n\nExample - Through a template:\n  oras repo tags localhost:5000/hello --format go-template='{{range .tags}}{{println .}}{{end}}'"
    )]
    #[command(override_usage = "oras repo tags [flags] <name>")]
    Tags(RepoTagsArgs),
}

/// Flags of commands that print a descriptor instead of content.
#[derive(Debug, Clone, Args)]
pub struct DescriptorArgs {
    /// Output the descriptor
    #[arg(long)]
    pub descriptor: bool,
    /// Prettify JSON objects printed to stdout
    #[arg(long)]
    pub pretty: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    /// The artifact reference, then the new tags
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Number of tags pushed concurrently
    #[arg(long, default_value_t = 5, value_parser = parse_concurrency)]
    pub concurrency: usize,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ResolveArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Print the full reference
    #[arg(short = 'l', long)]
    pub full_reference: bool,
    /// Request platform in the form of `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ManifestFetchArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Output file `path`, use - for stdout
    #[arg(short = 'o', long, value_name = "path")]
    pub output: Option<String>,
    /// Accepted media types (manifest fetch)
    #[arg(long, value_delimiter = ',')]
    pub media_type: Vec<String>,
    /// Request platform in the form of `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub descriptor: DescriptorArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `manifest fetch-config`: as `manifest fetch` without `--media-type` and `--format`, which
/// the Go client does not give it.
#[derive(Debug, Clone, Args)]
pub struct ManifestFetchConfigArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Output file `path`, use - for stdout
    #[arg(short = 'o', long, value_name = "path")]
    pub output: Option<String>,
    /// Request platform in the form of `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub descriptor: DescriptorArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ManifestPushArgs {
    /// <name>[:<tag>[,<tag>][...]|@<digest>] <file>
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Media type of the manifest (default: its mediaType field)
    #[arg(long, default_value = "")]
    pub media_type: String,
    /// Number of tags pushed concurrently
    #[arg(long, default_value_t = 5, value_parser = parse_concurrency)]
    pub concurrency: usize,
    #[command(flatten)]
    pub descriptor: DescriptorArgs,
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `manifest delete`: a delete that may also update its subject's referrers index.
#[derive(Debug, Clone, Args)]
pub struct ManifestDeleteArgs {
    #[command(flatten)]
    pub delete: DeleteArgs,
    #[command(flatten)]
    pub referrers: ReferrersArgs,
}

#[derive(Debug, Clone, Args)]
pub struct IndexCreateArgs {
    /// <name>[:<tag>[,<tag>][...]] [{<tag>|<digest>}...]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Artifact type of the index
    #[arg(long, overrides_with = "artifact_type")]
    pub artifact_type: Option<String>,
    /// Index annotations: key=value
    #[arg(short = 'a', long)]
    pub annotation: Vec<String>,
    /// File `path` to write the created index to instead of pushing it, use - for stdout
    #[arg(short = 'o', long, value_name = "path")]
    pub output: Option<String>,
    /// Prettify JSON objects printed to stdout
    #[arg(long)]
    pub pretty: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct IndexUpdateArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Manifests to add to the index (tag or digest)
    #[arg(long)]
    pub add: Vec<String>,
    /// Indexes whose manifests are merged into the index (tag or digest)
    #[arg(long)]
    pub merge: Vec<String>,
    /// Manifests to remove from the index, must be digests
    #[arg(long)]
    pub remove: Vec<String>,
    /// Artifact type of the updated index ("" removes it)
    #[arg(long, overrides_with = "artifact_type")]
    pub artifact_type: Option<String>,
    /// Extra tags for the updated index
    #[arg(long)]
    pub tag: Vec<String>,
    /// File `path` to write the updated index to instead of pushing it, use - for stdout
    #[arg(short = 'o', long, value_name = "path")]
    pub output: Option<String>,
    /// Prettify JSON objects printed to stdout
    #[arg(long)]
    pub pretty: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Ignore nonexistent references, never prompt
    #[arg(short = 'f', long)]
    pub force: bool,
    #[command(flatten)]
    pub descriptor: DescriptorArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BlobFetchArgs {
    /// <name>@<digest>
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Output file `path`, use - for stdout
    #[arg(short = 'o', long, value_name = "path")]
    pub output: Option<String>,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub descriptor: DescriptorArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BlobPushArgs {
    /// <name>[@digest] <file>
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Provide the blob size (needed when reading from stdin)
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub size: i64,
    /// Media type of the blob
    #[arg(long, default_value = "application/vnd.oci.image.layer.v1.tar")]
    pub media_type: String,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub descriptor: DescriptorArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RepoLsArgs {
    /// <registry>[/<namespace>]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Start after the repository specified by `last`
    #[arg(long, default_value = "")]
    pub last: String,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RepoTagsArgs {
    /// <name>
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Start after the tag specified by `last`
    #[arg(long, default_value = "")]
    pub last: String,
    /// [Preview] Exclude all digest-like tags such as 'sha256-aaaa...'
    #[arg(long)]
    pub exclude_digest_tags: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// <from>{:<tag>|@<digest>} <to>[:<tag>[,<tag>][...]]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Number of blobs copied concurrently
    #[arg(long, default_value_t = 3, value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Request platform in the form of `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    /// Set source as an OCI image layout
    #[arg(long)]
    pub from_oci_layout: bool,
    /// Set destination as an OCI image layout
    #[arg(long)]
    pub to_oci_layout: bool,
    /// [Experimental] Set source as the OCI image layout at this path; the source argument is
    /// then the reference stored in it
    #[arg(long, value_name = "path")]
    pub from_oci_layout_path: Option<PathBuf>,
    /// [Experimental] Set destination as the OCI image layout at this path; the destination
    /// argument is then the reference stored in it
    #[arg(long, value_name = "path")]
    pub to_oci_layout_path: Option<PathBuf>,
    /// Use plain HTTP for the source registry
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub from_plain_http: Option<bool>,
    /// Use plain HTTP for the destination registry
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub to_plain_http: Option<bool>,
    /// Source registry username
    #[arg(long, default_value = "")]
    pub from_username: String,
    /// Source registry password or identity token
    #[arg(long, default_value = "")]
    pub from_password: String,
    /// Destination registry username
    #[arg(long, default_value = "")]
    pub to_username: String,
    /// Destination registry password or identity token
    #[arg(long, default_value = "")]
    pub to_password: String,
    /// `path` of the authentication file for the source registry
    #[arg(long, value_name = "path")]
    pub from_registry_config: Vec<PathBuf>,
    /// `path` of the authentication file for the destination registry
    #[arg(long, value_name = "path")]
    pub to_registry_config: Vec<PathBuf>,
    /// Skip TLS verification for the source registry
    #[arg(long)]
    pub from_insecure: bool,
    /// Skip TLS verification for the destination registry
    #[arg(long)]
    pub to_insecure: bool,
    /// CA file for the source registry
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub from_ca_file: Option<PathBuf>,
    /// CA file for the destination registry
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub to_ca_file: Option<PathBuf>,
    /// [Preview] Recursively copy the artifact and its referrers
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Source registry identity token
    #[arg(long, default_value = "")]
    pub from_identity_token: String,
    /// Destination registry identity token
    #[arg(long, default_value = "")]
    pub to_identity_token: String,
    /// Custom header for requests to the source registry ('Name: value')
    #[arg(long)]
    pub from_header: Vec<String>,
    /// Custom header for requests to the destination registry ('Name: value')
    #[arg(long)]
    pub to_header: Vec<String>,
    /// Client certificate for the source registry
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub from_cert_file: Option<PathBuf>,
    /// Client certificate key for the source registry
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub from_key_file: Option<PathBuf>,
    /// Client certificate for the destination registry
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub to_cert_file: Option<PathBuf>,
    /// Client certificate key for the destination registry
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub to_key_file: Option<PathBuf>,
    /// Custom DNS for both registries: `host:port:address[:address_port]`
    #[arg(long)]
    pub resolve: Vec<String>,
    /// Custom DNS for the source registry: `host:port:address[:address_port]`
    #[arg(long)]
    pub from_resolve: Vec<String>,
    /// Custom DNS for the destination registry: `host:port:address[:address_port]`
    #[arg(long)]
    pub to_resolve: Vec<String>,
    /// [Preview] How the source registry keeps referrers: v1.1-referrers-tag, v1.1-referrers-api
    #[arg(long, value_name = "string")]
    pub from_distribution_spec: Option<String>,
    /// [Preview] How the destination registry keeps referrers: v1.1-referrers-tag,
    /// v1.1-referrers-api
    #[arg(long, value_name = "string")]
    pub to_distribution_spec: Option<String>,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags every command has.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Output debug logs (implies --no-tty)
    #[arg(short = 'd', long)]
    pub debug: bool,
    /// [Deprecated] print status output for unnamed blobs (on by default)
    #[arg(short = 'v', long, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub verbose: Option<bool>,
}

/// How to reach and authenticate to a registry.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// Registry username
    #[arg(short = 'u', long, default_value = "")]
    pub username: String,
    /// Registry password or identity token
    #[arg(short = 'p', long, default_value = "")]
    pub password: String,
    /// Read password or identity token from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Registry identity token
    #[arg(long, default_value = "")]
    pub identity_token: String,
    /// Read identity token from stdin
    #[arg(long)]
    pub identity_token_stdin: bool,
    /// Allow connections to SSL registry without certs
    #[arg(long)]
    pub insecure: bool,
    /// Allow insecure connections to registry without SSL check (default for localhost)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub plain_http: Option<bool>,
    /// `path` of the authentication file for the registry (first is written, the rest read)
    #[arg(long, value_name = "path")]
    pub registry_config: Vec<PathBuf>,
    /// Add custom headers to requests ('Name: value')
    #[arg(short = 'H', long)]
    pub header: Vec<String>,
    /// Server certificate authority file for the remote registry (replaces the system roots)
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub ca_file: Option<PathBuf>,
    /// Client certificate file for the remote registry (mutual TLS)
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub cert_file: Option<PathBuf>,
    /// Client private key file for the remote registry (mutual TLS)
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub key_file: Option<PathBuf>,
    /// Customized DNS for registry, formatted in `host:port:address[:address_port]`
    #[arg(long)]
    pub resolve: Vec<String>,
}

/// A remote repository or, with `--oci-layout`, a layout directory.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Set target as an OCI image layout
    #[arg(long)]
    pub oci_layout: bool,
    /// [Experimental] Set target as the OCI image layout at this path; the whole argument is
    /// then the reference stored in it (e.g. example.com/app:v1)
    #[arg(long, value_name = "path")]
    pub oci_layout_path: Option<PathBuf>,
    /// Upload blobs larger than this in chunks (e.g. `16MiB`) for registries that cap request
    /// sizes; without it, chunking starts only when a registry answers 413. Hidden: it only
    /// matters to uploads, and push's examples show it.
    #[arg(long, value_name = "size", value_parser = parse_size, hide = true)]
    pub chunk_size: Option<u64>,
    /// Largest manifest accepted (e.g. 8MiB); larger ones are refused
    #[arg(long, value_name = "size", value_parser = parse_size, default_value = "4MiB")]
    pub max_manifest_size: u64,
}

/// `1048576`, `512KiB`, `16MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB` as powers of 1024).
/// `--concurrency`: any integer, as the Go client takes it; zero or less means its library's
/// default of 3.
fn parse_concurrency(s: &str) -> Result<usize, String> {
    // pflag's words for a value that is not a number.
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: invalid syntax"))?;
    Ok(usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(3))
}

/// A path flag that may be empty, as a pflag string flag may be (`--export-manifest ""` asks for
/// no export, `pull -o ""` pulls into the working directory); clap's own path parser refuses it.
fn path_flag() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser as _;
    clap::builder::OsStringValueParser::new().map(PathBuf::from)
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("invalid size unit in {s:?}")),
    };
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("invalid size {s:?}")),
        Some(v) => Ok(v),
    }
}

#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// [Experimental] Format output: text, json or go-template=TEMPLATE
    #[arg(long, default_value = "text")]
    pub format: String,
    /// [Experimental] Template used with --format go-template
    #[arg(long, default_value = "")]
    pub template: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// <name>{:<tag>|@<digest>} {<file>[:<type>]} [...]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Artifact type of the attached manifest (required)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub artifact_type: String,
    /// [Preview] `path` of the config file, with an optional media type: path[:mediatype]
    #[arg(long, value_name = "path")]
    pub config: Option<String>,
    /// Manifest annotations (key=value)
    #[arg(short = 'a', long)]
    pub annotation: Vec<String>,
    /// Path of the annotation file
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub annotation_file: Option<PathBuf>,
    /// `path` of the pushed manifest
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub export_manifest: Option<PathBuf>,
    /// Skip path validation
    #[arg(long)]
    pub disable_path_validation: bool,
    /// Concurrency level
    #[arg(long, default_value_t = 5, value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Attach to an arch-specific subject: `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DiscoverArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Artifact type of the referrers to show
    #[arg(long)]
    pub artifact_type: Option<String>,
    /// [Experimental] Depth of the referrers tree (at least 1; unlimited by default)
    #[arg(long)]
    pub depth: Option<i64>,
    /// [Deprecated] Format output: tree, table, json or go-template=TEMPLATE (default "tree")
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// [Experimental] Format output: tree, table, json or go-template=TEMPLATE (default "tree")
    #[arg(long)]
    pub format: Option<String>,
    /// [Experimental] Template used with --format go-template
    #[arg(long, default_value = "")]
    pub template: Option<String>,
    /// Request platform in the form of `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// [Preview] Disable colors
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// <registry>/<repository>[:<ref1>[,<ref2>...]]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Output path: a directory, or a tar archive when it ends in .tar (required)
    // Checked in the command, after the argument count, as cobra does.
    #[arg(short = 'o', long, value_name = "path")]
    pub output: Option<String>,
    /// Also back up the referrers of each tag (signatures, SBOMs, ...)
    #[arg(long)]
    pub include_referrers: bool,
    /// Concurrency level
    #[arg(long, default_value_t = 3, value_parser = parse_concurrency)]
    pub concurrency: usize,
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// <registry>/<repository>[:<ref1>[,<ref2>...]]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Backup to restore: an OCI image layout directory or tar archive (required)
    // Checked in the command, after the argument count, as cobra does.
    #[arg(long, value_name = "path")]
    pub input: Option<String>,
    /// Do not restore the referrers of each tag
    #[arg(long)]
    pub exclude_referrers: bool,
    /// Show what would be pushed without pushing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Concurrency level
    #[arg(long, default_value_t = 5, value_parser = parse_concurrency)]
    pub concurrency: usize,
    #[command(flatten)]
    pub referrers: ReferrersArgs,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// How a registry keeps referrers.
#[derive(Debug, Clone, Args)]
pub struct ReferrersArgs {
    /// [Preview] Set OCI distribution spec version and API option. Options: v1.1-referrers-tag,
    /// v1.1-referrers-api
    #[arg(long, value_name = "string")]
    pub distribution_spec: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// <name>[:<tag>[,<tag>][...]] <file>[:<type>] [...]
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// `path` of the config file, with an optional media type: path[:mediatype]
    #[arg(long, value_name = "path")]
    pub config: Option<String>,
    /// [Deprecated, oras 0.x] same as --config
    #[arg(long, hide = true, value_name = "path")]
    pub manifest_config: Option<String>,
    /// Artifact type of the manifest
    #[arg(long, default_value = "")]
    pub artifact_type: String,
    /// Manifest annotations: key=value
    #[arg(short = 'a', long)]
    pub annotation: Vec<String>,
    /// Path of the annotation file (JSON)
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub annotation_file: Option<PathBuf>,
    /// `path` to export the pushed manifest to
    #[arg(long, value_name = "path", value_parser = path_flag())]
    pub export_manifest: Option<PathBuf>,
    /// Skip path validation of absolute file paths
    #[arg(long)]
    pub disable_path_validation: bool,
    /// Name (layer title) of the file read from stdin when - (or -:<type>) is given as a file
    #[arg(long, value_name = "name")]
    pub stdin_name: Option<String>,
    /// `-:<type>`, the file read from stdin with a media type: clap reads it as the short flag
    /// `:` with a value, so it lands here instead of among the files.
    #[arg(short = ':', hide = true, value_name = "type")]
    pub stdin_media_type: Vec<String>,
    /// Number of blobs uploaded concurrently
    #[arg(long, default_value_t = 5, value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// [Preview] manifest type for building the artifact: v1.1 or v1.0 (default v1.1, v1.0 if
    /// --config is used without --artifact-type)
    #[arg(long)]
    pub image_spec: Option<String>,
    /// [Experimental] set artifact platform in the format of `os[/arch][/variant][:os_version]`
    /// (written as the config)
    #[arg(long, value_name = "platform")]
    pub artifact_platform: Option<String>,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// <name>{:<tag>|@<digest>}
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Output directory, or - to write the artifact's single file to stdout
    #[arg(short = 'o', long, default_value = ".", value_name = "path", value_parser = path_flag())]
    pub output: PathBuf,
    /// Output manifest config file: path[:mediatype]
    #[arg(long, value_name = "path")]
    pub config: Option<String>,
    /// Do not replace existing files when pulling, treat them as errors
    #[arg(short = 'k', long)]
    pub keep_old_files: bool,
    /// Allow storing files out of the output directory
    #[arg(short = 'T', long)]
    pub allow_path_traversal: bool,
    /// Also save layers (and a config) without a title, as files named <algorithm>-<hex> (e.g.
    /// sha256-ab12…)
    #[arg(long)]
    pub include_untitled: bool,
    /// [Preview] recursively pull the subject of artifacts
    #[arg(long)]
    pub include_subject: bool,
    /// Number of blobs downloaded concurrently
    #[arg(long, default_value_t = 3, value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Request platform in the form of `os[/arch][/variant][:os_version]`
    #[arg(long)]
    pub platform: Option<String>,
    /// [Deprecated, oras 0.x] pull only layers of this media type (repeatable)
    #[arg(short = 't', long, hide = true)]
    pub media_type: Vec<String>,
    /// [Deprecated, oras 0.x] accepted for compatibility: all named layers are pulled
    #[arg(short = 'a', long, hide = true)]
    pub allow_all: bool,
    /// [Preview] Disable progress bars
    #[arg(long)]
    pub no_tty: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// <registry>
    #[arg(value_name = "REGISTRY")]
    pub args: Vec<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// <registry>
    #[arg(value_name = "REGISTRY")]
    pub args: Vec<String>,
    /// `path` of the authentication file
    #[arg(long, value_name = "path")]
    pub registry_config: Vec<PathBuf>,
    /// Output debug logs
    #[arg(short = 'd', long)]
    pub debug: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh, fish or powershell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManpageArgs {
    /// The command whose page to print, e.g. `push` or `manifest fetch` (default: oras itself)
    #[arg(value_name = "command")]
    pub command: Vec<String>,
    /// Write the pages of oras and of every command into this directory instead
    #[arg(long, value_name = "dir", conflicts_with = "command")]
    pub output_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    #[arg(hide = true)]
    pub extra: Vec<String>,
}

/// The command line as the Go client's parser (pflag) reads it, on top of the derived one: a
/// flag given twice keeps its last value, and a flag's value may start with `-` (a password,
/// `--concurrency -1`). Boolean flags' `=true`/`=false` forms are handled by `pflag_bools`.
#[must_use]
pub fn command() -> clap::Command {
    pflag_like(<Cli as clap::CommandFactory>::command())
}

fn pflag_like(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.args_override_self(true).mut_args(|arg| {
        let takes_value = matches!(
            arg.get_action(),
            clap::ArgAction::Set | clap::ArgAction::Append
        );
        if takes_value && !arg.is_positional() {
            arg.allow_hyphen_values(true)
        } else {
            arg
        }
    });
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    names
        .into_iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, pflag_like))
}

/// Rewrites pflag's boolean forms that clap's on/off flags do not take: `--flag=true` (and
/// `-f=true`) becomes `--flag`, and `--flag=false` is dropped (every such flag is off unless
/// given). Values of flags that take one, and everything after `--`, are left alone.
#[must_use]
pub fn pflag_bools(args: Vec<std::ffi::OsString>, root: &clap::Command) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut cur = root;
    let mut tokens = args.into_iter();
    if let Some(program) = tokens.next() {
        out.push(program);
    }
    let takes_value = |arg: &clap::Arg| {
        matches!(
            arg.get_action(),
            clap::ArgAction::Set | clap::ArgAction::Append
        ) && !arg.is_require_equals_set()
    };
    while let Some(token) = tokens.next() {
        let Some(text) = token.to_str().map(str::to_owned) else {
            out.push(token);
            continue;
        };
        if text == "--" {
            out.push(token);
            out.extend(tokens);
            break;
        }
        let flag = if let Some(long) = text.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or_default();
            cur.get_arguments()
                .find(|a| {
                    a.get_long() == Some(name)
                        || a.get_all_aliases().is_some_and(|v| v.contains(&name))
                })
                .map(|a| (a, long.split_once('=').map(|(_, v)| v.to_owned())))
        } else if let Some(short) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let first = chars.next().unwrap_or_default();
            match cur.get_arguments().find(|a| a.get_short() == Some(first)) {
                Some(a) if short[first.len_utf8()..].starts_with('=') => {
                    Some((a, Some(short[first.len_utf8() + 1..].to_owned())))
                }
                // A cluster (`-kTo`): the first flag in it that takes a value takes the rest of
                // the word, or the next word when it comes last.
                _ => {
                    let needs_next = short
                        .chars()
                        .position(|c| {
                            cur.get_arguments()
                                .any(|a| a.get_short() == Some(c) && takes_value(a))
                        })
                        .is_some_and(|at| at == short.chars().count() - 1);
                    out.push(token);
                    if needs_next && let Some(value) = tokens.next() {
                        out.push(value);
                    }
                    continue;
                }
            }
        } else {
            if let Some(sub) = cur
                .get_subcommands()
                .find(|s| s.get_name() == text || s.get_all_aliases().any(|a| a == text))
            {
                cur = sub;
            }
            out.push(token);
            continue;
        };
        match flag {
            Some((arg, value)) if matches!(arg.get_action(), clap::ArgAction::SetTrue) => {
                match value.as_deref() {
                    Some("true") => out.push(match (arg.get_long(), arg.get_short()) {
                        (Some(long), _) => format!("--{long}").into(),
                        (None, Some(short)) => format!("-{short}").into(),
                        (None, None) => token,
                    }),
                    Some("false") => {}
                    _ => out.push(token),
                }
            }
            Some((arg, None)) if takes_value(arg) => {
                out.push(token);
                if let Some(value) = tokens.next() {
                    out.push(value);
                }
            }
            _ => out.push(token),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MiB").is_err());
    }
}

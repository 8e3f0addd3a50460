//! The command line as clap parses it ("low" arguments; `settings` validates them).
//!
//! Owns: flag names, help texts and defaults. Must not: validate values beyond their types, or
//! do any work.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Deploy static sites to S3 and S3-compatible stores, with correct headers.
#[derive(Debug, Parser)]
#[command(name = "s3site", version = env!("S3SITE_VERSION"), about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload what changed in DIR to s3://BUCKET[/PREFIX], with correct Content-Type and no
    /// bogus Content-Encoding; optionally delete what DIR no longer has.
    Sync(SyncArgs),
    /// Fix the headers of objects already under s3://BUCKET[/PREFIX] in place (bogus
    /// Content-Encoding, wrong or generic Content-Type), without downloading them and keeping
    /// every other header, tags, ACL, storage class and encryption.
    Repair(RepairArgs),
    /// Show the headers the rules file gives each KEY (a path relative to the site folder,
    /// which is the key relative to PREFIX), and which rules matched.
    Explain(ExplainArgs),
    /// Print the completion script for SHELL on stdout (e.g. `s3site completions bash >
    /// /etc/bash_completion.d/s3site`).
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout (e.g. `s3site man > /usr/local/share/man/man1/s3site.1`).
    Man,
}

/// `s3site completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

/// `s3site explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Paths relative to the site folder, e.g. blog/index.html.
    #[arg(required = true)]
    pub keys: Vec<String>,
    /// The rules file (default: s3site.toml in the current directory, if there is one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Requests in flight by default: with latency, requests in flight bound a first upload, and
/// more than this gains little for the memory and connections it holds (bench/RESULTS.md, "What
/// bounds each phase").
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Requests in flight by default in a repair: HEADs are small, and at 20 ms a request 256 in
/// flight keep a repair near the rate of a store on loopback (bench/RESULTS.md, "Repair at
/// scale").
pub const REPAIR_CONCURRENCY: usize = 256;

/// The output flags of a command that has none.
const TEXT_OUTPUT: OutputArgs = OutputArgs {
    output: OutputFormat::Text,
    quiet: false,
    verbose: false,
};

impl Command {
    /// The output flags of whichever command this is.
    pub fn output(&self) -> &OutputArgs {
        match self {
            Command::Sync(a) => &a.output,
            Command::Repair(a) => &a.output,
            Command::Explain(_) | Command::Completions(_) | Command::Man => &TEXT_OUTPUT,
        }
    }
}

/// `s3site repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The objects to check, s3://BUCKET or s3://BUCKET/PREFIX (default: `bucket` from the
    /// rules file).
    pub url: Option<String>,
    /// The audit: list every object whose headers are wrong, with before -> after; write nothing.
    #[arg(long, short = 'n', env = "S3SITE_DRY_RUN")]
    pub dry_run: bool,
    /// With --dry-run: exit 1 when any object would be repaired (to guard a pipeline).
    #[arg(long, requires = "dry_run")]
    pub fail_on_drift: bool,
    /// Go on after KEY (a full key): what a stopped run printed as where to go on.
    #[arg(long, value_name = "KEY")]
    pub start_after: Option<String>,
    /// Stop after checking N objects (the summary says where to go on).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_objects: Option<u64>,
    /// Check the keys in FILE instead of listing the bucket: one key a line, or with a .csv
    /// name `bucket,key` rows with URL-encoded keys (a Batch Operations manifest).
    #[arg(long, value_name = "FILE", conflicts_with = "inventory")]
    pub keys_from: Option<PathBuf>,
    /// Check the objects an S3 Inventory report lists (CSV format), given by its manifest
    /// (s3://BUCKET/PATH/manifest.json), instead of listing; archived and SSE-C objects are left
    /// alone without a request.
    #[arg(long, value_name = "S3_URL")]
    pub inventory: Option<String>,
    /// Take text whose Content-Type lacks a charset for UTF-8 without reading its first bytes
    /// (a ranged GET per object). Only for buckets known to hold UTF-8 text: a Latin-1 page
    /// would be labeled utf-8.
    #[arg(long)]
    pub assume_utf8: bool,
    /// S3 Batch Operations: audit (as --dry-run), then write into DIR a CSV manifest and a
    /// CreateJob request per group of objects that get the same headers, direct.csv for the
    /// rest and plan.md. Writes nothing to the bucket.
    #[arg(long, value_name = "DIR", requires_all = ["batch_role", "batch_report"])]
    pub batch_plan: Option<PathBuf>,
    /// The IAM role the jobs run as (it must trust batchoperations.s3.amazonaws.com).
    #[arg(long, value_name = "ARN", requires = "batch_plan")]
    pub batch_role: Option<String>,
    /// Where the manifests are uploaded and the completion reports go: s3://BUCKET/PREFIX.
    #[arg(long, value_name = "S3_URL", requires = "batch_plan")]
    pub batch_report: Option<String>,
    /// Groups of fewer objects are left to the direct path (a job costs a fixed fee).
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "batch_plan",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_min_group: u64,
    /// The jobs' priority.
    #[arg(long, value_name = "N", default_value_t = 10, requires = "batch_plan",
          value_parser = clap::value_parser!(i32).range(0..=2147483647))]
    pub batch_priority: i32,
    /// Let the jobs run without a person confirming them in the console.
    #[arg(long, requires = "batch_plan")]
    pub batch_no_confirm: bool,
    /// The account that runs the jobs (default: the role ARN's).
    #[arg(long, value_name = "ID", requires = "batch_plan")]
    pub batch_account_id: Option<String>,
    /// After the jobs of a --batch-plan DIR ran: HEAD a sample of each job's objects (20, or
    /// --batch-sample N) and say whether they have the job's headers; exit 1 if not.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["batch_plan", "keys_from", "inventory"])]
    pub batch_verify: Option<PathBuf>,
    /// Objects sampled per job by --batch-verify.
    #[arg(long, value_name = "N", default_value_t = 20, requires = "batch_verify",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_sample: u64,
    /// Which keys to leave alone (relative to PREFIX).
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Concurrency and the rules file.
    #[command(flatten)]
    pub run: RunArgs,
    /// How to reach the store.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How results are shown.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `s3site sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The built site (e.g. public/ or output/).
    pub dir: PathBuf,
    /// Destination, s3://BUCKET or s3://BUCKET/PREFIX (default: `bucket` from the rules file).
    pub url: Option<String>,
    /// Print the plan; make no write request.
    #[arg(long, short = 'n', env = "S3SITE_DRY_RUN")]
    pub dry_run: bool,
    /// Delete objects under PREFIX that have no file in DIR (after every upload succeeded).
    #[arg(long)]
    pub delete: bool,
    /// With --delete: if more than N objects would be deleted, delete none and exit 1.
    #[arg(
        long,
        value_name = "N",
        requires = "delete",
        allow_negative_numbers = true
    )]
    pub max_delete: Option<usize>,
    /// Hash every file again instead of trusting the MD5s remembered for files whose size,
    /// times and inode are unchanged (kept in ~/.cache/s3site, or $S3SITE_CACHE_DIR).
    #[arg(long, env = "S3SITE_NO_CACHE")]
    pub no_cache: bool,
    /// Follow symbolic links that lead outside DIR (refused by default, so nothing outside the
    /// site is published by accident).
    #[arg(long)]
    pub follow_outside: bool,
    /// Also fix the headers of unchanged objects in place, as `s3site repair` does (one HEAD
    /// per unchanged object).
    #[arg(long)]
    pub repair: bool,
    /// Which paths to skip (relative to DIR). Skipped keys are never deleted.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// ACL, storage class and encryption of the uploads.
    #[command(flatten)]
    pub placement: PlacementArgs,
    /// Concurrency and the rules file.
    #[command(flatten)]
    pub run: RunArgs,
    /// How to reach the store.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How results are shown.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Exclusions and inclusions, as s3cmd takes them.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Skip paths matching GLOB (repeatable); a path is skipped when GLOB matches it or a parent
    /// folder.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Keep paths matching GLOB although an --exclude matches them (repeatable), as in s3cmd.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Read --exclude globs from FILE, one a line (# comments and blank lines ignored).
    #[arg(long, value_name = "FILE")]
    pub exclude_from: Vec<PathBuf>,
    /// Read --include globs from FILE, one a line.
    #[arg(long, value_name = "FILE")]
    pub include_from: Vec<PathBuf>,
}

/// What an upload sets besides its headers.
#[derive(Debug, Args)]
pub struct PlacementArgs {
    /// Canned ACL of every upload: private, public-read, authenticated-read,
    /// bucket-owner-full-control... (default: none sent, the bucket decides).
    #[arg(long, value_name = "CANNED")]
    pub acl: Option<String>,
    /// The same as --acl public-read (s3cmd's -P).
    #[arg(short = 'P', long = "acl-public", conflicts_with = "acl")]
    pub acl_public: bool,
    /// Storage class of every upload (STANDARD_IA, INTELLIGENT_TIERING...).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,
    /// Server-side encryption of every upload: AES256 or aws:kms.
    #[arg(long, value_name = "ALG")]
    pub sse: Option<String>,
    /// The KMS key of --sse aws:kms.
    #[arg(long, value_name = "ID")]
    pub sse_kms_key_id: Option<String>,
    /// Do not carry the ACL, storage class, encryption, tags and website redirect of an object
    /// over to the upload that replaces it (kept by default, at one HEAD per replaced object).
    #[arg(long)]
    pub no_keep: bool,
}

/// What sync and repair share besides the connection and the output.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Requests in flight at once [default: 64 for sync, 256 for repair].
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        env = "S3SITE_CONCURRENCY"
    )]
    pub concurrency: Option<usize>,
    /// The rules file (default: s3site.toml in the current directory, if there is one).
    #[arg(long, value_name = "FILE", env = "S3SITE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Use the bucket, CloudFront distributions and excludes of [targets.NAME] in the rules
    /// file (e.g. staging, production).
    #[arg(long, value_name = "NAME", env = "S3SITE_TARGET")]
    pub target: Option<String>,
    /// After the writes, invalidate the paths of what changed on this CloudFront distribution
    /// (repeatable; also `cloudfront = [...]` in the rules file; the variable takes a
    /// comma-separated list).
    #[arg(
        long = "cloudfront",
        value_name = "DIST_ID",
        env = "S3SITE_CLOUDFRONT",
        value_delimiter = ','
    )]
    pub cloudfront: Vec<String>,
    /// Wait until each invalidation has completed.
    #[arg(long, env = "S3SITE_CLOUDFRONT_WAIT")]
    pub cloudfront_wait: bool,
    /// With --cloudfront-wait: give up waiting after SECS seconds (exit 1).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 900,
        env = "S3SITE_CLOUDFRONT_WAIT_TIMEOUT"
    )]
    pub cloudfront_wait_timeout: u64,
    /// Exact paths per invalidation before they are collapsed into folder wildcards (default
    /// 300, or `cloudfront_max_paths` in the rules file).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        env = "S3SITE_CLOUDFRONT_MAX_PATHS"
    )]
    pub cloudfront_max_paths: Option<i64>,
}

/// How to reach the store.
#[derive(Clone, Debug, Args)]
pub struct ConnectionArgs {
    /// S3-compatible endpoint, e.g. http://127.0.0.1:9000 (also AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Path-style addressing (http://host/bucket/key), needed by most S3-compatible stores.
    #[arg(long, env = "S3SITE_PATH_STYLE")]
    pub path_style: bool,
    /// Region (default: from the AWS config chain, else us-east-1).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config and ~/.aws/credentials.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// PEM file of CA certificates to trust besides the system's, for a store behind a private
    /// CA (also AWS_CA_BUNDLE, or ca_bundle in the profile).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<std::path::PathBuf>,
}

/// How results are shown.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// text: a line per action and a summary; json: one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, env = "S3SITE_OUTPUT")]
    pub output: OutputFormat,
    /// Print only errors.
    #[arg(long, short = 'q', conflicts_with = "verbose", env = "S3SITE_QUIET")]
    pub quiet: bool,
    /// Also print unchanged files and debug logs.
    #[arg(long, short = 'v', env = "S3SITE_VERBOSE")]
    pub verbose: bool,
}

/// `--output` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for people.
    Text,
    /// One JSON document at the end (holds every record: for runs of up to about 10^5
    /// objects).
    Json,
    /// One JSON record per line as it happens, then a line with the totals (any size).
    Ndjson,
}

/// What to use instead of an `s3cmd sync` flag s3site does not take, so a migrated pipeline
/// fails with the replacement, not clap's generic message.
const S3CMD_FLAGS: &[(&str, &str)] = &[
    (
        "--delete-removed",
        "use --delete (deletes happen after every upload succeeded)",
    ),
    (
        "--delete-after",
        "use --delete: s3site always deletes after the uploads",
    ),
    (
        "--cf-invalidate",
        "use --cloudfront DIST_ID (the distribution is not guessed)",
    ),
    (
        "--cf-invalidate-default-index",
        "use --cloudfront DIST_ID: index.html is invalidated as its folder too",
    ),
    (
        "--rexclude",
        "s3site takes globs, not regular expressions: use --exclude GLOB",
    ),
    (
        "--rinclude",
        "s3site takes globs, not regular expressions: use --include GLOB",
    ),
    (
        "--add-header",
        "set headers per path in s3site.toml ([[rule]] cache_control, content_type, expires, headers = {...})",
    ),
    (
        "--no-mime-magic",
        "not needed: s3site's Content-Type comes from a fixed table, never from file contents",
    ),
    (
        "-m",
        "use content_type in an s3site.toml rule (or default_content_type for files with no extension)",
    ),
    ("--mime-type", "use content_type in an s3site.toml rule"),
    (
        "--default-mime-type",
        "use default_content_type in s3site.toml",
    ),
    (
        "--guess-mime-type",
        "not needed: s3site always types files from its table",
    ),
    ("--server-side-encryption", "use --sse AES256"),
    (
        "--server-side-encryption-kms-id",
        "use --sse aws:kms --sse-kms-key-id ID",
    ),
    (
        "--no-check-md5",
        "not available: s3site always compares MD5s (the hash cache makes it cheap)",
    ),
    (
        "--skip-existing",
        "not available: s3site uploads only what changed, by MD5",
    ),
    (
        "--cache-file",
        "not needed: s3site keeps its hash cache in ~/.cache/s3site (--no-cache to skip it)",
    ),
    (
        "--preserve",
        "not available: S3 has no file modes; s3site compares by MD5",
    ),
    (
        "--no-preserve",
        "not needed: s3site stores no file attributes",
    ),
    ("--recursive", "not needed: sync is always recursive"),
    ("-r", "not needed: sync is always recursive"),
    (
        "--acl-private",
        "use --acl private (or nothing: no ACL header is sent by default)",
    ),
];

/// The replacement for `arg` when it is an `s3cmd sync` flag s3site does not take.
pub fn s3cmd_hint(arg: &str) -> Option<String> {
    let flag = arg.split_once('=').map_or(arg, |(f, _)| f);
    S3CMD_FLAGS
        .iter()
        .find(|(f, _)| *f == flag)
        .map(|(f, hint)| format!("{f} is an s3cmd flag s3site does not take: {hint}"))
}

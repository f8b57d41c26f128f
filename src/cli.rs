//! Command-line types only (clap). Validation that needs no AWS call happens in `stack`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::resources::function;

/// Deploy the Cat Upload stack (S3 website, private images bucket, Rust Lambda behind a
/// Function URL) to AWS in one command, and remove it with another.
#[derive(Debug, Parser)]
// The version says which function this catup carries (build.rs), or that it builds one.
#[command(name = "catup", version = env!("CATUP_LONG_VERSION"))]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Stack name: 3-24 lower-case letters, digits and '-'. Several stacks can live side by
    /// side in one account.
    #[arg(long, global = true, env = "CATUP_STACK", default_value = crate::stack::DEFAULT_STACK)]
    pub stack: String,
    /// AWS region (default: the standard chain: AWS_REGION, the profile's region).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config (default: AWS_PROFILE or "default").
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto_server); same as
    /// AWS_ENDPOINT_URL.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Print one JSON object on stdout instead of text (progress still goes to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Log AWS calls and retries to stderr (-vv for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Use this bucket for the website instead of <stack>-site-<account>-<region>.
    #[arg(long, global = true)]
    pub site_bucket: Option<String>,
    /// Use this bucket for images instead of <stack>-images-<account>-<region>.
    #[arg(long, global = true)]
    pub images_bucket: Option<String>,
    /// Run the function with this existing role; catup then creates and deletes no role
    /// (for lab accounts that cannot create roles).
    #[arg(long, global = true)]
    pub role_arn: Option<String>,
    /// Give up after this many seconds waiting for AWS (0: never), naming the call that did
    /// not answer; building the function and prompts do not count. Not for `dev` and
    /// `logs --follow`, which run until stopped.
    #[arg(
        long,
        global = true,
        env = "CATUP_TIMEOUT",
        default_value_t = 900,
        value_name = "SECONDS"
    )]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create what is missing, fix what differs, then upload the site and its config.js.
    Deploy(DeployArgs),
    /// Show what deploy would create, update or refuse, and the site files it would upload
    /// and delete, without changing anything.
    Plan(PlanArgs),
    /// Print the Function URL, the website URL and the state of every resource.
    #[command(after_help = STATUS_EXIT_CODES)]
    Status(StatusArgs),
    /// Every catup stack in the account, in every region: what is left of each, the images
    /// it holds and an estimated monthly cost. Changes nothing.
    List,
    /// Delete everything this stack owns (buckets are emptied first).
    #[command(visible_aliases = ["destroy", "delete"])]
    Teardown(TeardownArgs),
    /// Check a deployed stack end to end: upload, gallery, image bytes, CORS, config.js.
    Verify(VerifyArgs),
    /// Check any student's deployed app from its website URL alone, as a browser uses it;
    /// needs no AWS credentials. --class FILE grades a whole class.
    Check(CheckArgs),
    /// Run the whole app on this machine: moto_server as AWS, the function and the site on
    /// localhost. Ctrl-C stops everything.
    Dev(DevArgs),
    /// Print the function's logs (oldest first; --json: one object per event); --follow
    /// keeps printing new ones until Ctrl-C.
    Logs(LogsArgs),
    /// Build the function from source and write its zip, the one a release catup carries
    /// (scripts/package). No AWS call.
    #[command(hide = true)]
    Package(PackageArgs),
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Where to write the zip.
    #[arg(long)]
    pub out: PathBuf,
    /// Build lambda-fn from this catup checkout instead of the one catup was built from.
    #[arg(long)]
    pub source: Option<PathBuf>,
    /// Which function: `api` (lambda-fn, the default) or `thumbs` (thumbs-fn).
    #[arg(long, value_enum, default_value = "api")]
    pub function: StackFunction,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Show events from this long ago (30s, 10m, 1h, 2d, 1w) or from this time (RFC 3339,
    /// e.g. 2026-11-24T10:00:00Z).
    #[arg(long, default_value = "10m", value_parser = crate::logs::Since::parse)]
    pub since: crate::logs::Since,
    /// Keep printing new events as they arrive, until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only this function's events: `api` (the upload function) or `thumbs` (the thumbnail
    /// function). Without it: the upload function's, and the thumbnail function's beside them
    /// (each line naming its function) where the stack makes thumbnails.
    #[arg(long, value_enum)]
    pub function: Option<StackFunction>,
}

/// The stack's functions, as `--function` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StackFunction {
    Api,
    Thumbs,
}

const STATUS_EXIT_CODES: &str =
    "Exit codes: 0 deployed and in sync, 3 not deployed (something is missing), \
4 drifted (run deploy to repair), 1 error, 2 bad usage.";

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Also compare the site's files with this folder (by default only config.js is
    /// compared: the folder a stack was deployed from is not known).
    #[arg(long)]
    pub frontend: Option<PathBuf>,
    /// Publish files that look like secrets (private keys such as id_rsa or *.pem, .env
    /// files), which are refused otherwise.
    #[arg(long)]
    pub allow_secret_looking_files: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify this Function URL instead of the stack's (the local one `catup dev` prints).
    #[arg(long)]
    pub function_url: Option<String>,
    /// Verify this website instead of the stack's S3 website endpoint.
    #[arg(long)]
    pub website_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Port of the website on localhost (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Port of the local Function URL (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
    /// Folder of the static site (default: the frontend/ folder of catup's source tree).
    #[arg(long)]
    pub frontend: Option<PathBuf>,
    /// Publish files that look like secrets (private keys such as id_rsa or *.pem, .env
    /// files), which are refused otherwise.
    #[arg(long)]
    pub allow_secret_looking_files: bool,
    /// Refuse uploads once the images bucket holds N images (1 to 1000), as `deploy
    /// --max-images` makes the deployed function do.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_images: Option<u32>,
    /// Not used by dev (its AWS is the emulator); defined here so that the global flag is not
    /// listed in dev's help, and refused when given.
    #[arg(long, hide = true)]
    pub profile: Option<String>,
    /// Not used by dev (the emulator's role is created by the deploy); refused when given.
    #[arg(long, hide = true)]
    pub role_arn: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub inputs: DeployInputs,
    /// Run `catup verify` against the stack once deployed.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
#[command(after_help = PLAN_EXIT_CODES)]
pub struct PlanArgs {
    #[command(flatten)]
    pub inputs: DeployInputs,
}

const PLAN_EXIT_CODES: &str = "Exit codes: 0 nothing to do, 2 deploy would change something, \
1 error (or deploy would refuse: a resource is not this stack's).";

/// What deploy (and plan) take from this machine: the function's binary and the site.
#[derive(Debug, Args)]
pub struct DeployInputs {
    /// Deploy this prebuilt x86_64 Linux binary instead of building lambda-fn.
    #[arg(long)]
    pub bootstrap: Option<PathBuf>,
    /// Build lambda-fn from this catup checkout (default: the one catup was built from).
    #[arg(long, value_name = "DIR", conflicts_with = "bootstrap")]
    pub source: Option<PathBuf>,
    /// Folder of the static site (default: the frontend/ folder of catup's source tree).
    #[arg(long)]
    pub frontend: Option<PathBuf>,
    /// Publish files that look like secrets (private keys such as id_rsa or *.pem, .env
    /// files), which are refused otherwise.
    #[arg(long)]
    pub allow_secret_looking_files: bool,
    /// Delete uploads (and anything else in the images bucket) N days after they arrive,
    /// and incomplete uploads after a day; 0 keeps them for ever. Without the flag the
    /// bucket keeps the cap it has.
    #[arg(long, value_name = "N")]
    pub keep_days: Option<u32>,
    /// Refuse uploads once the images bucket holds N images (1 to 1000; the page shows the
    /// function's message); 0 removes the cap. Without the flag the function keeps the cap
    /// it has.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub max_images: Option<u32>,
    /// Reserve N concurrent executions for the function: at most N run at once, whatever
    /// the traffic (refused before any change where the account's quota cannot give them);
    /// 0 removes the reservation. Without the flag the function keeps the one it has.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10000))]
    pub concurrency: Option<u32>,
    /// A monthly AWS cost budget of N US dollars named after the stack, emailing
    /// --budget-email at 80% and 100% of the month's actual spend (of the whole account:
    /// Budgets counts a stack's own costs only through activated cost allocation tags); 0
    /// removes it. Without the flag the budget stays as it is.
    #[arg(long, value_name = "N")]
    pub budget_usd: Option<u32>,
    /// Where the budget's alerts go (with --budget-usd).
    #[arg(long, value_name = "ADDR", requires = "budget_usd")]
    pub budget_email: Option<String>,
    /// Make a thumbnail of every upload: a second function (thumbs-fn), run by the images
    /// bucket's ObjectCreated events under images/, writes it under thumbs/, and the gallery
    /// shows it. Remembered: later deploys keep it.
    #[arg(long, conflicts_with = "no_thumbnails")]
    pub thumbnails: bool,
    /// Remove the thumbnail function, its role, log group and trigger (thumbnails made stay).
    #[arg(long)]
    pub no_thumbnails: bool,
    /// The thumbnail function's prebuilt x86_64 Linux binary (thumbs-fn's thumbs-bootstrap),
    /// needed to create it or update its code.
    #[arg(long, value_name = "FILE")]
    pub thumbs_bootstrap: Option<PathBuf>,
    /// The upload function's memory in MB (128 to 10240; Lambda gives CPU in proportion).
    /// Without the flag the function keeps what it has (128 for a new one).
    #[arg(long, value_name = "MB", value_parser = clap::value_parser!(i32).range(function::MEMORY_MB_RANGE))]
    pub api_memory: Option<i32>,
    /// The upload function's timeout in seconds (1 to 900); without the flag, as it has
    /// (10 for a new one).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(i32).range(function::TIMEOUT_SECONDS_RANGE))]
    pub api_timeout: Option<i32>,
    /// The thumbnail function's memory in MB (128 to 10240); without the flag, as it has
    /// (1024 for a new one).
    #[arg(long, value_name = "MB", value_parser = clap::value_parser!(i32).range(function::MEMORY_MB_RANGE))]
    pub thumbs_memory: Option<i32>,
    /// The thumbnail function's timeout in seconds (1 to 900); without the flag, as it has
    /// (30 for a new one).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(i32).range(function::TIMEOUT_SECONDS_RANGE))]
    pub thumbs_timeout: Option<i32>,
}

#[derive(Debug, Args)]
pub struct TeardownArgs {
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Only list what teardown would do to each resource (delete / absent / refused /
    /// external) and delete nothing; needs no --yes. Exits 0 when teardown would go ahead
    /// (or find nothing to delete), 1 when it would refuse (the refusal on stderr).
    #[arg(long)]
    pub dry_run: bool,
    /// Tear down every stack `catup list` finds, in every region (asks once on a terminal,
    /// naming each stack and region; --yes off a terminal). --stack and --region are not used.
    #[arg(long, conflicts_with = "dry_run")]
    pub all: bool,
}

const CHECK_EXIT_CODES: &str =
    "Exit codes: 0 every check of every site passed, 1 a check failed (or an error: an \
unreadable class file), 2 bad usage.";

#[derive(Debug, clap::Args)]
#[command(after_help = CHECK_EXIT_CODES)]
pub struct CheckArgs {
    /// The website URLs to check (the S3 website endpoint a student hands in; `http://` may
    /// be left out).
    #[arg(value_name = "URL", required_unless_present = "class")]
    pub urls: Vec<String>,
    /// A class file: one website URL a line, optionally after the student's name
    /// ("Ada Lovelace http://..."); blank lines and lines starting with # are skipped.
    #[arg(long, value_name = "FILE")]
    pub class: Option<PathBuf>,
    /// Also write the results as CSV, one row per site, for a gradebook ("-": stdout,
    /// instead of the table).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Seconds a site's checks may take in all; a site still unfinished then is a failed
    /// row (each request is also given up after 15 s).
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub deadline: u64,
    /// How many sites are checked at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub jobs: u64,
}

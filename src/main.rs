use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use catup::cli::{Cli, Command};
use catup::commands::{check, deploy, dev, list, logs, package, plan, status, teardown, verify};
use catup::output::{say, StdoutClosed};
use catup::waiting;

fn main() -> ExitCode {
    unset_blank_endpoints();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => return usage_error(usage),
    };
    init_tracing(cli.global.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime");
    let command = async {
        match &cli.command {
            Command::Deploy(args) => deploy::run(&cli.global, args).await,
            Command::Plan(args) => plan::run(&cli.global, args).await,
            Command::Status(args) => status::run(&cli.global, args).await,
            Command::List => list::run(&cli.global).await,
            Command::Teardown(args) => teardown::run(&cli.global, args).await,
            Command::Dev(args) => dev::run(&cli.global, args).await,
            Command::Verify(args) => verify::run(&cli.global, args).await,
            Command::Check(args) => check::run(&cli.global, args).await,
            Command::Logs(args) => logs::run(&cli.global, args).await,
            Command::Package(args) => package::run(args).await,
        }
    };
    let runs_until_stopped = match &cli.command {
        Command::Dev(_) => true,
        Command::Logs(args) => args.follow,
        _ => false,
    };
    let deadline = (cli.global.timeout > 0 && !runs_until_stopped)
        .then(|| Duration::from_secs(cli.global.timeout));
    let result = runtime.block_on(async {
        tokio::select! {
            result = command => result,
            gave_up = waiting::watch(deadline) => Err(gave_up),
        }
    });
    match result {
        Ok(code) => code,
        // The reader of stdout went away (`| head -1`): it has what it wanted.
        Err(error) if error.downcast_ref::<StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the context chain joined by ": ".
            say(format_args!("error: {error:#}"));
            if cli.global.json {
                json_error(&format!("{error:#}"));
            }
            ExitCode::FAILURE
        }
    }
}

/// A script reading stdout gets an object either way.
fn json_error(message: &str) {
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::json!({ "error": message })
    );
}

/// clap's own message and exit code (2 for bad usage); under `--json` also the JSON object
/// with its first line, since a script asked for one. `--json` is looked for in the raw
/// arguments: they did not parse.
fn usage_error(usage: clap::Error) -> ExitCode {
    use clap::error::ErrorKind::{
        DisplayHelp, DisplayHelpOnMissingArgumentOrSubcommand, DisplayVersion,
    };
    let json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if !json || matches!(usage.kind(), DisplayHelp | DisplayVersion) {
        usage.exit();
    }
    let _ = usage.print();
    let rendered = usage.to_string();
    let first = match usage.kind() {
        // clap printed the help: there is no error line to take.
        DisplayHelpOnMissingArgumentOrSubcommand => "no command given: see catup --help",
        _ => rendered.lines().next().unwrap_or_default(),
    };
    json_error(first.strip_prefix("error: ").unwrap_or(first));
    ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2))
}

/// `AWS_ENDPOINT_URL=` (a shell that cleared it) means unset, as the README says: the SDK
/// reads the variables itself (and per service, `AWS_ENDPOINT_URL_S3`) and panics on "".
/// Done first, while the program has one thread.
fn unset_blank_endpoints() {
    let blank: Vec<_> = std::env::vars_os()
        .filter(|(key, value)| {
            key.to_str()
                .is_some_and(|k| k.starts_with("AWS_ENDPOINT_URL"))
                && value.to_str().is_some_and(|v| v.trim().is_empty())
        })
        .map(|(key, _)| key)
        .collect();
    for key in blank {
        std::env::remove_var(key);
    }
}

/// Warnings only by default; -v shows catup's steps (each call, its resource, status, time
/// and retries), -vv adds the SDK's own debug log.
/// aws-config's own warnings (IMDS probes, a bad setting, a missing config file) stay under -v: catup reports what
/// they mean in its one error line.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn,aws_config=off,aws_runtime=off",
        1 => "warn,catup=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Its complaint about a closed stderr would be written to stderr, with a panic.
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbose > 0)
        .init();
}

//! `catup dev`: the whole app on this machine with no AWS account. An emulator (moto_server)
//! gets the real deploy (same resources, same config.js generation); the function runs in
//! process from the same library as lambda-fn behind a local Function URL; the site is served
//! on localhost from the site bucket. Ctrl-C stops everything.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use serde::Serialize;
use tokio::net::TcpListener;

use super::{default_frontend, survey::deploy, validate_names, Context};
use crate::aws::Aws;
use crate::cli::{DevArgs, GlobalArgs};
use crate::local::emulator::{find_on_path, Emulator};
use crate::local::function_url::{LocalFunctionUrl, MAX_EVENT_BYTES};
use crate::local::http::serve;
use crate::local::site::LocalWebsite;
use crate::output::Reporter;
use crate::package;
use crate::region::Region;
use crate::resource_support::thumbnails;
use crate::resources::function::MAX_IMAGES_VAR;
use crate::resources::{function_url, site_files};
use crate::stack::{Overrides, Stack, StackName};

const DEV_REGION: &str = "us-east-1";
/// Site pages are small; uploads go to S3, not here.
const MAX_SITE_REQUEST_BYTES: usize = 64 * 1024;

/// What `catup dev --json` prints once everything answers.
#[derive(Debug, Serialize)]
pub struct DevReady {
    pub stack: String,
    pub website_url: String,
    pub function_url: String,
    pub endpoint_url: String,
    pub site_bucket: String,
    pub images_bucket: String,
    /// `catup verify` against this dev stack, runnable as printed.
    pub verify_command: String,
}

/// Everything dev checks and binds before it starts anything.
struct Setup {
    name: StackName,
    overrides: Overrides,
    region: Region,
    frontend: Vec<site_files::SiteFile>,
    site: TcpListener,
    api: TcpListener,
}

pub async fn run(global: &GlobalArgs, args: &DevArgs) -> anyhow::Result<ExitCode> {
    if global.profile.is_some() || args.profile.is_some() {
        anyhow::bail!(
            "catup dev runs against its own emulator and uses no AWS profile: drop --profile"
        );
    }
    if global.role_arn.is_some() || args.role_arn.is_some() {
        anyhow::bail!("catup dev creates its own role in the emulator: drop --role-arn");
    }
    let (name, mut overrides) = validate_names(global)?;
    // The stub deployed to the emulator holds the cap too, so that status reads it.
    overrides.max_images = args.max_images;
    // An installed catup carries the site (there is no checkout to read), as deploy does.
    let frontend = match (&args.frontend, package::embedded::site()) {
        (None, Some(carried)) => carried,
        (dir, _) => {
            let dir = dir.clone().unwrap_or_else(default_frontend);
            super::inputs::load_frontend(&dir, args.allow_secret_looking_files)?
        }
    };
    let setup = Setup {
        name,
        overrides,
        region: Region::parse(global.region.as_deref().unwrap_or(DEV_REGION))?,
        frontend,
        site: bind(args.port, "--port").await?,
        api: bind(args.api_port, "--api-port").await?,
    };

    // Signals are caught from here on, so that Ctrl-C or SIGTERM at any moment (even during
    // start-up) stops the emulator too: it is killed when `app` is dropped.
    let stop = shutdown_signal()?;
    let app = async {
        let emulator = match &global.endpoint_url {
            Some(_) => None,
            None => {
                crate::output::progress("starting moto_server (local AWS emulator)");
                Some(Emulator::start().await?)
            }
        };
        let endpoint = match (&global.endpoint_url, &emulator) {
            (Some(url), _) => url.clone(),
            (None, Some(emulator)) => emulator.endpoint.clone(),
            (None, None) => unreachable!("an emulator is started when no endpoint is given"),
        };
        let served = serve_app(global, setup, &endpoint).await;
        drop(emulator);
        served
    };
    tokio::select! {
        served = app => served?,
        () = stop => {}
    }
    crate::output::progress("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn serve_app(global: &GlobalArgs, setup: Setup, endpoint: &str) -> anyhow::Result<()> {
    let Setup {
        name,
        overrides,
        region,
        frontend,
        site: site_listener,
        api: api_listener,
    } = setup;
    let ports = Ports {
        site: site_listener.local_addr()?.port(),
        api: api_listener.local_addr()?.port(),
    };
    let config = emulator_config(endpoint, &region).await;
    let aws = Aws::from_config(&config, region.clone());
    let account_id = aws.account_id().await?;
    // One origin, localhost: the CORS rules allow exactly it, and the website redirects
    // 127.0.0.1 there, so that a page opened either way can upload.
    let overrides = Overrides {
        website_origin: Some(ports.website_url().trim_end_matches('/').to_owned()),
        ..overrides
    };
    let ctx = Context {
        aws,
        stack: Stack::new(name, region, &account_id, &overrides)?,
        reporter: Reporter::new(global.json),
        function_read: None,
        left_alone: Vec::new(),
    };
    if let Some(other) = other_dev_serving(&ctx.aws, &ctx.stack.images_bucket, ports.site).await {
        anyhow::bail!(
            "stack '{}' on this emulator is served by another catup dev at {other}/ (its page's config.js and the images bucket's CORS point there): stop that one, or pass --stack with another name",
            ctx.stack.name.as_str()
        );
    }
    // The emulator runs no code: the function is deployed as a stub and served from here.
    let stub = async { Ok(package::stub()?) };
    deploy(&ctx, (stub, None), frontend, Some(&ports.function_url())).await?;
    let function_server = serve_function(&ctx, &config, api_listener, &ports).await?;
    let stack = &ctx.stack;
    let thumbnails = crate::local::thumbnails::serve(
        &ctx.aws,
        &config,
        &stack.images_bucket,
        stack.name.as_str(),
    )
    .await?;
    let site_server = serve_site(&ctx, site_listener, &ports);
    announce(global, &ctx.stack, endpoint, &ports)?;
    // Serves until the signal in `run` drops this future (and the servers with it).
    let _servers = (
        AbortOnDrop(function_server),
        AbortOnDrop(site_server),
        AbortOnDrop(thumbnails),
    );
    std::future::pending::<()>().await;
    Ok(())
}

/// The loopback ports dev serves the site and the function on.
struct Ports {
    site: u16,
    api: u16,
}

impl Ports {
    fn website_url(&self) -> String {
        format!("http://localhost:{}/", self.site)
    }

    fn function_url(&self) -> String {
        format!("http://localhost:{}/", self.api)
    }
}

/// Serves the function from the same library as lambda-fn, behind a local Function URL with
/// the deployed URL's CORS.
async fn serve_function(
    ctx: &Context,
    config: &aws_config::SdkConfig,
    listener: TcpListener,
    ports: &Ports,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let stack = &ctx.stack;
    let cors = function_url::describe(&ctx.aws, &stack.function_name)
        .await?
        .and_then(|url| url.cors)
        .context("the deployed Function URL has no CORS configuration")?;
    let images_bucket = stack.images_bucket.clone();
    let max_images = stack.overrides.max_images.map(|cap| cap.to_string());
    let function_config = cat_upload_fn::Config::from_lookup(|key| match key {
        "IMAGES_BUCKET" => Some(images_bucket.clone()),
        MAX_IMAGES_VAR => max_images.clone(),
        // dev makes thumbnails (local/thumbnails.rs): the gallery says so before each is made.
        thumbnails::VAR => Some("1".to_owned()),
        _ => None,
    })?;
    let app = cat_upload_fn::App::new(config, function_config)?;
    let host = format!("localhost:{}", ports.api);
    let function = Arc::new(LocalFunctionUrl::new(app, cors, host));
    Ok(tokio::spawn(serve(
        listener,
        Arc::new(move |request| {
            let function = function.clone();
            async move { function.respond(request).await }
        }),
        MAX_EVENT_BYTES,
    )))
}

/// Serves the site from the site bucket.
fn serve_site(ctx: &Context, listener: TcpListener, ports: &Ports) -> tokio::task::JoinHandle<()> {
    let website = Arc::new(LocalWebsite::new(
        ctx.aws.s3.clone(),
        ctx.stack.site_bucket.clone(),
        format!("localhost:{}", ports.site),
    ));
    tokio::spawn(serve(
        listener,
        Arc::new(move |request| {
            let website = website.clone();
            async move { website.respond(request).await }
        }),
        MAX_SITE_REQUEST_BYTES,
    ))
}

/// Prints the URLs and a verify command that runs as printed.
fn announce(
    global: &GlobalArgs,
    stack: &Stack,
    endpoint: &str,
    ports: &Ports,
) -> anyhow::Result<()> {
    let (website_url, function_url) = (ports.website_url(), ports.function_url());
    let verify_command = format!(
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION={} {} --stack {} --endpoint-url {endpoint} verify --function-url {function_url} --website-url {website_url}",
        stack.region,
        catup_program(),
        stack.name.as_str(),
    );
    let ready = DevReady {
        stack: stack.name.as_str().to_owned(),
        website_url,
        function_url,
        endpoint_url: endpoint.to_owned(),
        site_bucket: stack.site_bucket.clone(),
        images_bucket: stack.images_bucket.clone(),
        verify_command,
    };
    // A closed stdout (`catup dev | head -1`) loses these lines; dev serves on regardless.
    let mut out = std::io::stdout().lock();
    let _ = if global.json {
        writeln!(out, "{}", serde_json::to_string(&ready)?)
    } else {
        writeln!(
            out,
            "\nWebsite:      {}\nFunction URL: {} (local, CORS for the website)\nAWS emulator: {}\nCheck it:     {}\nPress Ctrl-C to stop.",
            ready.website_url, ready.function_url, ready.endpoint_url, ready.verify_command
        )
    };
    let _ = out.flush();
    Ok(())
}

async fn bind(port: u16, flag: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port}: pass another {flag} (0 picks a free port)")
        })
}

/// The origin of another `catup dev` that serves this stack from the same emulator, if one
/// is running: the images bucket's CORS allows its localhost origin, and something answers
/// there. (One that was stopped leaves the origin behind, and is taken over.)
async fn other_dev_serving(aws: &Aws, images_bucket: &str, own_port: u16) -> Option<String> {
    let cors = aws
        .s3
        .get_bucket_cors()
        .bucket(images_bucket)
        .send()
        .await
        .ok()?;
    let origins = cors
        .cors_rules()
        .iter()
        .flat_map(|r| r.allowed_origins().to_vec());
    for origin in origins {
        let port = origin
            .strip_prefix("http://localhost:")
            .and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port.filter(|p| *p != own_port) else {
            continue;
        };
        let probe = tokio::net::TcpStream::connect(("127.0.0.1", port));
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(500), probe).await {
            return Some(origin);
        }
    }
    None
}

/// The emulator's configuration: its endpoint, and the static credentials moto accepts; the
/// caller's real AWS credentials are never used or needed.
async fn emulator_config(endpoint: &str, region: &Region) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "catup-dev",
        ))
        .load()
        .await
}

/// Registers the handlers now; the future ends at the first Ctrl-C, SIGTERM or SIGHUP (the
/// terminal was closed).
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
    })
}

/// Elsewhere (Windows): Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// How to run this catup from a shell: `catup` when that is this program on PATH, else its
/// full path (e.g. target/debug/catup, run by scripts/dev).
fn catup_program() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "catup".to_owned();
    };
    match find_on_path("catup").and_then(|p| std::fs::canonicalize(p).ok()) {
        Some(found) if found == me => "catup".to_owned(),
        _ => shell_quote(&me.to_string_lossy()),
    }
}

/// Single-quoted for sh when it holds anything but plain path characters.
fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

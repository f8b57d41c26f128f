//! Fixtures shared by catup's test suites.
//!
//! [`Moto`] is a real `moto_server` on a free loopback port: tests talk to it over HTTP with
//! the real AWS SDK, never a mock of the SDK. Each test starts its own, so tests are isolated
//! and can run side by side; the process is killed when the fixture is dropped.
//!
//! Beside it: a fault proxy in front of moto ([`proxy`]), moto's request recorder, a Lambda
//! Runtime API for the real `bootstrap` ([`runtime_api`]), and checkers written from AWS's
//! documentation rather than from catup's code: policy documents ([`policy`]), presigned URLs
//! ([`sigv4`]), the function's own headers ([`cors`]).

pub mod chain;
pub mod cors;
pub mod elf;
pub mod policy;
pub mod proxy;
pub mod recorder;
pub mod runtime_api;
pub mod sigv4;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The account id moto answers for every caller.
pub const MOTO_ACCOUNT_ID: &str = "123456789012";
/// Region the fixtures use unless a test asks for another one.
pub const TEST_REGION: &str = "us-east-1";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const START_ATTEMPTS: u32 = 3;

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it answers HTTP.
    ///
    /// Panics with the install command when `moto_server` is missing: a test that needs AWS
    /// cannot run without it, and skipping silently would hide that.
    pub fn start() -> Moto {
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            // The port can be taken between probing and binding; a failed start is retried.
            let port = free_port();
            let child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                // Each moto its own recording file: tests record side by side.
                .env("MOTO_RECORDER_FILEPATH", recording_path(port))
                // AWS serves regions launched after moto's list was made; so must the emulator.
                .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start moto_server ({e}); install it with: pip install 'moto[server]'")
                });
            let mut moto = Moto { child, port };
            match moto.wait_until_ready() {
                Ok(()) => return moto,
                Err(e) => last_error = e,
            }
        }
        panic!("moto_server did not become ready: {last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK configuration pointing every client at this moto, with static test credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_in(TEST_REGION).await
    }

    pub async fn sdk_config_in(&self, region: &str) -> SdkConfig {
        sdk_config_at(&self.endpoint(), region).await
    }

    /// Environment variables that make a child process (the catup binary, a bootstrap) use
    /// this moto with test credentials, independent of the caller's environment.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", TEST_REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("moto_server exited early with {status}"));
            }
            if http_get_ok(self.port, "/moto-api/") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "no answer on port {} within {READY_TIMEOUT:?}",
            self.port
        ))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(recording_path(self.port));
    }
}

fn recording_path(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("catup-moto-recording-{port}"))
}

/// SDK configuration for an endpoint (an emulator, or a closed port to provoke failures),
/// with static test credentials and nothing read from the caller's environment or profiles.
pub async fn sdk_config_at(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(test_credentials())
        .load()
        .await
}

/// Static credentials moto accepts.
pub fn test_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "catup-testkit")
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}

/// A name unique to this process and call, for stacks and buckets that tests create, so
/// that tests sharing an emulator never collide. Lower-case letters, digits and `-` only.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id() % 100_000)
}

fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && head[9] == b'2'
}

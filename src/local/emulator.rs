//! `moto_server` on a free loopback port, behind a small shell watchdog: the watchdog reads
//! its stdin, a pipe from catup, and stops moto_server when the pipe closes. The kernel closes
//! it however catup ends (Ctrl-C, SIGHUP, even SIGKILL), so no emulator is ever orphaned.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, ChildStdin, Command};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
pub const INSTALL_HINT: &str =
    "run ./scripts/dev from catup's source tree (it installs moto into .venv), \
or python3 -m venv .venv && .venv/bin/pip install 'moto[server]' and put .venv/bin on PATH";

/// `$1` is moto_server, `$2` the port. Ends when stdin closes (catup ended) or when
/// moto_server exits by itself; either way moto_server is stopped.
/// (sh gives a background job /dev/null as stdin: the pipe is passed on as fd 3.)
const WATCHDOG: &str = r#""$1" -H 127.0.0.1 -p "$2" </dev/null >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null' EXIT
trap 'exit 0' HUP INT TERM
exec 3<&0
( read -r _ <&3; kill $moto 2>/dev/null ) &
wait $moto
"#;

pub struct Emulator {
    /// The watchdog shell; moto_server is its child.
    child: Child,
    /// Closing it stops the emulator.
    lifeline: Option<ChildStdin>,
    pub endpoint: String,
}

impl Emulator {
    /// Starts moto_server and waits until it answers; nothing is left running on failure.
    pub async fn start() -> anyhow::Result<Emulator> {
        if cfg!(not(unix)) {
            // The watchdog is a POSIX shell script.
            bail!("catup dev starts moto_server on macOS and Linux only (on Windows, run catup in WSL), or pass --endpoint-url of a moto_server you started");
        }
        let Some(moto_server) = find_on_path("moto_server") else {
            bail!("moto_server is not installed (the local AWS emulator): {INSTALL_HINT}");
        };
        let port = free_port()?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("catup-emulator")
            .arg(&moto_server)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: a terminal's Ctrl-C or hang-up reaches catup, which then
        // stops the emulator in order, instead of both racing.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn().context("start moto_server")?;
        let mut emulator = Emulator {
            lifeline: child.stdin.take(),
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        emulator.wait_until_ready().await?;
        Ok(emulator)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()?;
        let probe = format!("{}/moto-api/", self.endpoint);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto_server exited at start ({status}); try running it by hand: moto_server -p 5055");
            }
            if let Ok(response) = client.get(&probe).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "moto_server did not answer on {} within {READY_TIMEOUT:?}",
            self.endpoint
        )
    }
}

impl Drop for Emulator {
    /// Closes the lifeline and waits (at most a few seconds) until the watchdog has stopped
    /// moto_server, so that the emulator is gone when catup exits. Blocking: this runs once,
    /// as catup stops.
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The first executable `name` on PATH, as a shell finds it.
pub fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .context("find a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

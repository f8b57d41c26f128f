//! `moto_server` as a child process on a free loopback port, stopped when dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
pub const INSTALL_HINT: &str = "pip install 'moto[server]'";

pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    /// Starts moto_server and waits until it answers; nothing is left running on failure.
    pub async fn start() -> anyhow::Result<Emulator> {
        let port = free_port()?;
        let child = match Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("moto_server is not installed (the local AWS emulator): {INSTALL_HINT}")
            }
            Err(e) => return Err(e).context("start moto_server"),
        };
        let mut emulator = Emulator {
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
                bail!("moto_server exited at start ({status}); try running it by hand: moto_server -p 5000");
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

    /// Stops the emulator and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .context("find a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

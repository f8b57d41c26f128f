//! The test DSL: a `World` is one moto_server, one stack name and a tiny bootstrap binary;
//! `world.catup(&[...])` runs the real binary against it.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_config::SdkConfig;
use catup_testkit::{elf, unique_name, Moto, TEST_REGION};
use serde_json::Value;

/// What a lab account's LabRole trusts (Lambda among other services).
pub const LAB_ROLE_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;

pub struct World {
    pub moto: Moto,
    pub stack: String,
    pub region: String,
    pub dir: PathBuf,
    pub bootstrap: PathBuf,
}

/// What one run of catup did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "catup failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Failed with exit code `code` and a one-line error naming `needle`.
    #[track_caller]
    pub fn fails_with(self, code: i32, needle: &str) -> Run {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let error_lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect();
        assert_eq!(
            error_lines.len(),
            1,
            "one error line expected:\n{}",
            self.stderr
        );
        assert!(
            error_lines[0].contains(needle),
            "error should mention {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl World {
    pub fn new() -> World {
        World::in_region(TEST_REGION)
    }

    pub fn in_region(region: &str) -> World {
        let stack = unique_name("t");
        let dir = std::env::temp_dir().join(format!("catup-test-{stack}"));
        std::fs::create_dir_all(&dir).unwrap();
        // A real x86_64 ELF header needing glibc 2.17 and 2.34, like a Rust binary built on
        // Debian 12: small, so tests zip kilobytes, not megabytes.
        let bootstrap = dir.join("bootstrap");
        std::fs::write(
            &bootstrap,
            elf::build(&elf::ElfSpec::x86_64_needing(&[(2, 17), (2, 34)])),
        )
        .unwrap();
        World {
            moto: Moto::start(),
            stack,
            region: region.to_owned(),
            dir,
            bootstrap,
        }
    }

    /// A second stack in the same emulator.
    pub fn other_stack(&self) -> String {
        unique_name("u")
    }

    /// Runs `catup --stack <stack> ARGS` with moto's endpoint and test credentials only.
    pub fn catup(&self, args: &[&str]) -> Run {
        self.catup_as(&self.stack, args)
    }

    pub fn catup_as(&self, stack: &str, args: &[&str]) -> Run {
        self.catup_via(&self.moto.endpoint(), stack, args)
    }

    /// The environment that points catup at `endpoint` (moto, or a proxy in front of it).
    pub fn env_via(&self, endpoint: &str) -> Vec<(&'static str, String)> {
        let mut env: Vec<(&str, String)> = self.moto.env();
        env.retain(|(k, _)| *k != "AWS_REGION" && *k != "AWS_ENDPOINT_URL");
        env.push(("AWS_REGION", self.region.clone()));
        env.push(("AWS_ENDPOINT_URL", endpoint.to_owned()));
        env
    }

    /// `catup --stack STACK ARGS` with every AWS call sent to `endpoint`.
    pub fn catup_via(&self, endpoint: &str, stack: &str, args: &[&str]) -> Run {
        run_catup(
            &self.dir,
            &self.env_via(endpoint),
            &[&["--stack", stack], args].concat(),
        )
    }

    /// `catup --stack <stack> ARGS` via `endpoint` (a scripted proxy) with every wait for AWS to
    /// settle shrunk a hundredfold (CATUP_SETTLE_SCALE), so that minutes take seconds.
    pub fn catup_settling_via(&self, endpoint: &str, args: &[&str]) -> Run {
        let mut env = self.env_via(endpoint);
        env.push(("CATUP_SETTLE_SCALE", "0.01".into()));
        run_catup(
            &self.dir,
            &env,
            &[&["--stack", self.stack.as_str()], args].concat(),
        )
    }

    /// Starts `catup --stack STACK ARGS` via `endpoint` without waiting for it.
    pub fn spawn_catup_via(
        &self,
        endpoint: &str,
        stack: &str,
        args: &[&str],
    ) -> std::process::Child {
        catup_command(
            &self.dir,
            &self.env_via(endpoint),
            &[&["--stack", stack], args].concat(),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start catup")
    }

    /// `deploy --json` with the tiny bootstrap; must succeed.
    pub fn deploy(&self) -> Value {
        self.deploy_as(&self.stack, &[])
    }

    pub fn deploy_as(&self, stack: &str, extra: &[&str]) -> Value {
        let bootstrap = self.bootstrap.to_str().unwrap();
        let args = [&["deploy", "--json", "--bootstrap", bootstrap], extra].concat();
        self.catup_as(stack, &args).ok().json()
    }

    pub async fn sdk(&self) -> SdkConfig {
        self.moto.sdk_config_in(&self.region).await
    }

    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub async fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk().await)
    }

    /// A role of the account's own, as a lab account has (LabRole); its ARN.
    pub async fn lab_role(&self) -> String {
        self.role_named("LabRole").await
    }

    /// A role of the account's own with this name (IAM allows `+=,.@_-` in it); its ARN.
    pub async fn role_named(&self, name: &str) -> String {
        let created = self
            .iam()
            .await
            .create_role()
            .role_name(name)
            .assume_role_policy_document(LAB_ROLE_TRUST)
            .send()
            .await
            .expect("create LabRole");
        created.role.expect("the created role").arn
    }

    /// The mutating calls moto recorded, each as one line.
    pub async fn recorded_mutation_lines(&self) -> Vec<String> {
        let calls = self.moto.recorded_mutations().await;
        calls.iter().map(|c| c.to_string()).collect()
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk().await)
    }

    pub async fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk().await)
    }

    pub fn images_bucket(&self) -> String {
        self.bucket_of(&self.stack, "images")
    }

    pub fn site_bucket(&self) -> String {
        self.bucket_of(&self.stack, "site")
    }

    pub fn bucket_of(&self, stack: &str, kind: &str) -> String {
        format!(
            "{stack}-{kind}-{}-{}",
            catup_testkit::MOTO_ACCOUNT_ID,
            self.region
        )
    }

    pub fn function(&self) -> String {
        format!("{}-api", self.stack)
    }

    /// The function's role: IAM is global, so its name holds the region.
    pub fn role(&self) -> String {
        self.role_of(&self.stack)
    }

    pub fn role_of(&self, stack: &str) -> String {
        format!("{stack}-api-{}-role", self.region)
    }

    /// A copy of the repository's frontend/ that a test may change.
    pub fn frontend_copy(&self) -> PathBuf {
        let copy = self.dir.join("frontend");
        std::fs::create_dir_all(&copy).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend");
        for entry in std::fs::read_dir(source).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
        }
        copy
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the catup binary with exactly this environment (nothing of the caller's AWS
/// configuration leaks in: no profile files, no instance metadata).
pub fn run_catup(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Run {
    let out = catup_command(dir, env, args).output().expect("run catup");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn catup_command(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_catup"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(std::process::Stdio::null());
    command
}

/// The `state` of each resource of a deploy/status/teardown JSON report, by kind.
pub fn states(report: &Value) -> Vec<(String, String)> {
    report["resources"]
        .as_array()
        .expect("resources array")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Asserts every resource of the report is in `state`, and that all seven are listed.
#[track_caller]
pub fn assert_all(report: &Value, state: &str) {
    let states = states(report);
    assert_eq!(states.len(), 7, "{report:#}");
    for (kind, s) in &states {
        assert_eq!(s, state, "{kind} in {report:#}");
    }
}

/// Asserts the state and detail of one resource of a report.
#[track_caller]
pub fn assert_state(report: &Value, kind: &str, state: &str, detail: &str) {
    assert_eq!(
        detail_of(report, kind),
        (state.to_owned(), detail.to_owned()),
        "{kind} in {report:#}"
    );
}

pub fn detail_of(report: &Value, kind: &str) -> (String, String) {
    let r = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {report:#}"));
    (
        r["state"].as_str().unwrap().to_owned(),
        r["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

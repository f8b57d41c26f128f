//! What a newcomer's machine throws at catup before the first AWS call: endpoints that are
//! empty, refused, silent or not AWS; credentials that are missing, in an SSO profile that is
//! not logged in, behind a hanging credential_process, or shadowed by the environment.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::{run_catup, Run, World};

/// moto's environment without some variables, plus others.
fn env_without(
    w: &World,
    drop: &[&str],
    add: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = w
        .moto
        .env()
        .into_iter()
        .filter(|(k, _)| !drop.contains(k))
        .collect();
    env.extend(add.iter().cloned());
    env
}

/// Exactly one line on stderr: the error (no SDK chain dump, no WARN lines before it).
#[track_caller]
fn one_line(run: &Run) {
    assert_eq!(run.stderr.lines().count(), 1, "stderr:\n{}", run.stderr);
}

#[track_caller]
fn within(started: Instant, limit: Duration) {
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_refused_endpoint_fails_at_once_naming_the_url() {
    let w = World::new();
    let closed = format!("http://127.0.0.1:{}", catup_testkit::free_port());
    let started = Instant::now();
    let run = w
        .catup(&["--endpoint-url", &closed, "status"])
        .fails_with(1, &format!("cannot reach the AWS endpoint {closed}"));
    within(started, Duration::from_secs(2));
    assert!(run.stderr.contains("start moto_server"), "{}", run.stderr);
}

/// A stopped emulator or a hung proxy: connections are accepted, nothing is ever answered.
#[tokio::test]
async fn a_silent_endpoint_fails_in_seconds_naming_the_url() {
    let w = World::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    w.catup(&["--endpoint-url", &silent, "status"]).fails_with(
        1,
        &format!("the AWS endpoint {silent} accepted the connection but did not answer"),
    );
    within(started, Duration::from_secs(30));
}

/// A plain web server (the wrong port, a dev server) answers, but not as AWS does.
#[tokio::test]
async fn an_endpoint_that_is_not_aws_is_called_so() {
    let w = World::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let web = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
            );
        }
    });
    let run = w
        .catup(&["--endpoint-url", &web, "status"])
        .fails_with(1, "does not look like AWS or an emulator");
    assert!(
        run.stderr.contains(&web) && run.stderr.contains("HTTP 404"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_empty_endpoint_is_unset_not_a_crash() {
    let w = World::new();
    // AWS_ENDPOINT_URL= (a shell that cleared it) with the flag giving the emulator.
    let env = env_without(
        &w,
        &["AWS_ENDPOINT_URL"],
        &[("AWS_ENDPOINT_URL", String::new())],
    );
    let run = run_catup(
        &w.dir,
        &env,
        &[
            "--stack",
            &w.stack,
            "--endpoint-url",
            &w.moto.endpoint(),
            "status",
        ],
    );
    assert_eq!(run.code, 3, "not deployed, no panic:\n{}", run.stderr);
    // --endpoint-url '' leaves the environment's endpoint in charge.
    let run = w.catup(&["--endpoint-url", "", "status"]);
    assert_eq!(run.code, 3, "not deployed, no panic:\n{}", run.stderr);

    // Empty and nothing else named: the next source (here the profile's endpoint_url) is
    // used, as when the variable is unset; the SDK's endpoint resolver would panic on "".
    let config = w.dir.join("aws-config-with-endpoint");
    let profile = format!("[default]\nendpoint_url = {}\n", w.moto.endpoint());
    std::fs::write(&config, profile).unwrap();
    let env = env_without(
        &w,
        &["AWS_ENDPOINT_URL"],
        &[
            ("AWS_ENDPOINT_URL", String::new()),
            ("AWS_CONFIG_FILE", config.display().to_string()),
        ],
    );
    let run = run_catup(&w.dir, &env, &["--stack", &w.stack, "status"]);
    assert_eq!(run.code, 3, "not deployed, no panic:\n{}", run.stderr);
}

#[tokio::test]
async fn a_non_http_endpoint_is_refused_before_any_call() {
    let w = World::new();
    let started = Instant::now();
    let run = w
        .catup(&["--endpoint-url", "ftp://127.0.0.1:21", "status"])
        .fails_with(1, "invalid AWS endpoint URL 'ftp://127.0.0.1:21'");
    one_line(&run);
    within(started, Duration::from_secs(1));
}

/// No credentials anywhere, and the instance metadata service probed (and refused) as on a
/// laptop: one line that says what to do, no SDK dump or WARN lines.
#[tokio::test]
async fn no_credentials_is_one_line() {
    let w = World::new();
    let env = env_without(
        &w,
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        &[
            ("AWS_EC2_METADATA_DISABLED", "false".to_owned()),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                format!("http://127.0.0.1:{}", catup_testkit::free_port()),
            ),
        ],
    );
    let run = run_catup(&w.dir, &env, &["--stack", &w.stack, "status"])
        .fails_with(1, "no AWS credentials found: run `aws configure`");
    one_line(&run);
    // -v shows what the chain tried.
    let run = run_catup(&w.dir, &env, &["--stack", &w.stack, "-v", "status"]);
    assert!(run.stderr.contains("credentials chain"), "{}", run.stderr);
}

#[tokio::test]
async fn an_sso_profile_that_is_not_logged_in_says_aws_sso_login() {
    let w = World::new();
    let config = w.dir.join("sso-config");
    std::fs::write(
        &config,
        "[profile student]\nsso_session = course\nsso_account_id = 123456789012\n\
         sso_role_name = Student\nregion = us-east-1\n\n[sso-session course]\n\
         sso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    let env = env_without(
        &w,
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        &[("AWS_CONFIG_FILE", config.display().to_string())],
    );
    let run = run_catup(
        &w.dir,
        &env,
        &["--stack", &w.stack, "--profile", "student", "status"],
    )
    .fails_with(1, "run `aws sso login --profile student`");
    one_line(&run);
}

#[tokio::test]
async fn a_malformed_config_file_is_named_not_taken_for_a_missing_region() {
    let w = World::new();
    let config = w.dir.join("broken-config");
    std::fs::write(&config, "[profile cats\nregion = us-east-1\n").unwrap();
    let env = env_without(
        &w,
        &["AWS_REGION"],
        &[("AWS_CONFIG_FILE", config.display().to_string())],
    );
    run_catup(&w.dir, &env, &["--stack", &w.stack, "status"])
        .fails_with(1, "cannot read the AWS config files");
}

/// `--profile` wins over keys in the environment (as with the AWS CLI), and a profile that
/// does not exist is an error naming it, not a silent fall-back to the environment's account.
#[tokio::test]
async fn profile_flag_beats_environment_keys() {
    let w = World::new();
    let marker = w.dir.join("profile-was-used");
    let config = w.dir.join("profiles");
    std::fs::write(
        &config,
        format!(
            "[profile other]\nregion = us-east-1\ncredential_process = sh -c \"touch '{}'; echo '{{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"AKIAOTHER\\\", \\\"SecretAccessKey\\\": \\\"other\\\"}}'\"\n",
            marker.display()
        ),
    )
    .unwrap();
    let env = env_without(
        &w,
        &[],
        &[("AWS_CONFIG_FILE", config.display().to_string())],
    );
    let run = run_catup(
        &w.dir,
        &env,
        &["--stack", &w.stack, "--profile", "other", "status"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(marker.exists(), "the profile's credentials were not used");

    run_catup(
        &w.dir,
        &env,
        &["--stack", &w.stack, "--profile", "nosuch", "status"],
    )
    .fails_with(1, "AWS profile 'nosuch' is not in ~/.aws/config")
    .stderr
    .contains("other")
    .then_some(())
    .expect("the known profiles are listed");
}

#[tokio::test]
async fn a_hanging_credential_process_is_bounded() {
    let w = World::new();
    let config = w.dir.join("hanging");
    std::fs::write(
        &config,
        "[profile stuck]\nregion = us-east-1\ncredential_process = sleep 40\n",
    )
    .unwrap();
    let env = env_without(
        &w,
        &[],
        &[("AWS_CONFIG_FILE", config.display().to_string())],
    );
    let started = Instant::now();
    run_catup(
        &w.dir,
        &env,
        &["--stack", &w.stack, "--profile", "stuck", "status"],
    )
    .fails_with(1, "loading AWS credentials took over 15 s");
    within(started, Duration::from_secs(30));
}

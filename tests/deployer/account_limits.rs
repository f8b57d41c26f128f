//! What company and lab accounts forbid, which moto allows by default: the account's S3 Block
//! Public Access (moto models it, through S3 Control), roles that may not be created, and
//! organization policies against public Function URLs. catup stops with one line that says
//! whose setting it is and what to do, before any change where it can know in advance.

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use catup::aws::Aws;
use catup::region::Region;
use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};

use crate::common::{detail_of, World};

/// Sets the account's Block Public Access (the S3 console's "for this account" setting).
async fn block_account(w: &World, policy: bool, restrict: bool) {
    let aws = Aws::from_config(&w.sdk().await, Region::parse(&w.region).unwrap());
    aws.s3control
        .put_public_access_block()
        .account_id(catup_testkit::MOTO_ACCOUNT_ID)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(policy)
                .restrict_public_buckets(restrict)
                .build(),
        )
        .send()
        .await
        .expect("set the account's Block Public Access in moto");
}

fn deploy_args(w: &World) -> Vec<&str> {
    vec![
        "deploy",
        "--json",
        "--bootstrap",
        w.bootstrap.to_str().unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_block_public_policy_stops_deploy_before_any_change() {
    let w = World::new();
    block_account(&w, true, false).await;
    w.moto.start_recording().await;
    w.catup(&deploy_args(&w)).fails_with(
        1,
        "the account's S3 Block Public Access setting (BlockPublicPolicy)",
    );
    let changes = w.moto.recorded_mutations().await;
    assert!(changes.is_empty(), "AWS was changed: {changes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_restrict_public_buckets_alone_is_drift_for_status_and_stops_deploy() {
    let w = World::new();
    w.deploy();
    w.catup(&["status", "--json"]).ok();
    block_account(&w, false, true).await;

    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 4, "{}", status.stderr);
    let (state, detail) = detail_of(&status.json(), "site_bucket");
    assert_eq!(state, "drifted");
    assert!(detail.contains("RestrictPublicBuckets"), "{detail}");

    w.moto.start_recording().await;
    let run = w
        .catup(&deploy_args(&w))
        .fails_with(1, "RestrictPublicBuckets");
    assert!(run
        .stderr
        .contains("s3control put-public-access-block --account-id"));
    assert!(w.moto.recorded_mutations().await.is_empty());
}

/// A profile written by `aws login` (the AWS CLI's browser sign-in): its `login_session` and
/// the cached token are read by aws-config's `credentials-login` feature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_written_by_aws_login_is_used() {
    use sha2::Digest;
    let w = World::new();
    let session = format!(
        "arn:aws:iam::{}:user/student",
        catup_testkit::MOTO_ACCOUNT_ID
    );
    let config = w.dir.join("aws-login-config");
    std::fs::write(
        &config,
        format!("[profile student]\nlogin_session = {session}\nregion = us-east-1\n"),
    )
    .unwrap();
    let cache = w.dir.join("login-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let token = serde_json::json!({
        "accessToken": {
            "accessKeyId": "ASIAEXAMPLELOGIN",
            "secretAccessKey": "login-secret",
            "sessionToken": "login-session-token",
            "accountId": catup_testkit::MOTO_ACCOUNT_ID,
            "expiresAt": "2099-01-01T00:00:00Z"
        },
        "tokenType": "aws_sigv4",
        "refreshToken": "opaque",
        "idToken": "header.payload.signature",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nunused while the token is fresh\n-----END EC PRIVATE KEY-----\n"
    });
    let name = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    std::fs::write(cache.join(format!("{name}.json")), token.to_string()).unwrap();

    let env = vec![
        ("AWS_ENDPOINT_URL", w.moto.endpoint()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap().to_owned()),
        (
            "AWS_LOGIN_CACHE_DIRECTORY",
            cache.to_str().unwrap().to_owned(),
        ),
    ];
    let run = crate::common::run_catup(
        &w.dir,
        &env,
        &[
            "--stack",
            &w.stack,
            "--profile",
            "student",
            "status",
            "--json",
        ],
    );
    // Not deployed (3), which needs the account id: STS was called with the login's keys.
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.json()["deployed"], false);
}

/// What IAM answers a student lab's voclabs role for CreateRole / PutRolePolicy.
fn lab_denies(w: &World, action: &str) -> Answer {
    Answer::error(
        403,
        "AccessDenied",
        format!(
            "User: arn:aws:sts::{account}:assumed-role/voclabs/user3456789=student is not authorized to perform: iam:{action} on resource: arn:aws:iam::{account}:role/{}-role with an explicit deny in an identity-based policy",
            w.function(),
            account = catup_testkit::MOTO_ACCOUNT_ID,
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_account_denying_roles_is_told_to_pass_role_arn() {
    for action in ["CreateRole", "PutRolePolicy"] {
        let w = World::new();
        let proxy = FaultProxy::start(
            &w.moto.endpoint(),
            Policy::Script(vec![Scripted::new(
                On::iam(action),
                usize::MAX,
                lab_denies(&w, action),
            )]),
        )
        .await;
        let run = w.catup_via(&proxy.endpoint(), &w.stack, &deploy_args(&w));
        let run = run.fails_with(1, &format!("is not authorized to perform: iam:{action}"));
        assert!(
            run.stderr
                .contains("pass --role-arn with an existing role such as LabRole"),
            "{}",
            run.stderr
        );
        assert_eq!(proxy.answered(0), 1, "{action}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_forbidding_public_urls_is_named() {
    let w = World::new();
    let refused = Answer::error(
        400,
        "PublicPolicyException",
        "Lambda prevented your policy from being applied because it would grant public access to your function. To apply a public policy, turn off block public access for your function or account.",
    );
    let add_permission = On::lambda(
        "POST",
        &format!("/2015-03-31/functions/{}/policy", w.function()),
    );
    let proxy = FaultProxy::start(
        &w.moto.endpoint(),
        Policy::Script(vec![Scripted::new(add_permission, usize::MAX, refused)]),
    )
    .await;
    let run = w.catup_via(&proxy.endpoint(), &w.stack, &deploy_args(&w));
    let run = run.fails_with(1, "PublicPolicyException");
    let hint = "an organization policy (or the account's Lambda block public access setting) forbids public Function URLs";
    assert!(run.stderr.contains(hint), "{}", run.stderr);
    assert_eq!(proxy.answered(0), 1, "refused once, not retried");
}

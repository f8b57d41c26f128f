//! The Function URL: public (auth NONE), CORS for the website origin only, and the two
//! resource-policy statements a public URL needs since October 2025 (InvokeFunctionUrl, and
//! InvokeFunction when invoked via the URL), each added once.

use std::time::Duration;

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::types::{Cors, FunctionUrlAuthType};

use crate::aws::{
    error_code, reason, retry_while_settling, seconds, Aws, Progress, SdkResultExt, Settling,
};
use crate::reconcile::Kind;
use crate::reconcile::{aspects, Change, Outcome};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::resources::function;
use crate::stack::Stack;
use crate::stack_resources::Found;
use crate::stack_resources::Observed;
use crate::teardown_plan::{Step, TeardownAction};

pub mod permissions;
pub use permissions::{Permission, Statement, PERMISSIONS};

pub const MAX_AGE_SECONDS: i32 = 300;
/// How long Lambda may stay busy with a concurrent update of the function.
const CONCURRENT_UPDATE: Settling =
    Settling::up_to(Duration::from_secs(60), Duration::from_secs(5));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCors {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub max_age: Option<i32>,
    pub allow_credentials: bool,
}

impl UrlCors {
    fn normalised(mut self) -> UrlCors {
        self.methods
            .iter_mut()
            .for_each(|m| m.make_ascii_uppercase());
        self.headers
            .iter_mut()
            .for_each(|h| h.make_ascii_lowercase());
        self.origins.sort();
        self.methods.sort();
        self.headers.sort();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub function_name: String,
    pub cors: UrlCors,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub url: String,
    pub auth_none: bool,
    pub cors: Option<UrlCors>,
    /// Every statement of the function's resource policy.
    pub statements: Vec<Statement>,
}

pub fn desired(stack: &Stack) -> Desired {
    Desired {
        function_name: stack.function_name.clone(),
        cors: UrlCors {
            origins: vec![stack.site_origin()],
            methods: vec!["GET".into(), "POST".into()],
            headers: vec!["content-type".into()],
            max_age: Some(MAX_AGE_SECONDS),
            allow_credentials: false,
        }
        .normalised(),
    }
}

pub async fn describe(aws: &Aws, function: &str) -> anyhow::Result<Option<Actual>> {
    let (config, statements) =
        tokio::try_join!(read_config(aws, function), permissions::read(aws, function))?;
    let Some(config) = config else {
        return Ok(None);
    };
    Ok(Some(Actual {
        url: config.function_url,
        auth_none: config.auth_type == FunctionUrlAuthType::None,
        cors: config.cors.map(|c| {
            UrlCors {
                origins: c.allow_origins().to_vec(),
                methods: c.allow_methods().to_vec(),
                headers: c.allow_headers().to_vec(),
                max_age: c.max_age(),
                allow_credentials: c.allow_credentials().unwrap_or(false),
            }
            .normalised()
        }),
        statements,
    }))
}

/// Whether the function has a URL (one call; teardown needs no more).
pub async fn exists(aws: &Aws, function: &str) -> anyhow::Result<bool> {
    Ok(read_config(aws, function).await?.is_some())
}

async fn read_config(
    aws: &Aws,
    function: &str,
) -> anyhow::Result<
    Option<aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigOutput>,
> {
    aws.lambda
        .get_function_url_config()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read Function URL of {function}"))
}

aspects! {
    /// What can differ on the Function URL.
    Aspect {
        Auth => "auth",
        Cors => "cors",
        Permissions => "permissions",
        PublicPermissions => "public permissions",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    let Some(actual) = actual else {
        return Change::Create;
    };
    Change::from_checks([
        (Aspect::Auth, !actual.auth_none),
        (Aspect::Cors, actual.cors.as_ref() != Some(&desired.cors)),
        (
            Aspect::Permissions,
            !permissions::missing(&actual.statements).is_empty(),
        ),
        (
            Aspect::PublicPermissions,
            !permissions::extra_public_invokes(&actual.statements).is_empty(),
        ),
    ])
}

fn cors(desired: &Desired) -> Cors {
    let c = &desired.cors;
    Cors::builder()
        .set_allow_origins(Some(c.origins.clone()))
        .set_allow_methods(Some(c.methods.clone()))
        .set_allow_headers(Some(c.headers.clone()))
        .set_max_age(c.max_age)
        .allow_credentials(c.allow_credentials)
        .build()
}

/// Applies the change; returns the outcome and the URL. `url_known` gets the URL as soon as
/// it is, before the permissions are added (config.js needs the URL, not the permissions).
pub async fn apply(
    aws: &Aws,
    desired: &Desired,
    actual: Option<&Actual>,
    change: &Change<Aspect>,
    progress: Progress<'_>,
    url_known: impl FnOnce(&str),
) -> anyhow::Result<(Outcome, String)> {
    let function = desired.function_name.as_str();
    let url = match actual {
        None => {
            create_or_read_back(
                &format!("create Function URL of {function}"),
                progress,
                || {
                    let request = aws
                        .lambda
                        .create_function_url_config()
                        .function_name(function)
                        .auth_type(FunctionUrlAuthType::None)
                        .cors(cors(desired));
                    async move { request.send().await.map(|created| created.function_url) }
                },
                || async {
                    let config = read_config(aws, function).await.map_err(Busy::Failed)?;
                    Ok(config.map(|c| c.function_url))
                },
            )
            .await?
        }
        Some(actual) if change.differs(Aspect::Auth) || change.differs(Aspect::Cors) => {
            aws.lambda
                .update_function_url_config()
                .function_name(function)
                .auth_type(FunctionUrlAuthType::None)
                .cors(cors(desired))
                .send()
                .await
                .or_fail(|| format!("update Function URL of {function}"))?;
            actual.url.clone()
        }
        Some(actual) => actual.url.clone(),
    };
    url_known(&url);
    let existing = actual.map(|a| a.statements.as_slice()).unwrap_or_default();
    for permission in permissions::missing(existing) {
        permissions::add(aws, function, existing, permission, progress).await?;
    }
    for sid in permissions::extra_public_invokes(existing) {
        permissions::remove(aws, function, &sid).await?;
    }
    Ok((change.outcome(), url))
}

/// Why a create is not done yet.
pub(crate) enum Busy {
    /// Lambda answered ResourceConflictException and the thing is not there: a concurrent
    /// update holds the function. The error's reason.
    Conflict(String),
    Failed(anyhow::Error),
}

/// Creates something Lambda answers ResourceConflictException for both when it exists (a
/// first attempt whose answer was lost) and while another update is in progress: on a
/// conflict, `read_back` says which; while it is absent, the create is retried.
pub(crate) async fn create_or_read_back<T, E, Create, Back>(
    what: &str,
    progress: Progress<'_>,
    create: impl Fn() -> Create,
    read_back: impl Fn() -> Back,
) -> anyhow::Result<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    Create: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    Back: std::future::Future<Output = Result<Option<T>, Busy>>,
{
    let attempt = || {
        let (create, read_back) = (&create, &read_back);
        async move {
            match create().await {
                Ok(done) => Ok(done),
                Err(e) if error_code(&e) == Some("ResourceConflictException") => {
                    read_back().await?.ok_or_else(|| Busy::Conflict(reason(&e)))
                }
                Err(e) => Err(Busy::Failed(anyhow::anyhow!(
                    "{what}: {}{}",
                    reason(&e),
                    hint(error_code(&e))
                ))),
            }
        }
    };
    let done = retry_while_settling(
        CONCURRENT_UPDATE,
        |busy| matches!(busy, Busy::Conflict(_)),
        |delay, attempt| {
            progress(format!(
                "{what}: Lambda is busy with another update of the function (ResourceConflictException), retrying in {} (attempt {attempt})",
                seconds(delay)
            ))
        },
        attempt,
    )
    .await;
    done.map_err(|busy| match busy {
        Busy::Conflict(why) => anyhow::anyhow!("{what}: {why}"),
        Busy::Failed(e) => e,
    })
}

/// What to do about a refusal that is the account's policy, not catup's mistake.
fn hint(code: Option<&str>) -> &'static str {
    match code {
        Some("PublicPolicyException") => {
            "; an organization policy (or the account's Lambda block public access setting) forbids public Function URLs: ask the account's administrator to allow them, or deploy to an account without that policy"
        }
        _ => "",
    }
}

/// The function's public URL, with its CORS and permissions.
pub struct FunctionUrl;

impl Resource for FunctionUrl {
    const KIND: Kind = Kind::FunctionUrl;
    const NEEDS: &'static [Need] = &[Need::Done(Kind::Function)];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(desired(stack))
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        describe(read.aws, &read.stack.function_name).await
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        diff(&plan.desired.url, plan.observed.url.as_ref())
    }

    /// Its URL once it has one.
    fn name(stack: &Stack, observed: &Observed) -> String {
        match &observed.url {
            Some(actual) => actual.url.clone(),
            None => stack.function_name.clone(),
        }
    }

    /// Publishes its address as soon as it is known, before the permissions (config.js
    /// needs the URL, not the permissions).
    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let progress = |message: String| a.progress(message);
        let (desired, actual) = (&a.desired.url, a.observed.url.as_ref());
        let known = |url: &str| a.publish(Kind::FunctionUrl, url);
        apply(a.aws, desired, actual, &a.changes.url, &progress, known).await?;
        Ok(())
    }

    /// The URL the site calls: `catup dev`'s local one when it serves the function itself.
    fn applied_name(a: &Applying<'_>) -> String {
        let published = a.address(Kind::FunctionUrl).unwrap_or_default();
        a.site_api_url.unwrap_or(&published).to_owned()
    }

    /// Whether it exists.
    type Found = bool;

    async fn find(read: &Reading<'_>) -> anyhow::Result<bool> {
        exists(read.aws, &read.stack.function_name).await
    }

    /// The URL is the function's: it goes with it, or stays with it.
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        let action = match (function::teardown_action(stack, found), found.url) {
            (TeardownAction::Refused { message, .. }, true) => TeardownAction::Refused {
                why: "its function is not this stack's".into(),
                message,
            },
            (_, url) => TeardownAction::of_existence(url),
        };
        Ok(vec![Step::new(
            Kind::FunctionUrl,
            &stack.function_name,
            action,
        )])
    }

    const DELETED_WITH: Option<Kind> = Some(Kind::Function);

    /// Deleting the function deletes its URL and the URL's permissions with it.
    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let url = d.plan.step(Kind::FunctionUrl);
        if !d.plan.step(Kind::Function).deletes() {
            d.absent(url);
            return Ok(());
        }
        if gone.await {
            let outcome = Outcome::of_deletion(url.deletes());
            d.reporter.resource(url.kind, &url.name, &outcome);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Desired {
        let stack = Stack::example("eu-west-2");
        desired(&stack)
    }

    fn in_sync(d: &Desired) -> Actual {
        Actual {
            url: "https://x.lambda-url.eu-west-2.on.aws/".into(),
            auth_none: true,
            cors: Some(d.cors.clone()),
            statements: PERMISSIONS.iter().map(Permission::statement).collect(),
        }
    }

    #[test]
    fn cors_is_the_site_origin_exactly_with_get_and_post() {
        let d = d();
        assert_eq!(
            d.cors.origins,
            vec!["http://cats-site-123456789012-eu-west-2.s3-website.eu-west-2.amazonaws.com"]
        );
        assert_eq!(d.cors.methods, vec!["GET", "POST"]);
        assert_eq!(d.cors.headers, vec!["content-type"]);
        assert_eq!(d.cors.max_age, Some(300));
    }

    #[test]
    fn diff_finds_auth_cors_and_missing_statements() {
        let d = d();
        assert_eq!(diff(&d, None), Change::Create);
        assert_eq!(diff(&d, Some(&in_sync(&d))), Change::InSync);

        let mut a = in_sync(&d);
        a.cors.as_mut().unwrap().origins = vec!["*".into()];
        a.auth_none = false;
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec![Aspect::Auth, Aspect::Cors])
        );

        let mut a = in_sync(&d);
        a.statements.remove(1);
        assert_eq!(permissions::missing(&a.statements), vec![PERMISSIONS[1]]);
        assert_eq!(
            diff(&d, Some(&a)),
            Change::Update(vec![Aspect::Permissions])
        );

        let mut a = in_sync(&d);
        a.statements[0].action = "lambda:InvokeFunction".into();
        assert_eq!(permissions::missing(&a.statements), vec![PERMISSIONS[0]]);

        let mut a = in_sync(&d);
        a.statements[1].conditions.clear();
        assert_eq!(permissions::missing(&a.statements), vec![PERMISSIONS[1]]);
    }
}

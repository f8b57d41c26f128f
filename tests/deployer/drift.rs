//! Drift that matters on real AWS: what makes the Function URL public is its statements'
//! principal and conditions, not their ids; and what a browser caches is the site's headers.

use aws_sdk_lambda::types::FunctionUrlAuthType;

use crate::common::{assert_all, assert_state, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_statements_are_compared_on_principal_and_condition_not_only_their_ids() {
    let w = World::new();
    w.deploy();
    let lambda = w.lambda().await;
    // Same Sid and action, but any auth type (no condition), and for a service principal.
    let replace = |sid: &'static str, action: &'static str, principal: &'static str| {
        let lambda = lambda.clone();
        let function = w.function();
        async move {
            lambda
                .remove_permission()
                .function_name(&function)
                .statement_id(sid)
                .send()
                .await
                .unwrap();
            let mut add = lambda
                .add_permission()
                .function_name(&function)
                .statement_id(sid)
                .action(action)
                .principal(principal);
            if principal == "*" {
                add = add.function_url_auth_type(FunctionUrlAuthType::AwsIam);
            }
            add.send().await.unwrap();
        }
    };
    replace(
        "FunctionURLAllowPublicAccess",
        "lambda:InvokeFunctionUrl",
        "*",
    )
    .await;
    replace(
        "FunctionURLAllowInvokeAction",
        "lambda:InvokeFunction",
        "s3.amazonaws.com",
    )
    .await;

    let status = w.catup(&["status", "--json"]);
    assert_eq!(status.code, 4, "{}", status.stderr);
    assert_state(&status.json(), "function_url", "drifted", "permissions");
    let deploy = w.deploy();
    assert_state(&deploy, "function_url", "updated", "permissions");
    assert_all(&w.catup(&["status", "--json"]).ok().json(), "ok");
}

/// A browser must never pair a cached app.js with a fresh config.js: the page, its script and
/// its styles are revalidated on every load, as S3 answers HeadObject.
#[tokio::test]
async fn the_page_its_script_and_styles_are_served_with_no_cache() {
    let w = World::new();
    w.deploy();
    let s3 = w.s3().await;
    for key in ["index.html", "app.js", "styles.css", "config.js"] {
        let head = s3
            .head_object()
            .bucket(w.site_bucket())
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.cache_control(), Some("no-cache"), "{key}");
    }
}

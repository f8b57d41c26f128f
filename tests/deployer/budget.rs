//! The optional monthly cost budget (`--budget-usd N --budget-email ADDR`): created with its
//! two alerts, read back from moto, kept by a deploy without the flags, replaced when the
//! limit changes, removed by `--budget-usd 0` and by teardown. moto has no
//! DescribeSubscribersForNotification: the test proxy answers it as AWS does.

use aws_sdk_budgets::types::{ComparisonOperator, NotificationType, ThresholdType};
use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};
use serde_json::json;

use crate::common::{assert_all, detail_of, World};

const EMAIL: &str = "teacher@example.com";

fn budget_name(w: &World) -> String {
    format!("catup-{}-{}", w.stack, w.region)
}

/// The budget's monthly limit in USD and its alerts (type, operator, threshold), or `None`.
async fn read_back(w: &World) -> Option<(f64, Vec<String>)> {
    let budgets = aws_sdk_budgets::Client::new(&w.sdk().await);
    let name = budget_name(w);
    let read = budgets
        .describe_budget()
        .account_id("123456789012")
        .budget_name(&name)
        .send()
        .await;
    let budget = match read {
        Ok(out) => out.budget.unwrap(),
        Err(e) => {
            let code = e.into_service_error().meta().code().map(str::to_owned);
            assert_eq!(code.as_deref(), Some("NotFoundException"));
            return None;
        }
    };
    assert_eq!(budget.time_unit().as_str(), "MONTHLY");
    assert_eq!(budget.budget_type().as_str(), "COST");
    let limit = budget.budget_limit().unwrap();
    assert_eq!(limit.unit(), "USD");
    let alerts = budgets
        .describe_notifications_for_budget()
        .account_id("123456789012")
        .budget_name(&name)
        .send()
        .await
        .unwrap();
    let mut alerts: Vec<String> = alerts
        .notifications()
        .iter()
        .map(|n| {
            assert_eq!(n.notification_type(), &NotificationType::Actual);
            assert_eq!(n.comparison_operator(), &ComparisonOperator::GreaterThan);
            assert_eq!(n.threshold_type(), Some(&ThresholdType::Percentage));
            format!("{}%", n.threshold())
        })
        .collect();
    alerts.sort();
    Some((limit.amount().parse().unwrap(), alerts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_is_created_read_back_kept_replaced_and_removed() {
    let w = World::new();
    // A limit without an address is refused before any AWS call.
    w.moto.start_recording().await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    w.catup(&["deploy", "--bootstrap", bootstrap, "--budget-usd", "10"])
        .fails_with(1, "--budget-usd needs --budget-email");
    assert!(w.moto.recorded_calls().await.is_empty());

    let subscribers = json!({"Subscribers": [{"SubscriptionType": "EMAIL", "Address": EMAIL}]});
    let script = vec![Scripted::new(
        On::budgets("DescribeSubscribersForNotification"),
        usize::MAX,
        Answer::Json(subscribers),
    )];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    let deploy = |usd: &str| {
        let args = ["deploy", "--json", "--bootstrap", bootstrap];
        let flags = ["--budget-usd", usd, "--budget-email", EMAIL];
        w.catup_via(&proxy.endpoint(), &w.stack, &[&args[..], &flags].concat())
            .ok()
            .json()
    };
    let report = deploy("10");
    assert_eq!(detail_of(&report, "budget").0, "created", "{report:#}");
    let alerts = vec!["100%".to_owned(), "80%".to_owned()];
    assert_eq!(read_back(&w).await, Some((10.0, alerts.clone())));

    // The same flags: nothing changes (the subscribers were read and compared).
    w.moto.start_recording().await;
    deploy("10");
    let mutations = w.recorded_mutation_lines().await;
    assert!(mutations.is_empty(), "{mutations:#?}");
    assert!(
        proxy.answered(0) >= 2,
        "the alerts' subscribers were not read"
    );
    // No flag: kept as it is, listed by status as the stack's.
    let status = w.catup(&["status", "--json"]).ok().json();
    assert_eq!(detail_of(&status, "budget").0, "ok", "{status:#}");
    w.deploy();
    assert_eq!(read_back(&w).await, Some((10.0, alerts.clone())));

    // A new limit replaces it.
    let report = deploy("25");
    assert_eq!(detail_of(&report, "budget").0, "updated", "{report:#}");
    assert_eq!(read_back(&w).await, Some((25.0, alerts)));

    // 0 removes it; a stack without one lists no budget.
    let bootstrap_args = [
        "deploy",
        "--json",
        "--bootstrap",
        bootstrap,
        "--budget-usd",
        "0",
    ];
    w.catup(&bootstrap_args).ok();
    assert_eq!(read_back(&w).await, None);
    assert_all(&w.catup(&["status", "--json"]).ok().json(), "ok");

    // Teardown removes it with the rest; list saw it as the stack's first.
    deploy("10");
    let list = w.catup(&["list", "--json"]).ok().json();
    let ours = list["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == w.stack.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("list has no {}: {list:#}", w.stack));
    let budget = json!({"kind": "budget", "name": budget_name(&w)});
    assert!(
        ours["resources"].as_array().unwrap().contains(&budget),
        "{ours:#}"
    );
    let run = w.catup(&["teardown", "--yes", "--json"]).ok();
    assert_eq!(detail_of(&run.json(), "budget").0, "deleted");
    assert_eq!(read_back(&w).await, None);
}

/// Lab accounts (AWS Academy) may not read budgets: status and deploy without the budget
/// flags go on as if there were none, and list no budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_may_not_read_budgets_is_not_blocked() {
    let w = World::new();
    let denied = Answer::error(
        400,
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/voclabs/user is not authorized to perform: budgets:ViewBudget",
    );
    let script = vec![Scripted::new(
        On::budgets("DescribeBudget"),
        usize::MAX,
        denied,
    )];
    let proxy = FaultProxy::start(&w.moto.endpoint(), Policy::Script(script)).await;
    let bootstrap = w.bootstrap.to_str().unwrap();
    let report = w
        .catup_via(
            &proxy.endpoint(),
            &w.stack,
            &["deploy", "--json", "--bootstrap", bootstrap],
        )
        .ok()
        .json();
    assert_all(&report, "created");
    let status = w
        .catup_via(&proxy.endpoint(), &w.stack, &["status", "--json"])
        .ok()
        .json();
    assert_all(&status, "ok");
    w.catup_via(&proxy.endpoint(), &w.stack, &["teardown", "--yes"])
        .ok();
    assert!(proxy.answered(0) >= 3, "DescribeBudget was not asked");
}

//! The optional monthly cost budget (`--budget-usd N --budget-email ADDR`): an AWS Budgets
//! cost budget named after the stack, with an email alert at 80% and at 100% of the actual
//! spend. Budgets are the account's (global), so the name holds the region as the role's
//! does. Without the flags a budget is kept as it is; `--budget-usd 0` removes it. It is
//! listed in plans and reports only when wanted or present.

use aws_sdk_budgets::types::{
    Budget as AwsBudget, BudgetType, ComparisonOperator, Notification, NotificationType,
    NotificationWithSubscribers, Spend, Subscriber, SubscriptionType, ThresholdType, TimeUnit,
};

use crate::aws::{error_code, Aws, SdkResultExt};
use crate::reconcile::{aspects, Change, Kind, Outcome};
use crate::resource::{Applying, Deleting, Need, Planning, Reading, Resource};
use crate::stack::Stack;
use crate::stack_resources::{Found, Observed};
use crate::teardown_plan::{Step, TeardownAction};

/// The alerts, in percent of the monthly limit.
pub const ALERTS_PERCENT: [f64; 2] = [80.0, 100.0];

/// What the flags ask for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Wanted {
    /// No flag: a budget that exists is kept as it is.
    #[default]
    AsItIs,
    /// `--budget-usd 0`.
    None,
    Monthly {
        usd: u32,
        email: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub wanted: Wanted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    /// The monthly limit in USD, as AWS holds it ("10.0").
    pub limit_usd: Option<f64>,
    /// The actual-spend alerts' thresholds, in percent, sorted.
    pub alerts_percent: Vec<f64>,
    /// The alerts' email subscribers, read only when a deploy compares them.
    pub emails: Option<Vec<String>>,
}

/// `catup-<stack>-<region>`: one account holds the budgets of every region's stacks.
pub fn name_of(stack: &Stack) -> String {
    format!("catup-{}-{}", stack.name.as_str(), stack.region)
}

pub fn desired(stack: &Stack) -> Desired {
    Desired {
        name: name_of(stack),
        wanted: stack.overrides.budget.clone(),
    }
}

/// The budget, `None` when there is none. `with_emails`: also its alerts' subscribers (one
/// call per alert), which only a deploy that sets the email compares.
pub async fn describe(
    aws: &Aws,
    account_id: &str,
    name: &str,
    with_emails: bool,
) -> anyhow::Result<Option<Actual>> {
    let read = aws
        .budgets
        .describe_budget()
        .account_id(account_id)
        .budget_name(name)
        .send()
        .await;
    let budget = match read {
        // Lab accounts (AWS Academy) may not read budgets: there is then none of catup's
        // either (it could not have made one), unless this deploy asks for one.
        Err(e) if !with_emails && matches!(error_code(&e), Some("AccessDeniedException")) => {
            tracing::info!(target: "catup::steps", "budget {name}: not readable here (AccessDenied): taken as none");
            return Ok(None);
        }
        other => other.or_absent(|| format!("read budget {name}"))?,
    };
    let Some(budget) = budget.and_then(|b| b.budget) else {
        return Ok(None);
    };
    let notifications = aws
        .budgets
        .describe_notifications_for_budget()
        .account_id(account_id)
        .budget_name(name)
        .send()
        .await
        .or_fail(|| format!("read the alerts of budget {name}"))?;
    let alerts: Vec<&Notification> = notifications
        .notifications()
        .iter()
        .filter(|n| n.notification_type() == &NotificationType::Actual)
        .collect();
    let mut alerts_percent: Vec<f64> = alerts.iter().map(|n| n.threshold()).collect();
    alerts_percent.sort_by(f64::total_cmp);
    let emails = match with_emails {
        false => None,
        true => Some(emails_of(aws, account_id, name, &alerts).await?),
    };
    Ok(Some(Actual {
        limit_usd: limit_usd(&budget),
        alerts_percent,
        emails,
    }))
}

fn limit_usd(budget: &AwsBudget) -> Option<f64> {
    let limit = budget.budget_limit()?;
    (limit.unit() == "USD").then(|| limit.amount().parse().ok())?
}

/// Every alert's email subscribers, sorted and without repeats.
async fn emails_of(
    aws: &Aws,
    account_id: &str,
    name: &str,
    alerts: &[&Notification],
) -> anyhow::Result<Vec<String>> {
    let mut reads = tokio::task::JoinSet::new();
    for alert in alerts {
        let read = aws
            .budgets
            .describe_subscribers_for_notification()
            .account_id(account_id)
            .budget_name(name)
            .notification((*alert).clone());
        reads.spawn(read.send());
    }
    let mut emails = Vec::new();
    while let Some(read) = reads.join_next().await {
        let out = read?.or_fail(|| format!("read the alert subscribers of budget {name}"))?;
        emails.extend(
            out.subscribers()
                .iter()
                .filter(|s| s.subscription_type() == &SubscriptionType::Email)
                .map(|s| s.address().to_owned()),
        );
    }
    emails.sort();
    emails.dedup();
    Ok(emails)
}

aspects! {
    Aspect {
        Limit => "monthly limit",
        Alerts => "alerts",
        Email => "alert email",
        Removal => "removal (--budget-usd 0)",
    }
}

pub fn diff(desired: &Desired, actual: Option<&Actual>) -> Change<Aspect> {
    match (&desired.wanted, actual) {
        (Wanted::Monthly { .. }, None) => Change::Create,
        (Wanted::AsItIs | Wanted::None, None) | (Wanted::AsItIs, Some(_)) => Change::InSync,
        (Wanted::None, Some(_)) => Change::Update(vec![Aspect::Removal]),
        (Wanted::Monthly { usd, email }, Some(actual)) => Change::from_checks([
            (Aspect::Limit, actual.limit_usd != Some(f64::from(*usd))),
            (Aspect::Alerts, actual.alerts_percent != ALERTS_PERCENT),
            (
                Aspect::Email,
                actual
                    .emails
                    .as_ref()
                    .is_some_and(|emails| emails != std::slice::from_ref(email)),
            ),
        ]),
    }
}

/// Creates the budget with its alerts in one call; a budget that differs is deleted and
/// created again (Budgets has no call that changes the limit, alerts and subscribers at once).
pub async fn apply(
    aws: &Aws,
    account_id: &str,
    desired: &Desired,
    change: &Change<Aspect>,
) -> anyhow::Result<()> {
    let name = desired.name.as_str();
    if change == &Change::InSync {
        return Ok(());
    }
    if !change.is_create() {
        delete(aws, account_id, name).await?;
    }
    let Wanted::Monthly { usd, email } = &desired.wanted else {
        return Ok(());
    };
    let limit = Spend::builder()
        .amount(usd.to_string())
        .unit("USD")
        .build()?;
    let budget = AwsBudget::builder()
        .budget_name(name)
        .budget_type(BudgetType::Cost)
        .time_unit(TimeUnit::Monthly)
        .budget_limit(limit)
        .build()?;
    let mut create = aws
        .budgets
        .create_budget()
        .account_id(account_id)
        .budget(budget);
    for percent in ALERTS_PERCENT {
        create = create.notifications_with_subscribers(alert(percent, email)?);
    }
    create
        .send()
        .await
        .or_code(&["DuplicateRecordException"], || {
            format!("create budget {name}")
        })?;
    Ok(())
}

fn alert(percent: f64, email: &str) -> anyhow::Result<NotificationWithSubscribers> {
    let notification = Notification::builder()
        .notification_type(NotificationType::Actual)
        .comparison_operator(ComparisonOperator::GreaterThan)
        .threshold(percent)
        .threshold_type(ThresholdType::Percentage)
        .build()?;
    let subscriber = Subscriber::builder()
        .subscription_type(SubscriptionType::Email)
        .address(email)
        .build()?;
    Ok(NotificationWithSubscribers::builder()
        .notification(notification)
        .subscribers(subscriber)
        .build()?)
}

/// Deletes the budget; gone already is fine.
pub async fn delete(aws: &Aws, account_id: &str, name: &str) -> anyhow::Result<Outcome> {
    let gone = aws
        .budgets
        .delete_budget()
        .account_id(account_id)
        .budget_name(name)
        .send()
        .await
        .or_absent(|| format!("delete budget {name}"))?;
    Ok(Outcome::of_deletion(gone.is_some()))
}

/// The optional cost budget.
pub struct Budget;

impl Resource for Budget {
    const KIND: Kind = Kind::Budget;
    const NEEDS: &'static [Need] = &[];
    type Desired = Desired;
    type Actual = Actual;
    type Aspect = Aspect;

    fn desired(stack: &Stack) -> anyhow::Result<Desired> {
        Ok(desired(stack))
    }

    async fn describe(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        let stack = read.stack;
        let with_emails = matches!(stack.overrides.budget, Wanted::Monthly { .. });
        describe(read.aws, &stack.account_id, &name_of(stack), with_emails).await
    }

    fn diff(plan: &Planning<'_>) -> Change<Aspect> {
        diff(&plan.desired.budget, plan.observed.budget.as_ref())
    }

    fn name(stack: &Stack, _: &Observed) -> String {
        name_of(stack)
    }

    fn listed(desired: &crate::stack_resources::Desired, observed: &Observed) -> bool {
        observed.budget.is_some() || matches!(desired.budget.wanted, Wanted::Monthly { .. })
    }

    async fn apply(a: &Applying<'_>) -> anyhow::Result<()> {
        let stack = a.stack;
        apply(
            a.aws,
            &stack.account_id,
            &a.desired.budget,
            &a.changes.budget,
        )
        .await
    }

    type Found = Option<Actual>;

    async fn find(read: &Reading<'_>) -> anyhow::Result<Option<Actual>> {
        let stack = read.stack;
        describe(read.aws, &stack.account_id, &name_of(stack), false).await
    }

    /// None when there is no budget: an optional resource is not reported absent.
    fn teardown_steps(stack: &Stack, found: &Found) -> anyhow::Result<Vec<Step>> {
        Ok(match &found.budget {
            None => Vec::new(),
            Some(_) => vec![Step::new(
                Kind::Budget,
                &name_of(stack),
                TeardownAction::Delete,
            )],
        })
    }

    async fn delete(
        d: &Deleting<'_>,
        gone: impl std::future::Future<Output = bool>,
    ) -> anyhow::Result<()> {
        let Some(step) = d.plan.steps_of(Kind::Budget).next() else {
            return Ok(());
        };
        if !step.deletes() || !gone.await {
            return Ok(());
        }
        let outcome = delete(d.aws, &d.stack.account_id, &step.name).await?;
        d.reporter.resource(step.kind, &step.name, &outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(usd: u32) -> Desired {
        Desired {
            name: "catup-s-us-east-1".into(),
            wanted: Wanted::Monthly {
                usd,
                email: "teacher@example.com".into(),
            },
        }
    }

    fn actual(usd: f64, emails: Option<&[&str]>) -> Actual {
        Actual {
            limit_usd: Some(usd),
            alerts_percent: ALERTS_PERCENT.to_vec(),
            emails: emails.map(|e| e.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    #[test]
    fn a_budget_is_created_compared_kept_or_removed_as_the_flags_say() {
        let same = actual(10.0, Some(&["teacher@example.com"]));
        assert_eq!(diff(&wanted(10), None), Change::Create);
        assert_eq!(diff(&wanted(10), Some(&same)), Change::InSync);
        assert_eq!(
            diff(&wanted(20), Some(&same)),
            Change::Update(vec![Aspect::Limit])
        );
        let other = actual(10.0, Some(&["someone@example.com"]));
        assert_eq!(
            diff(&wanted(10), Some(&other)),
            Change::Update(vec![Aspect::Email])
        );
        let one_alert = Actual {
            alerts_percent: vec![100.0],
            ..same.clone()
        };
        assert_eq!(
            diff(&wanted(10), Some(&one_alert)),
            Change::Update(vec![Aspect::Alerts])
        );
        let keep = Desired {
            wanted: Wanted::AsItIs,
            ..wanted(10)
        };
        assert_eq!(diff(&keep, Some(&other)), Change::InSync);
        assert_eq!(diff(&keep, None), Change::InSync);
        let remove = Desired {
            wanted: Wanted::None,
            ..wanted(10)
        };
        assert_eq!(
            diff(&remove, Some(&same)),
            Change::Update(vec![Aspect::Removal])
        );
        assert_eq!(diff(&remove, None), Change::InSync);
    }
}

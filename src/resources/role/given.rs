//! A role given with --role-arn, checked before deploy changes anything: its format, its
//! account, that it exists and that it trusts Lambda. Each would otherwise fail only after
//! buckets and log group were created, or after minutes of Lambda's retries.

use anyhow::{bail, ensure};

use crate::aws::{error_code, reason, Aws};

/// `arn:<partition>:iam::<12-digit account>:role/<optional path/><name>`, and the account.
pub fn parse_role_arn(arn: &str) -> anyhow::Result<&str> {
    let invalid = || {
        anyhow::anyhow!(
            "invalid --role-arn '{arn}': expected arn:aws:iam::<12-digit account>:role/<name>"
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(invalid());
    };
    let name_chars = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    };
    let path_and_name = resource.strip_prefix("role/").unwrap_or_default();
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let valid = prefix == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&partition)
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name.len() <= 64
        && path_and_name.split('/').all(name_chars);
    if valid {
        Ok(account)
    } else {
        Err(invalid())
    }
}

/// The role's account must be the caller's: Lambda refuses another account's role, but only
/// after everything before the function was created.
pub fn check_role_account(arn: &str, account_id: &str) -> anyhow::Result<()> {
    let account = parse_role_arn(arn)?;
    ensure!(
        account == account_id,
        "--role-arn {arn} is in account {account}, but these credentials are account {account_id}: pass a role of account {account_id} (Lambda only runs a function with a role of its own account)"
    );
    Ok(())
}

/// The role exists and Lambda may assume it. Where the caller may not read roles (lab
/// accounts deny iam:GetRole), nothing can be known and Lambda has the last word.
pub async fn check_role_usable(aws: &Aws, arn: &str) -> anyhow::Result<()> {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    let role = match aws.iam.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e) if error_code(&e) == Some("AccessDenied") => {
            tracing::info!(target: "catup::steps", "role {arn}: not readable (AccessDenied), not checked");
            return Ok(());
        }
        Err(e) if crate::aws::is_not_found(&e) => {
            bail!("--role-arn {arn}: the role does not exist: check its name (aws iam list-roles), or leave out --role-arn to let catup create one")
        }
        Err(e) => bail!("read role {arn}: {}", reason(&e)),
    };
    let trust = role
        .and_then(|r| r.assume_role_policy_document)
        .and_then(|d| crate::resources::role::parse_document(&d));
    ensure!(
        trust.as_ref().is_some_and(trusts_lambda),
        "--role-arn {arn}: the role does not trust lambda.amazonaws.com, so Lambda cannot run the function with it: add lambda.amazonaws.com to its trust policy, or pass another role"
    );
    Ok(())
}

/// Whether a trust policy lets lambda.amazonaws.com assume the role.
pub fn trusts_lambda(policy: &serde_json::Value) -> bool {
    let listed = |v: &serde_json::Value, wanted: &str| match v {
        serde_json::Value::String(s) => s == wanted,
        serde_json::Value::Array(items) => items.iter().any(|i| i == wanted),
        _ => false,
    };
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && listed(&s["Principal"]["Service"], "lambda.amazonaws.com")
            && listed(&s["Action"], "sts:AssumeRole")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_are_parsed_strictly() {
        for good in [
            "arn:aws:iam::123456789012:role/LabRole",
            "arn:aws:iam::123456789012:role/service-role/my.role+x=y,z@w_1",
            "arn:aws-cn:iam::123456789012:role/r",
        ] {
            assert_eq!(parse_role_arn(good).unwrap(), "123456789012", "{good}");
        }
        for bad in [
            "LabRole",
            "arn:aws:iam::123:role/LabRole",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/me",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam:us-east-1:123456789012:role/LabRole",
            "arn:aws:iam::123456789012:role/Lab Role",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:iam::12345678901a:role/LabRole",
            "arn:azure:iam::123456789012:role/LabRole",
            &format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65)),
        ] {
            let err = parse_role_arn(bad).unwrap_err().to_string();
            assert!(err.contains("--role-arn"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_role_s_account_must_be_the_caller_s() {
        let arn = "arn:aws:iam::210987654321:role/LabRole";
        assert!(check_role_account(arn, "210987654321").is_ok());
        let err = check_role_account(arn, "123456789012")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("account 210987654321") && err.contains("123456789012"),
            "{err}"
        );
    }

    #[test]
    fn trust_policies_that_let_lambda_assume_the_role() {
        let lambda = serde_json::json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let both = serde_json::json!({"Statement": {"Effect": "Allow",
            "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}});
        let ec2 = serde_json::json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let denied = serde_json::json!({"Statement": [{"Effect": "Deny",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(trusts_lambda(&lambda) && trusts_lambda(&both));
        assert!(!trusts_lambda(&ec2) && !trusts_lambda(&denied));
    }
}

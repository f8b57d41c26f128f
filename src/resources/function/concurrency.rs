//! The function's reserved concurrency: catup sets none, and a reserved concurrency of 0
//! (the function disabled) is drift that deploy removes.

use crate::aws::{Aws, SdkResultExt};

/// The function's reserved concurrency, if any (0 means the function is disabled).
pub async fn reserved_concurrency(aws: &Aws, function: &str) -> anyhow::Result<Option<i32>> {
    let out = aws
        .lambda
        .get_function_concurrency()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("read reserved concurrency of function {function}"))?;
    Ok(out.and_then(|o| o.reserved_concurrent_executions))
}

/// Lets the function run again: removes a reserved concurrency of 0.
pub async fn remove_zero_concurrency(aws: &Aws, function: &str) -> anyhow::Result<()> {
    aws.lambda
        .delete_function_concurrency()
        .function_name(function)
        .send()
        .await
        .or_absent(|| format!("remove the reserved concurrency of function {function}"))?;
    Ok(())
}

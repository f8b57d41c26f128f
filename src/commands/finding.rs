//! Where a stack is when the command's region holds nothing of it: `stack_finder`'s
//! lookup by catup's names and the resources' own tags, done only then, so that a stack
//! found here costs no extra call.

use super::Context;
use crate::output::{command_for, say};
use crate::region::Region;
use crate::stack_finder;

/// The other regions that hold something of the stack, said on stderr with the command to
/// run there (nothing is said when there are none). The lookup is a hint: when it fails,
/// the command goes on as before, and -v says why.
pub async fn elsewhere(ctx: &Context, subcommand: &str) -> Vec<String> {
    let name = ctx.stack.name.as_str();
    let regions = match stack_finder::regions_of(&ctx.aws, name).await {
        Ok(regions) => regions,
        Err(e) => {
            tracing::info!(target: "catup::steps", "looking for stack {name} in other regions: {e:#}");
            return Vec::new();
        }
    };
    if let Some(sentence) = sentence(name, &ctx.stack.region, &regions, subcommand) {
        say(sentence);
    }
    regions.iter().map(ToString::to_string).collect()
}

/// The JSON object a script reads when the stack is not here: the error, and where it is.
pub fn not_here_json(message: &str, elsewhere: &[String]) -> serde_json::Value {
    let mut error = serde_json::json!({ "error": message });
    if !elsewhere.is_empty() {
        error["found_in_regions"] = elsewhere.into();
    }
    error
}

/// "stack 'cats' has nothing in us-east-1; it is in eu-west-1: run `...`".
pub fn sentence(
    stack: &str,
    here: &Region,
    regions: &[Region],
    subcommand: &str,
) -> Option<String> {
    let first = regions.first()?;
    let all: Vec<&str> = regions.iter().map(Region::as_str).collect();
    Some(format!(
        "stack '{stack}' has nothing in {here}; it is in {}: run `{}`",
        all.join(", "),
        command_in(first, stack, subcommand)
    ))
}

/// The command line that runs `subcommand` on `stack` in `region`, runnable as printed.
pub fn command_in(region: &Region, stack: &str, subcommand: &str) -> String {
    let command = command_for(stack, subcommand);
    let rest = command.strip_prefix("catup ").unwrap_or(&command);
    format!("catup --region {region} {rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_names_every_region_and_the_command_for_the_first() {
        let here = Region::parse("us-east-1").unwrap();
        let there = [
            Region::parse("ap-northeast-1").unwrap(),
            Region::parse("eu-west-1").unwrap(),
        ];
        assert_eq!(sentence("cats", &here, &[], "status"), None);
        assert_eq!(
            sentence("cats", &here, &there, "status").unwrap(),
            "stack 'cats' has nothing in us-east-1; it is in ap-northeast-1, eu-west-1: run `catup --region ap-northeast-1 --stack cats status`"
        );
        assert_eq!(
            command_in(&there[1], crate::stack::DEFAULT_STACK, "teardown"),
            "catup --region eu-west-1 teardown"
        );
    }
}

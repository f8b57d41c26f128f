//! Which buckets teardown acts on. A name remembered in the function's tags is a pointer, not
//! a proof: a bucket it names that does not carry the stack's tags for its role is left alone,
//! never deleted. When the function is gone (a teardown cut short after deleting it: custom
//! names went with its tags), or a remembered name was left alone or could not be used, the
//! stack's buckets are found by their own tags instead.

use crate::commands::Context;
use crate::resource_support::bucket::by_tags::{self, Tagged};
use crate::resource_support::bucket::ownership::{named_by_memory, BucketRole};
use crate::stack::{Overrides, Stack};

use crate::stack_resources::Found;

const ROLES: [BucketRole; 2] = [BucketRole::Images, BucketRole::Site];

/// Reads what exists, settles which buckets are the stack's, and updates `ctx.stack` (and
/// `ctx.left_alone`) to them. The search by tags goes out beside the read when the function
/// is known to be gone, so the usual teardown makes no call more in a row.
pub async fn read_resolved(ctx: &mut Context) -> anyhow::Result<Found> {
    let function_gone = matches!(ctx.function_read, Some(None));
    // A remembered value teardown could not use (an invalid name, images = site) was set
    // aside when connecting: the bucket it stood for is looked for by its tags.
    let memory_set_aside = !ctx.left_alone.is_empty();
    let (aws, stack) = (&ctx.aws, &ctx.stack);
    let reading = ctx.reading();
    let (found, tagged) = tokio::join!(Found::read(&reading), async {
        match function_gone {
            true => Some(by_tags::find(aws, stack.tag_value()).await),
            false => None,
        }
    });
    let found = found?;
    let mut overrides = stack.overrides.clone();
    let mut unproven = Vec::new();
    for role in ROLES {
        let proven = found
            .bucket(role)
            .is_none_or(|b| b.basics.tagged_as(stack.tag_value(), role));
        if named_by_memory(&overrides, role) && !proven {
            let name = bucket_name(stack, role).to_owned();
            let (tag, _) = crate::resource_support::remembered::bucket_tag(role);
            ctx.left_alone.push(format!(
                "bucket {name} (named by the function's tag {tag}) is not tagged as this stack's {} bucket: left alone",
                role.tag_value()
            ));
            set_name(&mut overrides, role, None);
            unproven.push(role);
        }
    }
    let tagged = match tagged {
        Some(tagged) => Some(tagged),
        None if !unproven.is_empty() || memory_set_aside => {
            Some(by_tags::find(aws, stack.tag_value()).await)
        }
        None => None,
    };
    match tagged {
        None => {}
        Some(Err(e)) => ctx.left_alone.push(format!(
            "the stack's buckets could not be looked for by their tags ({e:#}): a bucket with a custom name may be left; pass --site-bucket / --images-bucket to delete it"
        )),
        Some(Ok(tagged)) => {
            for role in ROLES {
                // Where the stack's own bucket is not at the name in use, the tagged one is.
                let here = !unproven.contains(&role) && found.bucket(role).is_some();
                let mut others = tagged
                    .iter()
                    .filter(|t| t.role == role && t.name != bucket_name(stack, role));
                if !here {
                    if let Some(Tagged { name, .. }) = others.next() {
                        set_name(&mut overrides, role, Some(name.clone()));
                    }
                }
                for Tagged { name, .. } in others {
                    let flag = crate::resource_support::remembered::bucket_tag(role).1;
                    ctx.left_alone.push(format!(
                        "bucket {name} is also tagged as this stack's {} bucket: run teardown again with {flag} {name} to delete it",
                        role.tag_value()
                    ));
                }
            }
        }
    }
    if overrides == ctx.stack.overrides {
        return Ok(found);
    }
    // Rare (a cut-short teardown, an edited tag): one more read, of the settled names.
    let stack = &ctx.stack;
    ctx.stack = Stack::new(
        stack.name.clone(),
        stack.region.clone(),
        &stack.account_id,
        &overrides,
    )?;
    Found::read(&ctx.reading()).await
}

fn bucket_name(stack: &Stack, role: BucketRole) -> &str {
    match role {
        BucketRole::Site => &stack.site_bucket,
        BucketRole::Images => &stack.images_bucket,
    }
}

/// Names the bucket of `role` (`None`: the derived name); a name set here is proven by the
/// bucket's tags, not remembered.
fn set_name(overrides: &mut Overrides, role: BucketRole, name: Option<String>) {
    match role {
        BucketRole::Site => {
            overrides.site_bucket = name;
            overrides.from_memory.site_bucket = false;
        }
        BucketRole::Images => {
            overrides.images_bucket = name;
            overrides.from_memory.images_bucket = false;
        }
    }
}

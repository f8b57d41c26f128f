//! One module per resource of the stack, each the same shape: `desired(stack)`, `describe`
//! (read the actual state, `None` when missing), a pure `diff`, `apply(change)`, `delete`,
//! and its `Resource` implementation. What several resources share is `resource_support`.

pub mod budget;
pub mod function;
pub mod function_url;
pub mod images_bucket;
pub mod log_group;
pub mod role;
pub mod site_bucket;
pub mod site_files;
pub mod thumbs_function;
pub mod thumbs_log_group;
pub mod thumbs_role;
pub mod thumbs_trigger;

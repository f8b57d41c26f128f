//! One module per AWS resource, each the same shape: `desired(stack)`, `describe` (read the
//! actual state, `None` when missing), a pure `diff`, `apply(change)`, and `delete`.

pub mod account_access;
pub mod bucket;
pub mod exposure;
pub mod function;
pub mod function_url;
pub mod images_bucket;
pub mod log_group;
pub mod object_lock;
pub mod ownership;
pub mod remembered;
pub mod role;
pub mod site_bucket;
pub mod site_files;

//! What several resources share: S3 bucket basics (ownership, emptying, versions, discovery
//! by tags), the account's Block Public Access, Object Lock, and the names a stack remembers
//! in its function's tags.

pub mod account_access;
pub mod bucket;
pub mod bucket_role;
pub mod object_lock;
pub mod remembered;
pub mod thumbnails;

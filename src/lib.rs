//! catup: deploys the Cat Upload stack to AWS in one command, idempotently.

pub mod policies;

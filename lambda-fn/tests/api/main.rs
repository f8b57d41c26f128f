//! lambda-fn's integration tests, one binary: real Function URL events through the handler,
//! the handler against moto_server's S3 with real PUT/GET of the presigned URLs, and our
//! presigner against the SDK's.

mod common;
mod events;
mod gallery;
mod presign_matches_sdk;
mod runtime_logs;

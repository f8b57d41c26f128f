//! thumbs-fn's integration tests, one binary: the thumbnail work on bytes, and the handler on
//! S3 event records against moto_server's S3.

mod bootstrap;
mod fixtures;
mod formats;
mod keys;
mod orientation;
mod pure;
mod refusals;
mod world;

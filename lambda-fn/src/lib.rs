//! Cat Upload's Function URL handler.
//!
//! POST answers a presigned S3 PUT URL for a server-chosen key under `images/`; GET answers
//! one page of the gallery with presigned GET URLs, newest first. The function never sets
//! `Access-Control-*` headers: the Function URL's CORS does, and both together make browsers
//! reject the response.

pub mod config;
pub mod content_type;
pub mod error;
pub mod handler;
pub mod keys;
pub mod listed_key;
pub mod logging;
pub mod presign;

pub use config::{Config, ConfigError};
pub use handler::{App, InitError};

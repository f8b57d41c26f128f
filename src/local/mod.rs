//! The pieces of `catup dev`: an AWS emulator process, and local stand-ins for what AWS
//! serves over HTTP that the emulator does not (the Function URL, the S3 website endpoint).

pub mod emulator;
pub mod function_logs;
pub mod function_url;
pub mod http;
pub mod site;
pub mod thumbnails;

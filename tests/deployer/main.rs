//! catup's deployer against a real moto_server: `catup` is run as a program, the way the
//! README runs it, and every effect is read back through the AWS SDK or moto's recorder.

mod bad_input;
mod build_kit;
mod build_toolchain;
mod common;
mod dev;
mod faults;
mod fresh;
mod function_build;
mod function_input;
mod idempotence;
mod interruption;
mod runtime_api;
mod security;
mod snapshot;
mod teardown;

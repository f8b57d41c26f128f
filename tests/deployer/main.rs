//! catup's deployer against a real moto_server: `catup` is run as a program, the way the
//! README runs it, and every effect is read back through the AWS SDK or moto's recorder.

mod account_limits;
mod bad_input;
mod build_kit;
mod build_toolchain;
mod cli_surface;
mod common;
mod connecting;
mod dev;
mod drift;
mod faults;
mod fresh;
mod function_build;
mod function_input;
mod idempotence;
mod interruption;
mod logs;
mod regions;
mod runtime_api;
mod scale;
mod security;
mod settling;
mod snapshot;
mod teardown;
mod verify_preflight;

//! catup's deployer against a real moto_server: `catup` is run as a program, the way the
//! README runs it, and every effect is read back through the AWS SDK or moto's recorder.

mod account_limits;
mod bad_input;
mod bucket_roles;
mod build_kit;
mod build_toolchain;
mod checks_first;
mod cli_surface;
mod common;
mod connecting;
mod dev;
mod drift;
mod drifts;
mod exposure;
mod faults;
mod fresh;
mod function_build;
mod function_input;
mod idempotence;
mod interruption;
mod logs;
mod overrides;
mod ownership;
mod plan;
mod private_stays_private;
mod read_back;
mod regions;
mod role_per_region;
mod scale;
mod security;
mod settling;
mod snapshot;
mod teardown;
mod teardown_plan;
mod verify_preflight;
mod wheel;

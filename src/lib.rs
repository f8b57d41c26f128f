//! catup: deploys the Cat Upload stack to AWS in one command, idempotently.

pub mod aws;
pub mod call_log;
pub mod cli;
pub mod commands;
pub mod connect;
pub mod console;
pub mod deploy_plan;
pub mod frontend_files;
pub mod local;
pub mod logs;
pub mod output;
pub mod package;
pub mod policies;
pub mod pricing;
pub mod reconcile;
pub mod region;
pub mod reporter;
pub mod resource;
pub mod resource_support;
pub mod resources;
pub mod stack;
pub mod stack_finder;
pub mod stack_resources;
pub mod teardown_plan;

pub mod waiting;

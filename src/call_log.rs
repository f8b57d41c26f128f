//! `-v` shows every AWS call catup makes: service, operation, HTTP status and time, one line
//! each (an SDK interceptor, so no call site has to remember to log).

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

#[derive(Debug)]
pub struct CallLog;

#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Started>;
}

/// The call's attempts so far, and how the last one ended.
#[derive(Debug, Clone, Default)]
struct Attempts {
    made: u32,
    last: String,
}

impl Storable for Attempts {
    type Storer = StoreReplace<Attempts>;
}

/// The call's entry among the calls in flight (see `waiting`).
#[derive(Debug, Clone)]
struct Waiting(u64, String);

impl Storable for Waiting {
    type Storer = StoreReplace<Waiting>;
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The SDK retries by itself: -v says so in catup's own words, not in its debug log.
        let mut attempts = cfg.load::<Attempts>().cloned().unwrap_or_default();
        attempts.made += 1;
        if attempts.made > 1 {
            let (service, operation) = names(cfg);
            tracing::info!(target: "catup::aws", "{service}.{operation}: attempt {} (retrying after {})", attempts.made, attempts.last);
        }
        cfg.interceptor_state().store_put(attempts);
        // Once per call, at its first attempt: the request names what it is for.
        if cfg.load::<Waiting>().is_none() {
            let (service, operation) = names(cfg);
            let path = context
                .request()
                .uri()
                .split('?')
                .next()
                .unwrap_or_default();
            let path = path.split_once("://").map_or(path, |(_, rest)| {
                rest.find('/').map_or("", |slash| &rest[slash..])
            });
            let target = shorten(path);
            let label = match target.is_empty() {
                false => format!("{service}.{operation} {target}"),
                true => format!("{service}.{operation}"),
            };
            let id = crate::waiting::enter(label);
            cfg.interceptor_state().store_put(Waiting(id, target));
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(attempts) = cfg.load::<Attempts>() {
            let last = match context.response() {
                Some(response) => format!("HTTP {}", response.status().as_u16()),
                None => "no answer".to_owned(),
            };
            let made = attempts.made;
            cfg.interceptor_state().store_put(Attempts { made, last });
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = match cfg.load::<Waiting>() {
            Some(Waiting(id, target)) => {
                crate::waiting::leave(*id);
                match target.is_empty() {
                    true => String::new(),
                    false => format!(" ({target})"),
                }
            }
            None => String::new(),
        };
        let (service, operation) = names(cfg);
        let millis = cfg
            .load::<Started>()
            .map(|s| s.0.elapsed().as_millis())
            .unwrap_or_default();
        let outcome = match (context.response(), context.output_or_error()) {
            (Some(response), _) => format!("HTTP {}", response.status().as_u16()),
            (None, Some(Err(_))) => "no answer".to_owned(),
            (None, _) => "done".to_owned(),
        };
        tracing::info!(target: "catup::aws", "{service}.{operation}: {outcome} in {millis} ms{target}");
        Ok(())
    }
}

fn names(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>()
        .map(|m| (m.service().to_owned(), m.name().to_owned()))
        .unwrap_or_default()
}

/// A request path short enough for one progress line.
fn shorten(path: &str) -> String {
    const MAX: usize = 80;
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return String::new();
    }
    match path.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &path[..cut]),
        None => path.to_owned(),
    }
}

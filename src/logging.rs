//! The process's log subscriber: `TESSERA_LOG`, else `RUST_LOG`, else a default that is
//! `info` for the server and quiet for the other commands (their output is their result;
//! `-v` shows their logs); text (coloured only on a terminal) or JSON, one object a line.
//!
//! A peer's malformed or abandoned request (actix's
//! `stream error: URI too long`, a broken head, a body cut off) was answered with its
//! 4xx; it is counted (`tessera_malformed_requests_total`), never written as an ERROR
//! line, so an anonymous client cannot fill the error log or page an operator.

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Drops actix-http's per-connection "stream error" events and counts them.
pub struct MalformedRequests;

struct Message(bool);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}").starts_with("stream error");
        }
    }
}

impl<S: Subscriber> Layer<S> for MalformedRequests {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let m = event.metadata();
        if *m.level() != Level::ERROR || !m.target().starts_with("actix_http::h1") {
            return true;
        }
        let mut msg = Message(false);
        event.record(&mut msg);
        if msg.0 {
            metrics::counter!("tessera_malformed_requests_total").increment(1);
        }
        !msg.0
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

/// What was logged at each verbosity when neither `TESSERA_LOG` nor `RUST_LOG` is set.
pub fn default_filter(serving: bool, verbose: u8) -> &'static str {
    match (serving, verbose) {
        (_, 2..) => "debug,sqlx=warn",
        (true, _) | (false, 1) => "info,sqlx=warn",
        // A command's own result is on stdout; its errors are returned, not logged.
        (false, 0) => "error",
    }
}

/// The filter directives: `TESSERA_LOG` wins over `RUST_LOG`, either over the default.
fn directives(tessera_log: Option<String>, rust_log: Option<String>, default: &str) -> String {
    [tessera_log, rust_log]
        .into_iter()
        .flatten()
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A filter that does not parse is reported, and the default used.
fn filter(default: &str) -> tracing_subscriber::EnvFilter {
    let wanted = directives(
        std::env::var("TESSERA_LOG").ok(),
        std::env::var("RUST_LOG").ok(),
        default,
    );
    tracing_subscriber::EnvFilter::try_new(&wanted).unwrap_or_else(|e| {
        eprintln!("ignoring the log filter {wanted:?}: {e}");
        tracing_subscriber::EnvFilter::new(default)
    })
}

/// Installs the subscriber, writing to stderr.
pub fn init(format: LogFormat, default: &str) {
    use std::io::IsTerminal;
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.with_ansi(std::io::stderr().is_terminal()).boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(MalformedRequests)
        .with(filter(default))
        .with(fmt)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quiet_by_default_and_the_server_logs_at_info() {
        assert_eq!(default_filter(false, 0), "error");
        assert_eq!(default_filter(false, 1), "info,sqlx=warn");
        assert_eq!(default_filter(true, 0), "info,sqlx=warn");
        assert_eq!(default_filter(true, 2), "debug,sqlx=warn");
    }

    #[test]
    fn tessera_log_wins_over_rust_log_and_both_over_the_default() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(directives(some("debug"), some("trace"), "info"), "debug");
        assert_eq!(directives(None, some("trace"), "info"), "trace");
        assert_eq!(directives(some(" "), some("trace"), "info"), "trace");
        assert_eq!(directives(None, None, "info"), "info");
    }
}

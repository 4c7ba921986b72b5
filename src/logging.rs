//! The process's log subscriber. A peer's malformed or abandoned request (actix's
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

/// `TESSERA_LOG` (an `EnvFilter`; default `info,sqlx=warn`) to stderr.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    tracing_subscriber::registry()
        .with(MalformedRequests)
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
}

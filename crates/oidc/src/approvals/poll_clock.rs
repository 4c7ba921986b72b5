//! When each device or CIBA request was last polled, and its interval: in this process's
//! memory, so a poll costs no write (a leaf: the provider holds one).

use moka::sync::Cache;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_domain::ApprovalRequest;

/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval, for good.
pub const SLOW_DOWN_SECS: i64 = 5;
/// Arrival times jitter with the queues on the way: a poll sent a full interval after
/// the previous one may arrive a little sooner. A quarter second of grace keeps such a
/// device from being slowed down for it (measured: 1–10 per 5,400 exact polls without).
const GRACE_MS: i64 = 250;

#[derive(Clone, Copy)]
struct Poll {
    /// Milliseconds since the epoch.
    last: Option<i64>,
    /// Seconds.
    interval: i64,
}

/// When each request was last polled and its current interval.
pub(crate) struct PollClock(Cache<uuid::Uuid, Arc<Mutex<Poll>>>);

impl PollClock {
    pub(crate) fn new() -> Self {
        // No request outlives an hour; the cap bounds memory under a flood of requests.
        Self(
            Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        )
    }

    /// Records a poll at `now_ms`: `false` (and a longer interval) when it came too soon.
    pub(crate) fn poll(&self, r: &ApprovalRequest, now_ms: i64) -> bool {
        let entry = self.0.get_with(r.id, || {
            Arc::new(Mutex::new(Poll {
                last: None,
                interval: r.interval_secs,
            }))
        });
        let mut p = entry.lock().unwrap_or_else(|e| e.into_inner());
        let too_soon = p
            .last
            .is_some_and(|last| now_ms - last < p.interval * 1000 - GRACE_MS);
        if too_soon {
            p.interval += SLOW_DOWN_SECS;
        }
        p.last = Some(now_ms);
        !too_soon
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::{ApprovalKind, ApprovalStatus, ClientUuid, RealmId, ScopeSet, UnixTime};

    fn request(interval: i64) -> ApprovalRequest {
        ApprovalRequest {
            id: uuid::Uuid::now_v7(),
            realm_id: RealmId::new_v7(),
            kind: ApprovalKind::Device,
            client: ClientUuid::new_v7(),
            scope: ScopeSet::default(),
            targets: vec![],
            user_id: None,
            binding_message: None,
            acr_values: None,
            status: ApprovalStatus::Pending,
            approval: None,
            interval_secs: interval,
            created_at: UnixTime(0),
            expires_at: UnixTime(600),
            decided_at: None,
        }
    }

    #[test]
    fn polling_faster_than_the_interval_adds_five_seconds_for_good() {
        let clock = PollClock::new();
        let r = request(5);
        let at = |secs: f64| (secs * 1000.0) as i64;
        assert!(
            clock.poll(&r, at(100.0)),
            "the first poll is never too soon"
        );
        assert!(clock.poll(&r, at(105.0)), "at the interval");
        assert!(
            clock.poll(&r, at(109.8)),
            "arriving 0.2 s early is within the grace"
        );
        assert!(
            !clock.poll(&r, at(112.8)),
            "three seconds later is too soon"
        );
        // The interval is now 10 s, counted from the refused poll.
        assert!(!clock.poll(&r, at(117.8)));
        assert!(
            clock.poll(&r, at(132.8)),
            "15 s after the last is enough at 15 s"
        );
        assert!(!clock.poll(&r, at(147.0)), "14.2 s is too soon at 15 s");
        let other = request(5);
        assert!(
            clock.poll(&other, at(147.0)),
            "each request has its own clock"
        );
    }
}

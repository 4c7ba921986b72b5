//! When each device or CIBA request was last polled, and its interval: in this process's
//! memory, so a poll costs no write (a leaf: the provider holds one).

use moka::sync::Cache;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_domain::ApprovalRequest;

/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval, for good.
pub const SLOW_DOWN_SECS: i64 = 5;

#[derive(Clone, Copy)]
struct Poll {
    last: Option<i64>,
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

    /// Records a poll at `now`: `false` (and a longer interval) when it came too soon.
    pub(crate) fn poll(&self, r: &ApprovalRequest, now: i64) -> bool {
        let entry = self.0.get_with(r.id, || {
            Arc::new(Mutex::new(Poll {
                last: None,
                interval: r.interval_secs,
            }))
        });
        let mut p = entry.lock().unwrap_or_else(|e| e.into_inner());
        let too_soon = p.last.is_some_and(|last| now - last < p.interval);
        if too_soon {
            p.interval += SLOW_DOWN_SECS;
        }
        p.last = Some(now);
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
        assert!(clock.poll(&r, 100), "the first poll is never too soon");
        assert!(clock.poll(&r, 105), "at the interval");
        assert!(!clock.poll(&r, 108), "three seconds later is too soon");
        // The interval is now 10 s, counted from the refused poll.
        assert!(!clock.poll(&r, 113));
        assert!(clock.poll(&r, 128), "15 s after the last is enough at 15 s");
        assert!(!clock.poll(&r, 140));
        let other = request(5);
        assert!(clock.poll(&other, 140), "each request has its own clock");
    }
}

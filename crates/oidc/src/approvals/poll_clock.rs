//! What this process knows of the requests being polled (a leaf: the provider holds one):
//! when each was last polled and its interval, so a poll costs no write; and whether it
//! was pending when last read, so a poll of a request still waiting costs no read either.
//!
//! "Pending" is the one answer kept, and only for as long as nothing may have changed it:
//! a decision drops it here ([`PollClock::forget`]: at once in the deciding process,
//! through the change log in the others), it ends at the request's expiry, and it is read
//! again after [`REREAD_AFTER_MS`] in case a change never arrived. A read that raced a
//! decision is not kept: every decision moves an epoch the reader compares.

use moka::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_domain::{ApprovalKind, ApprovalRequest, ApprovalStatus, ClientUuid, RealmId};

/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval, for good.
pub const SLOW_DOWN_SECS: i64 = 5;
/// Arrival times jitter with the queues on the way: a poll sent a full interval after
/// the previous one may arrive a little sooner. A quarter second of grace keeps such a
/// device from being slowed down for it (measured: 1–10 per 5,400 exact polls without).
const GRACE_MS: i64 = 250;
/// A pending answer is read again after this long, as cached realms and clients are: the
/// bound on staleness should a decision's change record be lost.
pub const REREAD_AFTER_MS: i64 = 30_000;

/// What a client polls with: the realm, the kind, and the SHA-256 of the device code or
/// `auth_req_id`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Handle(RealmId, ApprovalKind, Vec<u8>);

impl Handle {
    pub(crate) fn new(realm: RealmId, kind: ApprovalKind, hash: Vec<u8>) -> Self {
        Self(realm, kind, hash)
    }

    pub(crate) fn hash(&self) -> &[u8] {
        &self.2
    }
}

/// A request known to be pending: what answering a poll of it needs.
#[derive(Clone, Copy)]
pub(crate) struct Waiting {
    pub id: uuid::Uuid,
    pub client: ClientUuid,
}

struct Poll {
    client: ClientUuid,
    /// Milliseconds since the epoch.
    expires_at_ms: i64,
    /// When it was last polled (milliseconds).
    last: Option<i64>,
    /// Seconds.
    interval: i64,
    /// When it was read as pending (milliseconds), while that answer stands.
    pending_since: Option<i64>,
}

type Entry = Arc<Mutex<Poll>>;

/// The requests being polled, by id, and the id each handle names (which never changes).
pub(crate) struct PollClock {
    handles: Cache<Handle, uuid::Uuid>,
    polls: Cache<uuid::Uuid, Entry>,
    /// Moved by every decision this process hears of.
    epoch: AtomicU64,
}

fn lock(e: &Entry) -> std::sync::MutexGuard<'_, Poll> {
    e.lock().unwrap_or_else(|e| e.into_inner())
}

impl PollClock {
    pub(crate) fn new() -> Self {
        // No request outlives an hour; the caps bound memory under a flood of requests.
        let idle = Duration::from_secs(3600);
        Self {
            handles: Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(idle)
                .build(),
            polls: Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(idle)
                .build(),
            epoch: AtomicU64::new(0),
        }
    }

    /// The request `handle` names if it was read as pending, is still unexpired at
    /// `now_ms`, and no decision was heard of since.
    pub(crate) fn waiting(&self, handle: &Handle, now_ms: i64) -> Option<Waiting> {
        let id = self.handles.get(handle)?;
        let entry = self.polls.get(&id)?;
        let p = lock(&entry);
        let since = p.pending_since?;
        (now_ms < p.expires_at_ms && now_ms - since < REREAD_AFTER_MS).then_some(Waiting {
            id,
            client: p.client,
        })
    }

    /// Where a reader stands before it reads a request: pass it to [`Self::remember`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Keeps what a read at `epoch` found: the request's handle, and "pending" unless a
    /// decision was heard of since the read began.
    pub(crate) fn remember(&self, handle: Handle, r: &ApprovalRequest, epoch: u64, now_ms: i64) {
        let entry = self.entry(r);
        self.handles.insert(handle, r.id);
        let mut p = lock(&entry);
        // Checked under the entry's lock, which `forget` takes after moving the epoch: a
        // decision either shows here or clears what is set here.
        p.pending_since = (r.status == ApprovalStatus::Pending
            && self.epoch.load(Ordering::SeqCst) == epoch)
            .then_some(now_ms);
    }

    /// A decision on request `id`: its pending answer, if kept, no longer stands.
    pub(crate) fn forget(&self, id: uuid::Uuid) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(entry) = self.polls.get(&id) {
            lock(&entry).pending_since = None;
        }
    }

    /// Records a poll of request `id` at `now_ms`: `false` (and a longer interval) when
    /// it came too soon.
    pub(crate) fn poll(&self, id: uuid::Uuid, now_ms: i64) -> bool {
        let Some(entry) = self.polls.get(&id) else {
            // Only a request read or remembered is polled; nothing to slow down.
            return true;
        };
        let mut p = lock(&entry);
        let too_soon = p
            .last
            .is_some_and(|last| now_ms - last < p.interval * 1000 - GRACE_MS);
        if too_soon {
            p.interval += SLOW_DOWN_SECS;
        }
        p.last = Some(now_ms);
        !too_soon
    }

    fn entry(&self, r: &ApprovalRequest) -> Entry {
        self.polls.get_with(r.id, || {
            Arc::new(Mutex::new(Poll {
                client: r.client,
                expires_at_ms: r.expires_at.0.saturating_mul(1000),
                last: None,
                interval: r.interval_secs,
                pending_since: None,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::UnixTime;

    fn request(interval: i64) -> ApprovalRequest {
        ApprovalRequest {
            id: uuid::Uuid::now_v7(),
            realm_id: RealmId::new_v7(),
            kind: ApprovalKind::Device,
            client: ClientUuid::new_v7(),
            scope: Default::default(),
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

    fn handle_of(r: &ApprovalRequest) -> Handle {
        Handle::new(r.realm_id, r.kind, r.id.as_bytes().to_vec())
    }

    const fn at(secs: i64) -> i64 {
        secs * 1000
    }

    #[test]
    fn polling_faster_than_the_interval_adds_five_seconds_for_good() {
        let clock = PollClock::new();
        let r = request(5);
        clock.remember(handle_of(&r), &r, clock.epoch(), 0);
        assert!(
            clock.poll(r.id, at(100)),
            "the first poll is never too soon"
        );
        assert!(clock.poll(r.id, at(105)), "at the interval");
        assert!(
            clock.poll(r.id, 109_800),
            "arriving 0.2 s early is within the grace"
        );
        assert!(
            !clock.poll(r.id, 112_800),
            "three seconds later is too soon"
        );
        // The interval is now 10 s, counted from the refused poll.
        assert!(!clock.poll(r.id, 117_800));
        assert!(
            clock.poll(r.id, 132_800),
            "15 s after the last is enough at 15 s"
        );
        assert!(!clock.poll(r.id, at(147)), "14.2 s is too soon at 15 s");
        let other = request(5);
        clock.remember(handle_of(&other), &other, clock.epoch(), 0);
        assert!(
            clock.poll(other.id, at(147)),
            "each request has its own clock"
        );
    }

    #[test]
    fn a_pending_answer_stands_until_a_decision_expiry_or_thirty_seconds() {
        let clock = PollClock::new();
        let r = request(5);
        let h = handle_of(&r);
        assert!(clock.waiting(&h, at(1)).is_none(), "never read");
        clock.remember(h.clone(), &r, clock.epoch(), at(10));
        let w = clock.waiting(&h, at(11)).expect("read as pending");
        assert_eq!((w.id, w.client), (r.id, r.client));
        assert!(clock.waiting(&h, at(39)).is_some());
        assert!(clock.waiting(&h, at(40)).is_none(), "read again after 30 s");

        clock.remember(h.clone(), &r, clock.epoch(), at(590));
        assert!(clock.waiting(&h, at(599)).is_some());
        assert!(clock.waiting(&h, at(600)).is_none(), "expired");

        clock.remember(h.clone(), &r, clock.epoch(), at(100));
        clock.forget(r.id);
        assert!(clock.waiting(&h, at(101)).is_none(), "decided");

        let approved = ApprovalRequest {
            status: ApprovalStatus::Approved,
            ..r.clone()
        };
        clock.remember(h.clone(), &approved, clock.epoch(), at(102));
        assert!(clock.waiting(&h, at(103)).is_none(), "only pending is kept");
    }

    #[test]
    fn a_read_that_raced_a_decision_is_not_kept_as_pending() {
        let clock = PollClock::new();
        let r = request(5);
        let h = handle_of(&r);
        let before_read = clock.epoch();
        // The decision lands (here or via the change log) while the read is in flight.
        clock.forget(uuid::Uuid::now_v7());
        clock.remember(h.clone(), &r, before_read, at(10));
        assert!(clock.waiting(&h, at(11)).is_none());
        clock.remember(h.clone(), &r, clock.epoch(), at(12));
        assert!(clock.waiting(&h, at(13)).is_some(), "a later read is kept");
    }
}

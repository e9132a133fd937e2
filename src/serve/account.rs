//! The account of every accepted message: how many each mode accepted
//! (handed to librdkafka), and how many of those were delivered, failed or
//! left undelivered at shutdown. Counters only, so the memory stays fixed
//! however many messages pass; each message that is not delivered is
//! logged, one line with its requestId and eventId, when its fate is known,
//! so the complete list is in the log: at info while the service runs (the
//! client was told already, by the error answer or the ERROR status) and at
//! warn, shown by default, once the shutdown began (nobody else will hear).
//!
//! What the states promise, from librdkafka's delivery report:
//! - delivered: the broker acknowledged it (acks=1 or acks=all), with its
//!   partition and offset; a reader of the topic finds it.
//! - failed: librdkafka gave up with an error (e.g. `Local: Message timed
//!   out` after message.timeout.ms). It was NOT acknowledged, but a request
//!   carrying it may still have reached the broker: a plain (acks=1)
//!   message whose ProduceRequest timed out on the client can be in the
//!   topic, once or more (librdkafka marks such errors "possibly persisted").
//! - undelivered: still in librdkafka's hands when the shutdown flush ran
//!   out, and purged (`Local: Purged in queue` or `Local: Purged in flight`).
//!   A message purged from the queue may already have been sent once and be
//!   waiting for a retry; one purged in flight was sent and its answer is
//!   ignored. Either may be in the topic; none was acknowledged.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde::Serialize;

use super::params::{Mode, SendMode};
use super::producers::Written;

/// Where one accepted message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Failed,
    Undelivered,
}

impl Fate {
    /// How librdkafka's error for a message that was not delivered reads.
    pub fn of_error(error: &KafkaError) -> Fate {
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight) => Fate::Undelivered,
            _ => Fate::Failed,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Fate::Delivered => "delivered",
            Fate::Failed => "failed",
            Fate::Undelivered => "undelivered",
        }
    }
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    undelivered: AtomicU64,
    possibly_written: AtomicU64,
}

/// One mode's numbers, as GET /api/v1/status (without a requestId) and the
/// shutdown summary show them. pending = accepted - delivered - failed -
/// undelivered: still waiting for librdkafka's delivery report.
/// possibly_written: of the failed and undelivered, how many librdkafka
/// says were sent without an answer (rd_kafka_message_status
/// POSSIBLY_PERSISTED), so may be in the topic; the others were not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeAccount {
    pub accepted: u64,
    pub delivered: u64,
    pub failed: u64,
    pub undelivered: u64,
    pub pending: u64,
    pub possibly_written: u64,
}

/// Both modes' numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub plain: ModeAccount,
    pub idempotent: ModeAccount,
}

impl AccountView {
    pub fn not_delivered(&self) -> u64 {
        [self.plain, self.idempotent].iter().map(|m| m.accepted - m.delivered).sum()
    }

    pub fn accepted(&self) -> u64 {
        self.plain.accepted + self.idempotent.accepted
    }

    /// "plain: 1000 accepted, 1000 delivered, 0 failed, 0 undelivered, 0 pending; idempotent: ..."
    pub fn summary(&self) -> String {
        let mode = |name: &str, m: &ModeAccount| {
            format!(
                "{name}: {} accepted = {} delivered + {} failed + {} undelivered + {} pending ({} of the failed and undelivered possibly written)",
                m.accepted, m.delivered, m.failed, m.undelivered, m.pending, m.possibly_written
            )
        };
        format!("{}; {}", mode("plain", &self.plain), mode("idempotent", &self.idempotent))
    }
}

#[derive(Default)]
pub struct Account {
    plain: Counters,
    idempotent: Counters,
    /// Set when the shutdown begins: from then on a message not delivered
    /// is logged at warn.
    stopping: AtomicBool,
}

/// Which message a fate belongs to, for its log line.
pub struct Ticket<'a> {
    pub mode: Mode,
    pub send_mode: SendMode,
    pub request_id: &'a str,
    pub event_id: &'a str,
}

impl Account {
    fn counters(&self, mode: Mode) -> &Counters {
        match mode {
            Mode::Plain => &self.plain,
            Mode::Idempotent => &self.idempotent,
        }
    }

    /// librdkafka is about to take the message: from then on it gets a delivery report.
    pub fn accept(&self, mode: Mode) {
        self.counters(mode).accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// librdkafka refused it after all (QueueFull, an unknown partition): the client got the error.
    pub fn unaccept(&self, mode: Mode) {
        self.counters(mode).accepted.fetch_sub(1, Ordering::Relaxed);
    }

    /// The delivery report arrived; a message not delivered gets its log
    /// line, with librdkafka's error and its verdict on whether the message
    /// may be in the topic anyway.
    pub fn settle(&self, ticket: &Ticket<'_>, fate: Fate, error: Option<(&str, Written)>) {
        let counters = self.counters(ticket.mode);
        let counter = match fate {
            Fate::Delivered => &counters.delivered,
            Fate::Failed => &counters.failed,
            Fate::Undelivered => &counters.undelivered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if fate == Fate::Delivered {
            return;
        }
        let (error, written) = error.unwrap_or(("", Written::Possibly));
        if written != Written::No {
            counters.possibly_written.fetch_add(1, Ordering::Relaxed);
        }
        let line = format!(
            "message {}: mode={} sendMode={} requestId={} eventId={:?} written={} error={:?}",
            fate.as_str(),
            ticket.mode.as_str(),
            ticket.send_mode.as_str(),
            ticket.request_id,
            ticket.event_id,
            written.as_str(),
            error
        );
        if self.stopping.load(Ordering::Relaxed) {
            tracing::warn!("{line}");
        } else {
            tracing::info!("{line}");
        }
    }

    pub fn begin_shutdown(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    pub fn view(&self) -> AccountView {
        let mode = |mode: Mode| {
            let c = self.counters(mode);
            // Read the outcomes before accepted, so pending never goes negative
            // while sends are counted concurrently.
            let (delivered, failed, undelivered) =
                (c.delivered.load(Ordering::Relaxed), c.failed.load(Ordering::Relaxed), c.undelivered.load(Ordering::Relaxed));
            let possibly_written = c.possibly_written.load(Ordering::Relaxed);
            let accepted = c.accepted.load(Ordering::Relaxed);
            let pending = accepted.saturating_sub(delivered + failed + undelivered);
            ModeAccount { accepted, delivered, failed, undelivered, pending, possibly_written }
        };
        AccountView { plain: mode(Mode::Plain), idempotent: mode(Mode::Idempotent) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_message_is_in_one_state() {
        let account = Account::default();
        for _ in 0..4 {
            account.accept(Mode::Idempotent);
        }
        account.accept(Mode::Plain);
        let ticket = |mode| Ticket { mode, send_mode: SendMode::Async, request_id: "r", event_id: "e" };
        account.settle(&ticket(Mode::Idempotent), Fate::Delivered, None);
        account.settle(&ticket(Mode::Idempotent), Fate::Failed, Some(("Local: Message timed out", Written::Possibly)));
        account.settle(&ticket(Mode::Idempotent), Fate::Undelivered, Some(("Local: Purged in queue", Written::No)));
        let view = account.view();
        assert_eq!(view.idempotent, ModeAccount { accepted: 4, delivered: 1, failed: 1, undelivered: 1, pending: 1, possibly_written: 1 });
        assert_eq!(view.plain.pending, 1);
        assert_eq!(view.not_delivered(), 4);
        assert!(view.summary().starts_with("plain: 1 accepted = 0 delivered + 0 failed"), "{}", view.summary());
    }

    #[test]
    fn purges_are_undelivered_and_other_errors_failed() {
        let fate = |code| Fate::of_error(&KafkaError::MessageProduction(code));
        assert_eq!(fate(RDKafkaErrorCode::PurgeQueue), Fate::Undelivered);
        assert_eq!(fate(RDKafkaErrorCode::PurgeInflight), Fate::Undelivered);
        assert_eq!(fate(RDKafkaErrorCode::MessageTimedOut), Fate::Failed);
    }
}

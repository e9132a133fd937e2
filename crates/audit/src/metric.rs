//! The audit's metrics, in one place: each count of a [`Verdict`], its
//! name (the JSON field and the `[[expect]]` key), its label in reports,
//! and the lists the reports and expectations use. Adding a metric is a
//! field on [`Verdict`], a variant here, and its place in the lists.

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use super::Verdict;

/// One count of a [`Verdict`], in the order of its fields. Its name is
/// derived from the variant (serde's and strum's snake_case agree; a test
/// checks each against `Verdict`'s JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    Sent,
    Acked,
    Failed,
    PossiblyPersisted,
    Unknown,
    Duplicates,
    Lost,
    Phantom,
    PersistedAfterFailure,
    Reordered,
    OffsetMismatch,
    AckedWithoutOffset,
    Unexpected,
}

impl Metric {
    /// Every metric, in the order of [`Verdict`]'s fields.
    pub const ALL: &'static [Metric] = <Metric as VariantArray>::VARIANTS;

    /// The metrics an `[[expect]]` table can bound, in the order error
    /// messages and the schema list them.
    pub const EXPECTABLE: [Metric; 8] = [
        Metric::Duplicates,
        Metric::Lost,
        Metric::Phantom,
        Metric::Reordered,
        Metric::Failed,
        Metric::PossiblyPersisted,
        Metric::OffsetMismatch,
        Metric::Acked,
    ];

    /// The rows of a report's counts table, in order.
    pub const SUMMARY: [Metric; 11] = [
        Metric::Sent,
        Metric::Acked,
        Metric::Failed,
        Metric::PossiblyPersisted,
        Metric::Unknown,
        Metric::Duplicates,
        Metric::Lost,
        Metric::Phantom,
        Metric::Reordered,
        Metric::OffsetMismatch,
        Metric::AckedWithoutOffset,
    ];

    /// What went wrong, as the anomalies chart shows it.
    pub const ANOMALIES: [Metric; 7] = [
        Metric::Duplicates,
        Metric::Lost,
        Metric::Phantom,
        Metric::Reordered,
        Metric::OffsetMismatch,
        Metric::Failed,
        Metric::PossiblyPersisted,
    ];

    /// The name in JSON and in scenario files.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The words a report shows for it.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Unknown => "no report (interrupted)",
            Metric::PossiblyPersisted => "possibly persisted",
            Metric::PersistedAfterFailure => "persisted after failure",
            Metric::OffsetMismatch => "offset mismatch",
            Metric::AckedWithoutOffset => "acked without offset",
            other => other.name(),
        }
    }

    /// The metric of this name ([`Metric::name`]).
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Verdict {
    /// The count of `metric`.
    pub fn get(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Sent => self.sent,
            Metric::Acked => self.acked,
            Metric::Failed => self.failed,
            Metric::PossiblyPersisted => self.possibly_persisted,
            Metric::Unknown => self.unknown,
            Metric::Duplicates => self.duplicates,
            Metric::Lost => self.lost,
            Metric::Phantom => self.phantom,
            Metric::PersistedAfterFailure => self.persisted_after_failure,
            Metric::Reordered => self.reordered,
            Metric::OffsetMismatch => self.offset_mismatch,
            Metric::AckedWithoutOffset => self.acked_without_offset,
            Metric::Unexpected => self.unexpected,
        }
    }
}

//! Holding a scenario's expectations against the audit's verdicts.

use serde::{Deserialize, Serialize};

use crate::audit::{Metric, Verdict};
use crate::scenario::{Expectation, Level};

/// One expectation, with what each repeat measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    pub producer: String,
    pub metric: Metric,
    /// The bound as written, e.g. ">= 1".
    pub expected: String,
    pub level: Level,
    /// The measured value in each repeat.
    pub measured: Vec<u64>,
    /// Whether the bound held in every repeat.
    pub held: bool,
}

impl ExpectationResult {
    /// A required expectation that did not hold fails the run; a
    /// demonstration that did not show is only a warning.
    pub fn fails_run(&self) -> bool {
        !self.held && self.level == Level::Required
    }
}

/// Check every expectation against every repeat's verdicts.
pub fn check(expectations: &[Expectation], repeats: &[Vec<Verdict>]) -> Vec<ExpectationResult> {
    expectations
        .iter()
        .map(|expectation| {
            let measured: Vec<u64> = repeats
                .iter()
                .map(|verdicts| {
                    verdicts.iter().find(|v| v.producer == expectation.producer).map(|v| v.get(expectation.metric)).unwrap_or(0)
                })
                .collect();
            let ran = repeats.iter().all(|verdicts| verdicts.iter().any(|v| v.producer == expectation.producer));
            ExpectationResult {
                producer: expectation.producer.clone(),
                metric: expectation.metric,
                expected: expectation.bound.to_string(),
                level: expectation.level,
                held: ran && !measured.is_empty() && measured.iter().all(|&v| expectation.bound.holds(v)),
                measured,
            }
        })
        .collect()
}

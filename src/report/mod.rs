//! The report of a run of one or more scenarios, and its renderings.
//!
//! [`RunReport`] is the model every format renders; its JSON form is the
//! saved run (versioned by [`SCHEMA_VERSION`]).

mod charts;
pub(crate) mod common;
pub mod compare;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod outputs;
pub mod series;
pub mod terminal;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::Verdict;
use crate::check::ExpectationResult;
use crate::env::BackendInfo;
use crate::run::ProducerRun;
use crate::run::timeline::FaultWindow;
use crate::scenario::Scenario;

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub faultlab_version: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub scenarios: Vec<ScenarioReport>,
    /// True when the run was stopped before it finished.
    #[serde(default)]
    pub interrupted: bool,
}

impl RunReport {
    pub fn new(scenarios: Vec<ScenarioReport>, started_at: String) -> Self {
        RunReport {
            schema_version: SCHEMA_VERSION,
            faultlab_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at,
            scenarios,
            interrupted: false,
        }
    }

    /// Every required expectation of every scenario held.
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(ScenarioReport::passed)
    }

    /// How the run ended, for every rendering's headline.
    pub fn outcome(&self) -> RunOutcome {
        if self.interrupted {
            RunOutcome::Interrupted
        } else if self.passed() {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        }
    }

    /// How many scenarios met every required expectation.
    pub fn scenarios_passed(&self) -> usize {
        self.scenarios.iter().filter(|s| s.passed()).count()
    }
}

/// How a whole run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Stopped (Ctrl-C) before it finished.
    Interrupted,
    Passed,
    Failed,
}

impl RunOutcome {
    pub fn word(self) -> &'static str {
        match self {
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Passed => "passed",
            RunOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The file the scenario came from.
    pub source: std::path::PathBuf,
    pub scenario: Scenario,
    pub seed: u64,
    pub backend: BackendInfo,
    pub repeats: Vec<Repeat>,
    pub expectations: Vec<ExpectationResult>,
    /// What the reader must know to read the numbers right (backend caveats).
    pub notes: Vec<String>,
    /// Why the scenario could not run to its end (its environment did not
    /// start, a run failed); the repeats that completed are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ScenarioReport {
    /// A skipped scenario passes: it was not meant for this backend.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && (self.skipped() || (!self.repeats.is_empty() && !self.expectations.iter().any(ExpectationResult::fails_run)))
    }

    /// Nothing ran because the scenario's `backends` leaves this run's backend out.
    pub fn skipped(&self) -> bool {
        self.repeats.is_empty() && self.error.is_none() && !self.scenario.runs_on(&self.backend.backend)
    }

    /// The report, or its error when the scenario could not run to its end.
    pub fn result(self) -> Result<ScenarioReport, String> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// When it did not run to its end: a headline and why, for every
    /// rendering.
    pub fn failure(&self) -> Option<(String, String)> {
        let why = || self.error.clone().unwrap_or_else(|| "no repeat completed".into());
        match self.repeats.len() {
            0 if !self.skipped() => Some(("The scenario did not run".into(), why())),
            0 => None,
            n => self
                .error
                .as_ref()
                .map(|error| (format!("The scenario stopped after {n} completed run{}", if n == 1 { "" } else { "s" }), error.clone())),
        }
    }
}

/// One run of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repeat {
    pub run_id: String,
    pub verdicts: Vec<Verdict>,
    pub faults: Vec<FaultWindow>,
    pub producers: Vec<ProducerRun>,
    /// From the first send to the last delivery report, in milliseconds.
    pub producing_ms: u64,
    /// Per producer, acknowledgements over time and the duplicated
    /// messages, for the HTML charts (see [`series::series`]). Empty in
    /// reports saved before it existed.
    #[serde(default)]
    pub series: Vec<series::ProducerSeries>,
    /// Per producer, its duplicates by cause, from the proxy's record of
    /// every Produce batch (Kafka-mode proxies only; empty otherwise).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wire: BTreeMap<String, crate::audit::wire::Attribution>,
}

//! slicer: cut each chunk into slices of about `average_size` bytes (±
//! `size_variation`) and pause `delay` microseconds after each, so the
//! receiver sees its reads split as on a real network.
//!
//! The cut points follow Toxiproxy's algorithm: halve a piece (the middle
//! moved by up to ± `size_variation`) until it is within `size_variation`
//! of the average, which gives evenly varying slices with no bias towards a
//! small first or last one.

use std::ops::Range;
use std::time::Duration;

use rand::Rng;
use rand::rngs::SmallRng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::time::sleep;

use crate::pipe::{LinkState, Pipe};
use crate::stub::{PipeEnd, Stub};

/// Slices data into chunks of about `average_size` bytes (give or take `size_variation`), waiting `delay` µs
/// after each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slicer {
    /// Bytes per slice on average, 1 or more (required).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub average_size: i64,
    /// How far a slice may be from the average, 0 to average_size bytes.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub size_variation: i64,
    /// Microseconds to wait after each slice (default 0).
    #[serde(default)]
    pub delay: i64,
}

impl Pipe for Slicer {
    /// Toxiproxy loops forever with `average_size` 0 and panics when the
    /// variation exceeds the average; both are refused here.
    fn validate(&self) -> Result<(), String> {
        if self.average_size < 1 {
            return Err(format!("attributes.average_size: `{}`; accepted: 1 or more bytes", self.average_size));
        }
        if self.size_variation < 0 || self.size_variation > self.average_size {
            return Err(format!(
                "attributes.size_variation: `{}`; accepted: 0 to average_size ({})",
                self.size_variation, self.average_size
            ));
        }
        Ok(())
    }

    async fn pipe(&self, stub: &mut Stub, _state: &mut LinkState) -> PipeEnd {
        let delay = Duration::from_micros(self.delay.max(0) as u64);
        loop {
            let mut chunk = match stub.recv().await {
                Ok(chunk) => chunk,
                Err(end) => return end,
            };
            let slices = self.slices(chunk.len(), &mut stub.rng);
            for slice in slices {
                stub.send(chunk.split_to(slice.len()));
                if !delay.is_zero() {
                    tokio::select! {
                        biased;
                        _ = stub.interruption() => {
                            stub.unread(chunk);
                            return PipeEnd::Interrupted;
                        }
                        _ = sleep(delay) => {}
                    }
                }
            }
        }
    }
}

impl Slicer {
    /// The slices of `0..len`, in order. Invalid settings (which
    /// [`Pipe::validate`] refuses) degrade to one slice.
    pub fn slices(&self, len: usize, rng: &mut SmallRng) -> Vec<Range<usize>> {
        let mut slices = Vec::new();
        if self.validate().is_err() {
            slices.push(0..len);
            return slices;
        }
        let (average, variation) = (self.average_size as usize, self.size_variation as usize);
        // Depth-first over pieces still too big, right half pushed first so
        // the left one comes out first.
        let mut pending: Vec<Range<usize>> = Vec::new();
        pending.push(0..len);
        while let Some(piece) = pending.pop() {
            if piece.len() <= average + variation {
                slices.push(piece);
                continue;
            }
            let mut mid = piece.start + piece.len() / 2;
            if variation > 0 {
                mid = mid + rng.random_range(0..2 * variation) - variation;
            }
            pending.push(mid..piece.end);
            pending.push(piece.start..mid);
        }
        slices
    }
}

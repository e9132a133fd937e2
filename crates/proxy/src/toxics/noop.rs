//! The pass-through at the head of every chain (Toxiproxy keeps one too),
//! and what a toxic runs as on a connection its toxicity roll spared.

use crate::stub::{PipeEnd, Stub};

pub async fn pipe(stub: &mut Stub) -> PipeEnd {
    loop {
        match stub.recv().await {
            Ok(chunk) => stub.send(chunk),
            Err(end) => return end,
        }
    }
}

//! The pass-through that stands in a link's chain when no toxic applies.

use crate::proxy::stub::{PipeEnd, Stub};

pub async fn pipe(stub: &mut Stub) -> PipeEnd {
    loop {
        match stub.recv().await {
            Ok(chunk) => stub.send(chunk),
            Err(end) => return end,
        }
    }
}

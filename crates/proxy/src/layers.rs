//! The proxy's layers hold: every `crate::`/`super::` path of src/ goes
//! down lib.rs's layer list, with no cycle (the check is the
//! `faultlab-layers` crate's, shared with the application).

use std::path::Path;

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(faultlab_layers::files_read(&src) > 40, "read too few files of {}", src.display());
    let problems = faultlab_layers::problems(&src);
    assert!(problems.is_empty(), "the proxy's layers are broken:\n{}", problems.join("\n"));
}

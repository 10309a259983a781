//! Embeds the browser-side Guacamole client (npm package guacamole-common-js, installed in
//! web/node_modules by `make demo` / `make test`) into the binary, so the gateway serves it
//! without files beside it.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let source = manifest
        .join("../../web/node_modules/guacamole-common-js/dist/esm/guacamole-common.min.js");
    println!("cargo::rerun-if-changed={}", source.display());
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("guacamole-common.js");
    match std::fs::read(&source) {
        Ok(bytes) => {
            if let Err(e) = std::fs::write(&out, bytes) {
                panic!("cannot write {}: {e}", out.display());
            }
        }
        Err(e) => panic!(
            "cannot read {} ({e}); install the browser packages first: `cd web && npm ci` \
             (make demo and make test do this)",
            source.display()
        ),
    }
}

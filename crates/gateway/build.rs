//! Embeds the browser-side packages (installed in web/node_modules by `make demo` / `make test`)
//! into the binary, so the gateway serves them without files beside it: guacamole-common-js
//! (graphical sessions), xterm.js and its fit add-on (the terminal), asciinema-player (terminal
//! recordings).

use std::path::PathBuf;

/// (file under web/node_modules, name in OUT_DIR)
const FILES: &[(&str, &str)] = &[
    (
        "guacamole-common-js/dist/esm/guacamole-common.min.js",
        "guacamole-common.js",
    ),
    ("@xterm/xterm/lib/xterm.mjs", "xterm.mjs"),
    ("@xterm/xterm/css/xterm.css", "xterm.css"),
    ("@xterm/addon-fit/lib/addon-fit.mjs", "addon-fit.mjs"),
    (
        "asciinema-player/dist/bundle/asciinema-player.min.js",
        "asciinema-player.min.js",
    ),
    (
        "asciinema-player/dist/bundle/asciinema-player.css",
        "asciinema-player.css",
    ),
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    for (source, name) in FILES {
        let source = manifest.join("../../web/node_modules").join(source);
        println!("cargo::rerun-if-changed={}", source.display());
        let out = out_dir.join(name);
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
}

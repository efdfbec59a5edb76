//! The standard plugins, built from `plugins/` by `build.rs` and embedded in the binary.

include!(concat!(env!("OUT_DIR"), "/bundled_plugins.rs"));

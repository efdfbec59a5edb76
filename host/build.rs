//! Builds the standard plugins for wasm32-wasip2 so that the host binary bundles them.

const BUNDLED: [&str; 3] = ["normalize-standard", "map-standard", "render-template"];

fn main() {
    let built = moja_build_support::build_components(&BUNDLED, "wasm-bundled");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let mut table = String::from(
        "/// The bundled standard plugins: (name, component bytes).\npub(crate) const BUNDLED: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in built {
        table.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    table.push_str("];\n");
    std::fs::write(out.join("bundled_plugins.rs"), table).expect("write bundled_plugins.rs");
}

//! Builds the purpose-built test plugins for wasm32-wasip2; tests find them through env vars.

fn main() {
    let built = moja_build_support::build_components(
        &["hostile-plugins", "not-a-plugin"],
        "wasm-test-plugins",
    );
    for (name, path) in built {
        let var = format!("MOJA_TEST_PLUGIN_{}", name.replace('-', "_").to_uppercase());
        println!("cargo:rustc-env={var}={}", path.display());
    }
}

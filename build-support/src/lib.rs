//! Builds plugin crates of this workspace for `wasm32-wasip2` from a build script.
//!
//! The nested cargo gets its own target directory: sharing the outer build's would wait forever
//! on the lock the outer build holds. Variables the outer cargo sets for its own compilation
//! (flags, wrappers such as clippy-driver, the target) are removed so the nested build is a plain
//! release-style build with the `plugin` profile.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// Builds each package (one cargo invocation each, so that every component carries only its own
/// world) and returns `(package name, path of the .wasm)`. `subdir` names the nested target
/// directory under the workspace's `target/`.
pub fn build_components(packages: &[&str], subdir: &str) -> Vec<(String, PathBuf)> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .ancestors()
        .find(|dir| dir.join("rust-toolchain.toml").exists())
        .expect("the workspace root (with rust-toolchain.toml) above CARGO_MANIFEST_DIR")
        .to_path_buf();
    for watched in [
        "plugins",
        "plugin-sdk",
        "core/keys",
        "wit",
        "tests/plugins",
        "Cargo.lock",
        "Cargo.toml",
        ".cargo/config.toml",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    ensure_target_installed();
    let target_dir = target_root(&workspace).join(subdir);
    packages
        .iter()
        .map(|package| {
            build_one(&workspace, &target_dir, package);
            let out = target_dir.join(TARGET).join("plugin");
            // Libraries are named with underscores, binaries keep their hyphens.
            let file = [package.replace('-', "_"), package.to_string()]
                .iter()
                .map(|stem| out.join(format!("{stem}.wasm")))
                .find(|file| file.exists())
                .unwrap_or_else(|| panic!("{package}.wasm was not produced in {}", out.display()));
            (package.to_string(), file)
        })
        .collect()
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by cargo for build scripts"))
}

/// The outer build's target directory: `OUT_DIR` is `<target>/<profile>/build/<pkg>-<hash>/out`.
fn target_root(workspace: &Path) -> PathBuf {
    let out_dir = PathBuf::from(env("OUT_DIR"));
    out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace.join("target"))
}

/// Installs the wasm target when it is missing: `RUSTUP_AUTO_INSTALL=0` machines do not install
/// the targets of `rust-toolchain.toml` by themselves.
fn ensure_target_installed() {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    if let Some(sysroot) = sysroot
        && sysroot.join("lib/rustlib").join(TARGET).exists()
    {
        return;
    }
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN").ok();
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    if let Some(toolchain) = &toolchain {
        rustup.args(["--toolchain", toolchain]);
    }
    let status = rustup.status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the {TARGET} target is missing and `rustup target add {TARGET}` failed ({status:?}); install it and build again"
    );
}

fn build_one(workspace: &Path, target_dir: &Path, package: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--quiet", "--locked", "--package", package])
        .args(["--target", TARGET, "--profile", "plugin", "--target-dir"])
        .arg(target_dir);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let outer_only = key.starts_with("CARGO_ENCODED_RUSTFLAGS")
            || key.starts_with("RUSTFLAGS")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
            || key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || key.starts_with("CARGO_PRIMARY_PACKAGE")
            || key.starts_with("DEP_")
            || matches!(
                key,
                "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "CLIPPY_ARGS"
                    | "CLIPPY_CONF_DIR"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "OPT_LEVEL"
                    | "PROFILE"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTDOC"
                    | "RUSTC_LINKER"
            );
        if outer_only {
            command.env_remove(key);
        }
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("running cargo for {package}: {e}"));
    assert!(
        status.success(),
        "building plugin {package} for {TARGET} failed ({status})"
    );
}

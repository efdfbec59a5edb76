//! Compiled components cached on disk by content hash, so that a restart does not recompile.
//!
//! Only artifacts this host compiled are ever deserialized (deserializing is `unsafe`: a crafted
//! artifact runs arbitrary code). They are written to a temporary file and renamed into place,
//! never overwritten while mapped.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// The cache file for a component of `digest` compiled by `engine`'s configuration.
fn artifact_path(dir: &Path, engine: &Engine, digest: &str) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{digest}-{:016x}.cwasm", hasher.finish()))
}

/// Compiles `bytes`, or loads the artifact compiled earlier from `dir`.
pub(crate) fn compile(
    engine: &Engine,
    bytes: &[u8],
    digest: &str,
    dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes);
    };
    let path = artifact_path(dir, engine, digest);
    if path.exists() {
        match deserialize_own_artifact(engine, &path) {
            Ok(component) => return Ok(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring unusable compiled plugin artifact");
            }
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Err(error) = store_artifact(&component, dir, &path) {
        tracing::warn!(path = %path.display(), %error, "could not cache compiled plugin");
    }
    Ok(component)
}

#[allow(unsafe_code)] // Only files this host wrote under content-addressed names are read here.
fn deserialize_own_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the artifact was produced by `Component::serialize` of this host (see
    // `store_artifact`), named by the source's SHA-256 and the engine's compatibility hash, and
    // never modified after the rename that published it.
    unsafe { Component::deserialize_file(engine, path) }
}

fn store_artifact(component: &Component, dir: &Path, path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let serialized = component.serialize().map_err(anyhow::Error::msg)?;
    let tmp = tempfile_path(path);
    std::fs::write(&tmp, serialized)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn tempfile_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

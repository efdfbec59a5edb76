//! The normalizer's per-webhook configuration (`headers`, `exclude`).

use std::collections::HashSet;

use moja_plugin_sdk::{PluginError, keys};

/// Parsed configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Whether request headers become tags (`headers=all`, the default).
    pub(crate) headers: bool,
    /// Normalized keys never emitted.
    pub(crate) exclude: HashSet<String>,
}

impl Config {
    /// Reads the configuration pairs; unknown keys are ignored, a bad `headers` value is an error.
    pub(crate) fn parse(pairs: &[(String, String)]) -> Result<Self, PluginError> {
        let mut config = Config {
            headers: true,
            exclude: HashSet::new(),
        };
        for (key, value) in pairs {
            match key.trim().to_ascii_lowercase().as_str() {
                "headers" => {
                    config.headers = match value.trim().to_ascii_lowercase().as_str() {
                        "all" | "" => true,
                        "none" => false,
                        other => {
                            return Err(PluginError::invalid(
                                "headers",
                                format!(
                                    "Invalid normalizer configuration headers={other:?}: expected \"all\" or \"none\""
                                ),
                            ));
                        }
                    }
                }
                "exclude" => config.exclude.extend(
                    value
                        .split(',')
                        .map(keys::normalize_key)
                        .filter(|k| !k.is_empty()),
                ),
                _ => {}
            }
        }
        Ok(config)
    }
}

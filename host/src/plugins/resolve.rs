//! The one plugin resolver: which plugin a name means for an org, and which loaded version
//! serves a webhook's stored reference.
//!
//! A name resolves to the org's own plugin of that name when it has one, else to the platform's
//! (a tenant's plugins are invisible to every other org; platform plugins are visible to all).
//! Webhooks store the resolved reference, so a platform plugin added later under the same name
//! never changes what a webhook runs; an unpinned reference is served by the plugin's active
//! version, a pinned one by exactly that version.

use std::sync::Arc;

use moja_store::{PluginOwner, PluginRef};

use super::{LoadedPlugin, PluginKey, PluginRuntime, PluginWorld};

/// Why a plugin name or reference cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    /// No plugin of that name is loaded for the org (or the platform).
    #[error("no plugin named {name:?} is loaded")]
    Missing {
        /// The name.
        name: String,
    },
    /// The plugin implements another world.
    #[error("plugin {name:?} is a {is}, not a {wanted}")]
    WrongWorld {
        /// The name.
        name: String,
        /// Its world.
        is: PluginWorld,
        /// The world asked for.
        wanted: PluginWorld,
    },
    /// The pinned version is not loaded.
    #[error("version {version} of plugin {name:?} is not loaded")]
    VersionMissing {
        /// The name.
        name: String,
        /// The pinned version.
        version: String,
    },
}

fn key_of(reference: &PluginRef) -> PluginKey {
    PluginKey {
        org: reference.owner.org_id().map(str::to_owned),
        name: reference.name.clone(),
    }
}

impl PluginRuntime {
    /// The reference a webhook of `org_id` stores for the plugin `name` of `world`: the org's
    /// own plugin of that name if it has one, else the platform's; unpinned.
    pub fn resolve(
        &self,
        org_id: &str,
        name: &str,
        world: PluginWorld,
    ) -> Result<PluginRef, Unresolved> {
        for owner in [PluginOwner::Org(org_id.to_owned()), PluginOwner::Platform] {
            let reference = PluginRef {
                owner,
                name: name.to_owned(),
                version: None,
            };
            if let Some(plugin) = self.get(&key_of(&reference)) {
                return check_world(plugin, world).map(|_| reference);
            }
        }
        Err(Unresolved::Missing {
            name: name.to_owned(),
        })
    }

    /// The version serving the plugin `name` of `world` for `org_id` now ([`Self::resolve`],
    /// then [`Self::serving`]).
    pub fn lookup(
        &self,
        org_id: &str,
        name: &str,
        world: PluginWorld,
    ) -> Result<Arc<LoadedPlugin>, Unresolved> {
        self.serving(&self.resolve(org_id, name, world)?, world)
    }

    /// The loaded version that serves `reference` now: its pinned version, else the plugin's
    /// active one. A call holds the returned `Arc` to its end, so an activation meanwhile never
    /// changes the version a request started on.
    pub fn serving(
        &self,
        reference: &PluginRef,
        world: PluginWorld,
    ) -> Result<Arc<LoadedPlugin>, Unresolved> {
        let key = key_of(reference);
        let plugin = match &reference.version {
            Some(version) => self.registry().get_version(&key, version).ok_or_else(|| {
                Unresolved::VersionMissing {
                    name: reference.name.clone(),
                    version: version.clone(),
                }
            })?,
            None => self.get(&key).ok_or_else(|| Unresolved::Missing {
                name: reference.name.clone(),
            })?,
        };
        check_world(plugin, world)
    }
}

fn check_world(
    plugin: Arc<LoadedPlugin>,
    world: PluginWorld,
) -> Result<Arc<LoadedPlugin>, Unresolved> {
    if plugin.world == world {
        Ok(plugin)
    } else {
        Err(Unresolved::WrongWorld {
            name: plugin.key.name.clone(),
            is: plugin.world,
            wanted: world,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::{PluginLimits, PluginSource, bundled_component, standard};

    fn runtime() -> Arc<PluginRuntime> {
        let runtime = PluginRuntime::new(PluginLimits::default(), None).unwrap();
        runtime.install_bundled().unwrap();
        runtime
    }

    #[test]
    fn a_name_resolves_to_the_orgs_plugin_before_the_platforms() {
        let runtime = runtime();
        let platform = runtime
            .resolve("org-a", standard::MAPPER, PluginWorld::Mapper)
            .unwrap();
        assert_eq!(platform, PluginRef::platform(standard::MAPPER));
        assert_eq!(
            runtime.resolve("org-a", standard::MAPPER, PluginWorld::Renderer),
            Err(Unresolved::WrongWorld {
                name: standard::MAPPER.into(),
                is: PluginWorld::Mapper,
                wanted: PluginWorld::Renderer,
            })
        );
        assert_eq!(
            runtime.resolve("org-a", "nope", PluginWorld::Mapper),
            Err(Unresolved::Missing {
                name: "nope".into()
            })
        );

        // org-a's own plugin of that name wins for org-a, and only for org-a.
        let bytes = bundled_component(standard::MAPPER).unwrap();
        let own = PluginKey {
            org: Some("org-a".into()),
            name: standard::MAPPER.into(),
        };
        runtime
            .load_and_install(own, bytes, PluginSource::Memory)
            .unwrap();
        let resolved = runtime
            .resolve("org-a", standard::MAPPER, PluginWorld::Mapper)
            .unwrap();
        assert_eq!(resolved.owner, PluginOwner::Org("org-a".into()));
        assert_eq!(
            runtime
                .resolve("org-b", standard::MAPPER, PluginWorld::Mapper)
                .unwrap(),
            platform
        );
    }

    #[test]
    fn a_pinned_version_serves_until_it_is_gone_and_unpinned_follows_the_active_one() {
        let runtime = runtime();
        let key = PluginKey {
            org: Some("org-a".into()),
            name: "mine".into(),
        };
        let first = runtime
            .load_and_install(
                key.clone(),
                bundled_component(standard::MAPPER).unwrap(),
                PluginSource::Memory,
            )
            .unwrap();
        let mut pinned = runtime
            .resolve("org-a", "mine", PluginWorld::Mapper)
            .unwrap();
        pinned.version = Some(first.version.clone());
        // A second version of the same plugin becomes the active one.
        let mut second = (*first).clone_for_test();
        second.version = "second".into();
        let second = Arc::new(second);
        runtime.install(second.clone());
        let unpinned = PluginRef {
            version: None,
            ..pinned.clone()
        };
        assert_eq!(
            runtime
                .serving(&unpinned, PluginWorld::Mapper)
                .unwrap()
                .version,
            "second"
        );
        assert_eq!(
            runtime
                .serving(&pinned, PluginWorld::Mapper)
                .unwrap()
                .version,
            first.version
        );
        pinned.version = Some("missing".into());
        assert_eq!(
            runtime.serving(&pinned, PluginWorld::Mapper).unwrap_err(),
            Unresolved::VersionMissing {
                name: "mine".into(),
                version: "missing".into()
            }
        );
    }
}

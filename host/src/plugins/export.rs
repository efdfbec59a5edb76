//! The function a plugin's world exports: found and type-checked once per loaded version, then
//! taken without a check by every call.
//!
//! wasmtime's generated bindings look the function up and check its type against the Rust types
//! on every instance. With a fresh instance per call that check was 2 % of a whole map-standard
//! call. A function's type is a property of the component, the same for all its instances, so it
//! is checked on the first instance when the version is loaded and never again.

use std::marker::PhantomData;

use wasmtime::AsContextMut;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower, Resource,
    TypedFunc,
};

use super::bindings::{map_world, normalize_world, render_world, types};
use super::call::TagSet;
use super::world::{PACKAGE_VERSION, PluginWorld};

/// The Rust signature of one world's export.
pub(crate) trait WorldFunc {
    /// Parameters, borrowed for the call.
    type Params<'a>: ComponentNamedList + Lower;
    /// Results.
    type Results: ComponentNamedList + Lift;
    /// The world whose export this is.
    const WORLD: PluginWorld;
    /// The function's name in the exported interface.
    const NAME: &'static str;
}

/// `normalize: func(request, config) -> result<normalized, plugin-error>`.
pub(crate) struct Normalize;

impl WorldFunc for Normalize {
    type Params<'a> = (&'a types::HttpRequest, &'a [(String, String)]);
    type Results = (Result<normalize_world::Normalized, types::PluginError>,);
    const WORLD: PluginWorld = PluginWorld::Normalizer;
    const NAME: &'static str = "normalize";
}

/// `map: func(kind, request, tags, config) -> result<command, plugin-error>`.
pub(crate) struct Map;

impl WorldFunc for Map {
    type Params<'a> = (
        map_world::WebhookKind,
        &'a types::HttpRequest,
        Resource<TagSet>,
        &'a [(String, String)],
    );
    type Results = (Result<map_world::Command, types::PluginError>,);
    const WORLD: PluginWorld = PluginWorld::Mapper;
    const NAME: &'static str = "map";
}

/// `render: func(template, event, tags, config) -> result<rendered-request, plugin-error>`.
pub(crate) struct Render;

impl WorldFunc for Render {
    type Params<'a> = (
        &'a render_world::Template,
        &'a str,
        &'a [render_world::Tag],
        &'a [(String, String)],
    );
    type Results = (Result<render_world::RenderedRequest, types::PluginError>,);
    const WORLD: PluginWorld = PluginWorld::Renderer;
    const NAME: &'static str = "render";
}

/// The export `F` of one loaded component, its type checked.
pub(crate) struct Export<F> {
    index: ComponentExportIndex,
    func: PhantomData<F>,
}

// Not derived: a derive would ask `F: Clone` of the marker type.
impl<F> Clone for Export<F> {
    fn clone(&self) -> Self {
        Self {
            index: self.index,
            func: PhantomData,
        }
    }
}

impl<F: WorldFunc> Export<F> {
    /// Finds the export in `pre`'s component and checks its type on `instance`, an instance of
    /// `pre` in `store`.
    pub(crate) fn checked<T>(
        pre: &InstancePre<T>,
        mut store: impl AsContextMut<Data = T>,
        instance: &Instance,
    ) -> wasmtime::Result<Self> {
        let interface = format!(
            "moja:webhooks/{}@{PACKAGE_VERSION}",
            F::WORLD.export_interface()
        );
        let component = pre.component();
        let parent = component
            .get_export_index(None, &interface)
            .ok_or_else(|| wasmtime::format_err!("no exported instance named `{interface}`"))?;
        let index = component
            .get_export_index(Some(&parent), F::NAME)
            .ok_or_else(|| wasmtime::format_err!("`{interface}` does not export `{}`", F::NAME))?;
        instance.get_typed_func::<F::Params<'_>, F::Results>(&mut store, &index)?;
        Ok(Self {
            index,
            func: PhantomData,
        })
    }

    /// The function of `instance`, an instance of the component this export was checked on.
    pub(crate) fn func<'a>(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<F::Params<'a>, F::Results>> {
        let func = instance
            .get_func(store, self.index)
            .ok_or_else(|| wasmtime::format_err!("the instance lacks `{}`", F::NAME))?;
        // SAFETY: `checked` verified that this export of this component has exactly the type
        // `F::Params -> F::Results` (lifetimes aside, which do not change the component-model
        // type), and every instance of a component has its component's types.
        #[allow(unsafe_code)]
        Ok(unsafe { TypedFunc::new_unchecked(func) })
    }
}

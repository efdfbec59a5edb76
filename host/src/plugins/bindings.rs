//! The one `bindgen!` of the host: every world of `wit/`, bound through their union world `host`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "host",
    additional_derives: [PartialEq],
    imports: { default: trappable },
    with: {
        "moja:webhooks/types.tag-set": super::call::TagSet,
    },
});

pub(crate) use exports::moja::webhooks::map as map_world;
pub(crate) use exports::moja::webhooks::normalize as normalize_world;
pub(crate) use exports::moja::webhooks::render as render_world;
pub(crate) use moja::webhooks::types;

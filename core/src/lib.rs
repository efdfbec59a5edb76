//! Moja Webhooks domain logic: pure functions and types, no I/O, shared by the host and the store.

#[doc(inline)]
pub use moja_keys as keys;

pub mod calls;
pub mod clock;
pub mod events;
pub mod money;
pub mod phone;
pub mod rate_limit;
pub mod sealed;
pub mod secrets;
pub mod tags;

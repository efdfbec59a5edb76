//! Moja Webhooks domain logic: pure functions and types, no I/O, shared by the host and the store.

pub mod calls;
pub mod clock;
pub mod money;
pub mod phone;
pub mod rate_limit;
pub mod secrets;

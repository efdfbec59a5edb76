//! The store's transactional logic, written once over the [`Tx`](crate::tx::Tx) primitives that
//! each backend implements. Every function here runs inside the caller's one transaction; a
//! backend opens it, runs the function and commits (or rolls back on an error).

mod calls;
mod dispatch;
mod inbound;

pub use calls::{create_call, sweep_live_calls, transition};
pub use dispatch::{
    claim, delete_outgoing_webhook, finish_attempt, record_test_attempt, resend,
    update_outgoing_webhook,
};
pub use inbound::{apply_update, store_call_data};

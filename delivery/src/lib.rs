//! Moja Webhooks outbound delivery: sends one rendered request safely.
//!
//! - [`guard`] decides which IP addresses a delivery may never reach (the SSRF guard).
//! - [`client`] makes one HTTP attempt: no proxies, no redirects, a timeout, the guard applied to
//!   the exact addresses connected to, the response body read up to a cap.
//! - [`retry`] turns an attempt's outcome into a verdict and schedules the next attempt.
//! - [`signing`] signs payloads the Standard Webhooks way.
//!
//! The crate knows nothing of the database or the queue: the host's dispatcher renders a request,
//! calls [`client::DeliveryClient::send`], logs the [`client::AttemptReport`] and asks
//! [`retry::verdict`] and [`retry::RetrySchedule::next_delay`] what to do next.

pub mod client;
pub mod guard;
pub mod retry;
pub mod signing;

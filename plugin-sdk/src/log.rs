//! Logging through the host's `log` import.
//!
//! In a component the lines go to the host, which caps them and attaches them to the request log.
//! Compiled natively (unit tests), they are captured per thread; read them with [`take_captured`].

use crate::LogLevel;

/// Sends one log line to the host.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__bindings::base::moja::webhooks::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    CAPTURED.with(|lines| lines.borrow_mut().push((level, message.to_owned())));
}

/// Logs at debug level.
pub fn debug(message: &str) {
    log(LogLevel::Debug, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

/// Logs at error level.
pub fn error(message: &str) {
    log(LogLevel::Error, message);
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static CAPTURED: std::cell::RefCell<Vec<(LogLevel, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Takes the lines logged on this thread so far (native builds only; always empty in a component).
pub fn take_captured() -> Vec<(LogLevel, String)> {
    #[cfg(not(target_arch = "wasm32"))]
    return CAPTURED.with(|lines| std::mem::take(&mut *lines.borrow_mut()));
    #[cfg(target_arch = "wasm32")]
    Vec::new()
}

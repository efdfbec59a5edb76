//! The `moja-webhooks` binary; everything lives in the library.

fn main() -> anyhow::Result<()> {
    moja_webhooks_host::cli::main()
}

//! The `moja-webhooks` command line, built inside the test package so that black-box tests can
//! start it as a real process (`CARGO_BIN_EXE_moja-test-server`) and kill it.

fn main() -> anyhow::Result<()> {
    moja_webhooks_host::cli::main()
}

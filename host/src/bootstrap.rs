//! First start of an empty database: an org with an API key, and an operator token when none is
//! configured, handed over in `<data dir>/bootstrap.txt` (mode 0600) and on the terminal (never
//! in the logs).

use std::io::{IsTerminal, Write};

use jiff::Timestamp;
use moja_core::secrets::{self, SecretKind};
use moja_store::{ApiKey, NewApiKey, Org, Store};

use crate::config::ServeConfig;

/// The settings key of the operator token's hash.
pub const OPERATOR_TOKEN_HASH: &str = "operator_token_hash";

/// A new API key for `org_id`: the record to store and the secret to show once.
pub fn new_api_key(org_id: &str, name: &str, now: Timestamp) -> (NewApiKey, String) {
    let secret = secrets::generate(SecretKind::OrgApiKey);
    let key = NewApiKey {
        key: ApiKey {
            id: secrets::new_id(),
            org_id: org_id.to_owned(),
            name: name.to_owned(),
            key_prefix: secret[..8].to_owned(),
            created_at: now,
            revoked_at: None,
        },
        hash: secrets::hash(&secret),
    };
    (key, secret)
}

/// Creates the first org (and operator token) when the database has none.
pub async fn first_start(
    config: &ServeConfig,
    store: &dyn Store,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    let operator_token = match &config.operator_token {
        // A configured token is the operator's explicit choice: it replaces whatever token an
        // earlier start stored (generated or configured), so setting it later takes effect.
        Some(token) => {
            store
                .put_setting(OPERATOR_TOKEN_HASH, &secrets::hash(token))
                .await?;
            None
        }
        None => {
            let token = secrets::generate(SecretKind::OperatorToken);
            store
                .put_setting_if_absent(OPERATOR_TOKEN_HASH, &secrets::hash(&token))
                .await?
                .then_some(token)
        }
    };
    if let Some(token) = &operator_token {
        lines.push(format!("MOJA_OPERATOR_TOKEN={token}"));
    }
    if store.list_orgs().await?.is_empty() {
        let org = Org {
            id: secrets::new_id(),
            name: "My Organization".into(),
            default_region: "US".into(),
            currency: "USD".into(),
            disabled: false,
            created_at: now,
        };
        let (key, secret) = new_api_key(&org.id, "bootstrap", now);
        let org_id = org.id.clone();
        store.create_org(org, key).await?;
        lines.push(format!("MOJA_ORG_ID={org_id}"));
        lines.push(format!("MOJA_API_KEY={secret}"));
    }
    if lines.is_empty() {
        return Ok(());
    }
    let path = config.data_dir.join("bootstrap.txt");
    write_private(&path, &(lines.join("\n") + "\n"))?;
    tracing::info!(path = %path.display(), "first start: credentials written to the bootstrap file");
    if std::io::stdout().is_terminal() {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "\nFirst start: your credentials (also in {}):",
            path.display()
        )?;
        for line in &lines {
            writeln!(out, "  {line}")?;
        }
        writeln!(
            out,
            "Try: curl -H \"Authorization: Bearer $MOJA_API_KEY\" {}/api/v1/webhooks/incoming\n",
            config.public_base_url()
        )?;
    }
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

//! The encryption key that seals outbound secrets at rest: `MOJA_ENCRYPTION_KEY`, or one
//! generated into the data folder on first start (mode 0600) and read back afterwards.

use std::path::Path;

use anyhow::Context;
use moja_core::sealed::SealingKey;

const KEY_FILE: &str = "encryption.key";

/// The configured key, else the data folder's, else a new one written there.
pub fn load_or_create_sealing_key(
    configured: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<SealingKey> {
    if let Some(text) = configured {
        return SealingKey::from_base64(text.trim())
            .context("MOJA_ENCRYPTION_KEY must be the standard base64 of 32 random bytes");
    }
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => SealingKey::from_base64(text.trim())
            .with_context(|| format!("reading the encryption key in {}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = SealingKey::generate();
            write_private(&path, &key.to_base64())
                .with_context(|| format!("writing a new encryption key to {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated the encryption key for outbound secrets");
            Ok(key)
        }
        Err(error) => {
            Err(error).with_context(|| format!("reading the encryption key {}", path.display()))
        }
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_sealing_key(None, dir.path()).unwrap();
        let sealed = first.seal("whsec_x");
        let second = load_or_create_sealing_key(None, dir.path()).unwrap();
        assert_eq!(second.open(&sealed).unwrap(), "whsec_x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_key_wins_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = SealingKey::generate();
        let loaded = load_or_create_sealing_key(Some(&key.to_base64()), dir.path()).unwrap();
        assert_eq!(loaded.open(&key.seal("a")).unwrap(), "a");
        assert!(!dir.path().join(KEY_FILE).exists());
        let error = load_or_create_sealing_key(Some("not base64!"), dir.path()).unwrap_err();
        assert!(format!("{error:#}").contains("MOJA_ENCRYPTION_KEY"));
    }
}

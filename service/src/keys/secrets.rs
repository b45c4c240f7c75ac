//! Key material: from settings in production, generated into the data directory in dev.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret as _, SecretString};
use std::path::Path;

use crate::config::Settings;

/// Fills a fresh array from the operating system's random source.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    Ok(buf)
}

/// A setting's value, or in dev a value generated once into `data_dir/keys/<file>`.
pub fn setting_or_generated(
    settings: &Settings,
    value: Option<&SecretString>,
    file: &str,
    generate: impl Fn() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    if let Some(value) = value {
        return Ok(value.expose_secret().to_owned());
    }
    if !settings.is_dev() {
        bail!("key material `{file}` must be given in settings outside dev mode");
    }
    let dir = settings.data_dir.join("keys");
    let path = dir.join(file);
    if path.exists() {
        return std::fs::read_to_string(&path)
            .map(|s| s.trim().to_owned())
            .with_context(|| format!("reading {}", path.display()));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let value = generate()?;
    write_private(&path, &value)?;
    tracing::info!(file, "generated dev key material");
    Ok(value)
}

/// A new `kid:base64key` entry with a 32-byte key.
pub fn generate_key_entry(prefix: &str) -> anyhow::Result<String> {
    let suffix: [u8; 4] = random_bytes()?;
    let key: [u8; 32] = random_bytes()?;
    Ok(format!(
        "{prefix}-{}:{}",
        hex::encode(suffix),
        B64.encode(key)
    ))
}

/// Parses `kid:base64[,kid:base64…]` into `(kid, bytes)` pairs, in order; each key must be
/// `len` bytes.
pub fn parse_key_list(
    name: &str,
    list: &str,
    len: usize,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut keys = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (kid, key) = entry
            .split_once(':')
            .with_context(|| format!("{name}: each entry must be `kid:base64key`"))?;
        let bytes = B64
            .decode(key)
            .with_context(|| format!("{name}: key `{kid}` is not base64"))?;
        if bytes.len() != len {
            bail!(
                "{name}: key `{kid}` must be {len} bytes, not {}",
                bytes.len()
            );
        }
        if kid.is_empty() || keys.iter().any(|(k, _)| k == kid) {
            bail!("{name}: key ids must be non-empty and distinct");
        }
        keys.push((kid.to_owned(), bytes));
    }
    if keys.is_empty() {
        bail!("{name}: at least one key is required");
    }
    Ok(keys)
}

pub fn decode_b64_key(name: &str, value: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let bytes = B64
        .decode(value.trim())
        .with_context(|| format!("{name} is not base64"))?;
    if bytes.len() != len {
        bail!("{name} must be {len} bytes, not {}", bytes.len());
    }
    Ok(bytes)
}

pub fn encode_b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn write_private(path: &Path, value: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(value.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

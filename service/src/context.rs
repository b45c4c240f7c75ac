//! Everything a request needs, built once at start-up and shared.

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{GovDataSettings, Settings};
use crate::govdata::{EmbeddedGovData, GovDataSource, HttpGovData};
use crate::identity::tokens::TokenKeys;
use crate::identity::wechat::WechatClient;
use crate::keys::privacy::Vault;
use crate::keys::secrets::{encode_b64, generate_key_entry, random_bytes, setting_or_generated};
use crate::keys::signing::KeyRing;
use crate::notices::mailer::Mailer;
use crate::permit::fees::FeeCollector;
use crate::verify::status_list::StatusRegistry;

pub struct Context {
    pub settings: Settings,
    pub db: DatabaseConnection,
    pub vault: Arc<Vault>,
    pub tokens: TokenKeys,
    /// The issuing authority's signing keys (Ed25519 and SM2) and the signer that uses them.
    pub keys: KeyRing,
    pub wechat: WechatClient,
    pub gov: Arc<dyn GovDataSource>,
    /// The card fee's collector: the province's payment platform, or in dev the embedded one.
    pub fees: Arc<dyn FeeCollector>,
    /// E-mail, when `YUEJU_SMTP_URL` is set.
    pub mailer: Option<Arc<Mailer>>,
    /// Every Token Status List, in memory, following the other instances' changes.
    pub status_lists: Arc<StatusRegistry>,
    /// The time every date rule reads; tests move it (see [`crate::clock`]).
    pub clock: Arc<Clock>,
    /// `YUEJU_PDF_FALLBACK_FONT`, read once: draws what the PDF copy's built-in font lacks.
    pub pdf_fallback_font: Option<Arc<render::FallbackFont>>,
}

impl Context {
    /// Connects and migrates the database, loads (or in dev generates) keys, creates the
    /// bootstrap staff account and, when asked, loads the demo data.
    pub async fn init(settings: Settings) -> anyhow::Result<Context> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
        let pdf_fallback_font = settings
            .pdf_fallback_font
            .as_deref()
            .map(load_fallback_font)
            .transpose()?
            .map(Arc::new);
        if pdf_fallback_font.is_none() && settings.mode == crate::config::RunMode::Prod {
            tracing::warn!(
                "YUEJU_PDF_FALLBACK_FONT is not set: a rare character in a name (CJK Extension B) \
                 prints as an empty box on the PDF annotated copy"
            );
        }
        let vault = Arc::new(load_vault(&settings)?);
        let jwt_keys =
            setting_or_generated(&settings, settings.jwt_keys.as_ref(), "jwt-keys", || {
                generate_key_entry("jwt")
            })?;
        let tokens = TokenKeys::new(&jwt_keys)?;
        let keys = KeyRing::load(&settings)?;
        let db = crate::db::connect_and_migrate(settings.database_url.expose_secret()).await?;
        let status_lists = Arc::new(
            StatusRegistry::load(&db)
                .await
                .context("loading the status lists")?,
        );
        if settings.agencies.status_sync_ms > 0 {
            // Always, unlike the other background jobs: verification answers from these lists.
            status_lists.clone().spawn_follower(
                db.clone(),
                std::time::Duration::from_millis(settings.agencies.status_sync_ms),
            );
        }
        let wechat = WechatClient::new(&settings)?;
        let clock = Arc::new(Clock::system());
        let fees = crate::permit::fees::collector(&settings, clock.clone())?;
        let gov: Arc<dyn GovDataSource> = match &settings.gov_data {
            GovDataSettings::Embedded => Arc::new(EmbeddedGovData::new(db.clone(), vault.clone())),
            GovDataSettings::Http { base_url, token } => Arc::new(HttpGovData::new(
                base_url,
                token.clone(),
                settings.http_timeout,
            )?),
        };
        let mailer = settings
            .smtp_url
            .as_ref()
            .map(|url| {
                Mailer::new(
                    url.expose_secret(),
                    &settings.reminders.mail_from,
                    settings.http_timeout,
                )
            })
            .transpose()?
            .map(Arc::new);
        let ctx = Context {
            pdf_fallback_font,
            clock,
            status_lists,
            settings,
            db,
            vault,
            tokens,
            keys,
            wechat,
            gov,
            fees,
            mailer,
        };
        if let Some((username, password)) = &ctx.settings.staff_bootstrap {
            crate::identity::staff::ensure_account(
                &ctx,
                username,
                password.expose_secret(),
                crate::identity::staff::Role::Admin,
            )
            .await
            .context("creating the bootstrap staff account")?;
        }
        if ctx.settings.demo_data {
            crate::demo::load(&ctx).await.context("loading demo data")?;
        }
        Ok(ctx)
    }
}

/// Reads `YUEJU_PDF_FALLBACK_FONT`'s file; a missing file or one that is not a font stops
/// the start, naming the setting.
fn load_fallback_font(path: &std::path::Path) -> anyhow::Result<render::FallbackFont> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("reading YUEJU_PDF_FALLBACK_FONT {}", path.display()))?;
    let font = render::FallbackFont::from_bytes(bytes)
        .with_context(|| format!("YUEJU_PDF_FALLBACK_FONT {}", path.display()))?;
    tracing::info!(path = %path.display(), ?font, "PDF fallback font loaded");
    Ok(font)
}

/// The data keys and blind-index key: from settings, or in dev generated into the data
/// directory on first use.
pub fn load_vault(settings: &Settings) -> anyhow::Result<Vault> {
    let data_keys =
        setting_or_generated(settings, settings.data_keys.as_ref(), "data-keys", || {
            generate_key_entry("data")
        })?;
    let blind_key = setting_or_generated(
        settings,
        settings.blind_index_key.as_ref(),
        "blind-index-key",
        || Ok(encode_b64(&random_bytes::<32>()?)),
    )?;
    Vault::new(&data_keys, &blind_key)
}

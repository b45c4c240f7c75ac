//! The WeChat part of the settings: the mini-programs' and the official account's
//! credentials, their message servers (token, 安全模式 keys, appid), and the subscribe
//! messages (订阅消息) the reminders go out as.

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret as _, SecretString};

use super::vars::Vars;
use crate::identity::wechat::MiniApp;
use crate::identity::wechat::crypto::AesKey;
use crate::identity::wechat::message_server::MessageServer;
use crate::identity::wechat::subscribe::{Mode, Template, TemplateKind};

pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

/// Credentials of one mini-program (or the official account) on the WeChat platform.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub appid: String,
    pub secret: SecretString,
}

impl AppCredentials {
    /// Both halves, or `None` (the app is not configured) when either is missing.
    pub(super) fn from_pair(
        appid: &Option<String>,
        secret: &Option<SecretString>,
    ) -> Option<AppCredentials> {
        Some(AppCredentials {
            appid: appid.clone()?,
            secret: secret.clone()?,
        })
    }
}

/// The message server of each account that receives the platform's pushes; `None` is off.
#[derive(Debug, Clone, Default)]
pub struct MessageServers {
    pub official_account: Option<MessageServer>,
    pub yss: Option<MessageServer>,
    pub yjm: Option<MessageServer>,
}

/// `YUEJU_…_AES_KEYS`: comma-separated EncodingAESKeys, current first.
fn parse_aes_keys(name: &str, value: &SecretString) -> anyhow::Result<Vec<AesKey>> {
    let mut keys = Vec::new();
    for (i, part) in value
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        // The error names the position, never the key.
        let key = AesKey::from_encoding_key(part)
            .map_err(|e| anyhow::anyhow!("{name}: key {} is not an EncodingAESKey: {e}", i + 1))?;
        keys.push(key);
    }
    Ok(keys)
}

/// One mini-program's push settings, with the prefix of its variables for messages.
struct MiniPush<'a> {
    prefix: &'a str,
    appid: &'a Option<String>,
    own_token: &'a Option<SecretString>,
    own_keys: &'a Option<SecretString>,
}

impl MessageServers {
    /// The three message servers: the official account's under `YUEJU_WECHAT_TOKEN` and
    /// `YUEJU_WECHAT_AES_KEYS`, each mini-program's under its own `_PUSH_TOKEN`/`_AES_KEYS`
    /// or else the same two (`none` as a mini-program's keys: plain mode for it alone).
    pub(super) fn from_vars(vars: &Vars) -> anyhow::Result<MessageServers> {
        let replay_window_secs = vars.wechat_replay_window_secs;
        let shared_token = &vars.wechat_token;
        let shared_keys = match &vars.wechat_aes_keys {
            Some(v) => parse_aes_keys("YUEJU_WECHAT_AES_KEYS", v)?,
            None => Vec::new(),
        };
        let official_account = match shared_token.clone() {
            None => None,
            Some(token) => {
                let appid = vars.wechat_oa_appid.clone().unwrap_or_default();
                if !shared_keys.is_empty() && appid.is_empty() {
                    bail!(
                        "YUEJU_WECHAT_AES_KEYS needs YUEJU_WECHAT_OA_APPID: every encrypted \
                         message ends with the official account's appid, which is checked"
                    );
                }
                Some(MessageServer {
                    token,
                    keys: shared_keys.clone(),
                    appid,
                    replay_window_secs,
                })
            }
        };
        let mini = |push: MiniPush| -> anyhow::Result<Option<MessageServer>> {
            let MiniPush { prefix, .. } = push;
            let Some(appid) = push.appid.clone() else {
                if push.own_token.is_some() || push.own_keys.is_some() {
                    bail!(
                        "{prefix}_PUSH_TOKEN/{prefix}_AES_KEYS need {prefix}_APPID (the \
                         mini-program's appid)"
                    );
                }
                // The mini-program is not configured: its push is off.
                return Ok(None);
            };
            let Some(token) = push.own_token.clone().or_else(|| shared_token.clone()) else {
                return Ok(None);
            };
            let keys = match push.own_keys {
                None => shared_keys.clone(),
                Some(v) if v.expose_secret() == "none" => Vec::new(),
                Some(v) => parse_aes_keys(&format!("{prefix}_AES_KEYS"), v)?,
            };
            Ok(Some(MessageServer {
                token,
                keys,
                appid,
                replay_window_secs,
            }))
        };
        Ok(MessageServers {
            official_account,
            yss: mini(MiniPush {
                prefix: "YUEJU_YSS",
                appid: &vars.yss_appid,
                own_token: &vars.yss_push_token,
                own_keys: &vars.yss_aes_keys,
            })?,
            yjm: mini(MiniPush {
                prefix: "YUEJU_YJM",
                appid: &vars.yjm_appid,
                own_token: &vars.yjm_push_token,
                own_keys: &vars.yjm_aes_keys,
            })?,
        })
    }
}

/// Reminder kinds prod must be able to send by subscribe message: the yearly endorsement and
/// the expiry come months after the last visit, when no other channel reaches most residents.
pub(super) const REQUIRED_SUBSCRIBE_KINDS: [TemplateKind; 2] =
    [TemplateKind::EndorsementDue, TemplateKind::Expiry];

/// Subscribe messages (订阅消息): which mini-program sends them and the templates per kind.
#[derive(Debug, Clone)]
pub struct SubscribeSettings {
    /// The mini-program the templates belong to, which records the residents' answers and
    /// sends the messages (`YUEJU_SUBSCRIBE_APP`, default 粤省事).
    pub app: MiniApp,
    /// One template per kind (`YUEJU_SUBSCRIBE_TEMPLATES`, long-term ones named in
    /// `YUEJU_SUBSCRIBE_LONG_TERM`); none: no subscribe messages.
    pub templates: Vec<Template>,
    /// The page a message opens (`YUEJU_SUBSCRIBE_PAGE`); `?notice=<id>` is added.
    pub page: String,
    /// `formal`, `trial` or `developer` (`YUEJU_SUBSCRIBE_MINIPROGRAM_STATE`).
    pub miniprogram_state: String,
}

impl SubscribeSettings {
    pub fn template(&self, kind: TemplateKind) -> Option<&Template> {
        self.templates.iter().find(|t| t.kind == kind)
    }

    pub fn by_id(&self, template_id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == template_id)
    }

    pub(super) fn from_vars(vars: &Vars) -> anyhow::Result<SubscribeSettings> {
        let app = match &vars.subscribe_app {
            None => MiniApp::Yss,
            Some(v) => MiniApp::parse(v).with_context(|| {
                format!("YUEJU_SUBSCRIBE_APP must be `yss` or `yjm`, not `{v}`")
            })?,
        };
        let mut long_term = Vec::new();
        for name in list(&vars.subscribe_long_term) {
            long_term.push(TemplateKind::parse(name).with_context(|| {
                format!(
                    "YUEJU_SUBSCRIBE_LONG_TERM: unknown kind `{name}` (known: {})",
                    known_kinds()
                )
            })?);
        }
        let mut templates: Vec<Template> = Vec::new();
        for entry in list(&vars.subscribe_templates) {
            let template = template(entry, &long_term)?;
            if templates.iter().any(|t| t.kind == template.kind) {
                bail!(
                    "YUEJU_SUBSCRIBE_TEMPLATES names {} twice",
                    template.kind.as_str()
                );
            }
            if templates.iter().any(|t| t.id == template.id) {
                bail!(
                    "YUEJU_SUBSCRIBE_TEMPLATES gives the template id of {} to two kinds",
                    template.kind.as_str()
                );
            }
            templates.push(template);
        }
        if let Some(kind) = long_term
            .iter()
            .find(|k| !templates.iter().any(|t| t.kind == **k))
        {
            bail!(
                "YUEJU_SUBSCRIBE_LONG_TERM names {}, which has no template in YUEJU_SUBSCRIBE_TEMPLATES",
                kind.as_str()
            );
        }
        let miniprogram_state = vars.subscribe_miniprogram_state.clone();
        if !["formal", "trial", "developer"].contains(&miniprogram_state.as_str()) {
            bail!(
                "YUEJU_SUBSCRIBE_MINIPROGRAM_STATE must be `formal`, `trial` or `developer`, not `{miniprogram_state}`"
            );
        }
        let page = vars.subscribe_page.clone();
        if page.contains(['?', '#']) || page.len() > 128 {
            bail!("YUEJU_SUBSCRIBE_PAGE must be a page path without a query, not `{page}`");
        }
        Ok(SubscribeSettings {
            app,
            templates,
            page,
            miniprogram_state,
        })
    }
}

/// The non-blank items of a comma-separated list.
fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// One `kind:template_id` entry of `YUEJU_SUBSCRIBE_TEMPLATES`.
fn template(entry: &str, long_term: &[TemplateKind]) -> anyhow::Result<Template> {
    let (kind, id) = entry.split_once(':').with_context(|| {
        format!("YUEJU_SUBSCRIBE_TEMPLATES: `{entry}` is not `kind:template_id`")
    })?;
    let (kind, id) = (kind.trim(), id.trim());
    let kind = TemplateKind::parse(kind).with_context(|| {
        format!(
            "YUEJU_SUBSCRIBE_TEMPLATES: unknown kind `{kind}` (known: {})",
            known_kinds()
        )
    })?;
    let valid_id = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid_id {
        bail!(
            "YUEJU_SUBSCRIBE_TEMPLATES: the template id of {} is not a platform template id",
            kind.as_str()
        );
    }
    Ok(Template {
        kind,
        id: id.to_owned(),
        mode: if long_term.contains(&kind) {
            Mode::LongTerm
        } else {
            Mode::OneTime
        },
    })
}

fn known_kinds() -> String {
    TemplateKind::ALL.map(TemplateKind::as_str).join(", ")
}

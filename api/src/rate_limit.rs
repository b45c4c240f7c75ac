//! Rate limits per source address on the routes that cost us or an outside system something
//! and need no credential, or a cheap one: logging in and refreshing (a platform call, an
//! argon2 hash), the agencies' token endpoint, the bot's endpoints, identity binding and the
//! start of a face verification (each one a paid platform call). `/verify` stays unlimited:
//! it is public, cheap by design and scanned at gate rates; its protection is its speed.
//!
//! The limits hold per instance (an in-memory GCRA from the `governor` crate); the persisted
//! lock-outs (agency secrets, binding codes) are what holds across instances.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError as _};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use service::config::RateLimitSettings;
use std::net::IpAddr;
use std::num::NonZeroU32;

use crate::error::ApiError;

/// The kinds of route that share one budget per source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Login,
    Oauth,
    Bot,
    Identity,
}

/// The class of a request, or None when it is not limited.
pub fn class_of(method: &Method, path: &str) -> Option<Class> {
    if method != Method::POST {
        return None;
    }
    match path {
        "/api/v1/auth/miniprogram/login" | "/api/v1/auth/refresh" | "/api/v1/staff/login" => {
            Some(Class::Login)
        }
        "/oauth/token" => Some(Class::Oauth),
        "/api/v1/bot/messages" | "/api/v1/bot/wechat" => Some(Class::Bot),
        p if p.starts_with("/api/v1/wechat/miniprogram/") => Some(Class::Bot),
        "/api/v1/me/identity" | "/api/v1/me/identity/face-verification" => Some(Class::Identity),
        _ => None,
    }
}

pub struct RateLimits {
    login: Option<DefaultKeyedRateLimiter<IpAddr>>,
    oauth: Option<DefaultKeyedRateLimiter<IpAddr>>,
    bot: Option<DefaultKeyedRateLimiter<IpAddr>>,
    identity: Option<DefaultKeyedRateLimiter<IpAddr>>,
    client_ip_header: Option<header::HeaderName>,
}

fn limiter(per_minute: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> anyhow::Result<RateLimits> {
        let client_ip_header = settings
            .client_ip_header
            .as_deref()
            .map(header::HeaderName::try_from)
            .transpose()
            .map_err(|_| anyhow::anyhow!("YUEJU_CLIENT_IP_HEADER is not a header name"))?;
        Ok(RateLimits {
            login: limiter(settings.login_per_minute),
            oauth: limiter(settings.oauth_per_minute),
            bot: limiter(settings.bot_per_minute),
            identity: limiter(settings.identity_per_minute),
            client_ip_header,
        })
    }

    fn limiter(&self, class: Class) -> Option<&DefaultKeyedRateLimiter<IpAddr>> {
        match class {
            Class::Login => self.login.as_ref(),
            Class::Oauth => self.oauth.as_ref(),
            Class::Bot => self.bot.as_ref(),
            Class::Identity => self.identity.as_ref(),
        }
    }

    /// The source address: the peer, or behind a load balancer the first address of the
    /// header it sets (only when configured: a client could write that header itself).
    /// The staff login's lock-out per source uses it too.
    pub fn source(&self, req: &actix_web::HttpRequest) -> Option<IpAddr> {
        if let Some(name) = &self.client_ip_header {
            let from_header = req
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok());
            if from_header.is_some() {
                return from_header;
            }
        }
        req.peer_addr().map(|a| a.ip())
    }

    /// None when the request may go on; otherwise the 429 to answer.
    pub fn check(&self, req: &actix_web::dev::ServiceRequest) -> Option<HttpResponse> {
        let class = class_of(req.method(), req.path())?;
        let limiter = self.limiter(class)?;
        let source = self.source(req.request())?;
        let not_until = limiter.check_key(&source).err()?;
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(class = ?class, retry_after, "rate limit reached");
        let mut res = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "请求过于频繁，请稍后再试",
        )
        .error_response();
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(retry_after.max(1)),
        );
        Some(res)
    }

    /// Forgets sources whose budget is whole again, so the maps do not grow without bound.
    pub fn shrink(&self) {
        for limiter in [&self.login, &self.oauth, &self.bot, &self.identity]
            .into_iter()
            .flatten()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

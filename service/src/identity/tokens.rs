//! Access tokens: JWTs with one pinned algorithm (HS256), our issuer, an audience per kind of
//! principal, an expiry and a key id. Several keys verify at once, so a new signing key can be
//! put first without logging anyone out.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

use crate::error::{Refusal, Result};
use crate::keys::secrets::parse_key_list;

pub const ISSUER: &str = "yueju";
const ALGORITHM: Algorithm = Algorithm::HS256;

/// Who a token speaks for; each kind has its own audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Resident,
    Staff,
    Agency,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Resident, Audience::Staff, Audience::Agency];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Resident => "yueju:resident",
            Audience::Staff => "yueju:staff",
            Audience::Agency => "yueju:agency",
        }
    }

    fn parse(s: &str) -> Option<Audience> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// Account id (resident), staff user id, or agency id.
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    /// The login session (refresh family) of a resident token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// The staff role, or the agency's scopes separated by spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

pub struct TokenKeys {
    signing_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
}

impl TokenKeys {
    /// `list` is `kid:base64secret[,…]`; the first entry signs.
    pub fn new(list: &str) -> anyhow::Result<TokenKeys> {
        let keys = parse_key_list("YUEJU_JWT_KEYS", list, 32)?;
        let signing_kid = keys[0].0.clone();
        let encoding = EncodingKey::from_secret(&keys[0].1);
        let decoding = keys
            .into_iter()
            .map(|(kid, secret)| (kid, DecodingKey::from_secret(&secret)))
            .collect();
        Ok(TokenKeys {
            signing_kid,
            encoding,
            decoding,
        })
    }

    pub fn issue(
        &self,
        audience: Audience,
        sub: Uuid,
        sid: Option<Uuid>,
        scope: Option<String>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        // jsonwebtoken checks `exp` against the system time, so the token is stamped with it
        // too, whatever the context's clock reads (see crate::clock).
        let now = crate::clock::system_now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: audience.as_str().into(),
            sub,
            iat: now,
            exp: now + ttl.as_secs() as i64,
            sid,
            scope,
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing access token: {e}"))
    }

    /// Checks signature, algorithm, key id, issuer, audience and expiry. A valid token for
    /// another kind of principal is `Forbidden`; anything else wrong is `Unauthenticated`.
    pub fn verify(&self, token: &str, expected: Audience) -> Result<Claims> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Unauthenticated)?;
        if header.alg != ALGORITHM {
            return Err(Refusal::Unauthenticated.into());
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or(Refusal::Unauthenticated)?;
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&Audience::ALL.map(Audience::as_str));
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::ExpiredSignature => Refusal::TokenExpired,
            _ => Refusal::Unauthenticated,
        })?;
        match Audience::parse(&data.claims.aud) {
            Some(aud) if aud == expected => Ok(data.claims),
            Some(_) => Err(Refusal::Forbidden.into()),
            None => Err(Refusal::Unauthenticated.into()),
        }
    }
}

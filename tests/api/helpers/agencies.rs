//! Agencies: registration, OAuth tokens, verification of a resident's code.

use serde_json::json;

use super::*;

/// A valid unified social credit code made from `n` (GB 32100 check character).
pub fn credit_code(n: u32) -> String {
    let first17 = format!("9144010{n:010}");
    let check = service::domain::credit_code::check_char(first17.as_bytes()).unwrap();
    format!("{first17}{check}")
}

pub struct AgencyClient {
    pub client_id: String,
    pub secret: String,
    pub token: String,
}

/// All fields an agency may be registered for.
pub const ALL_FIELDS: [&str; 11] = [
    "name",
    "gender",
    "ethnicity",
    "id_number",
    "photo",
    "hukou_address",
    "residence_address",
    "issuing_authority",
    "issued_on",
    "valid_from",
    "valid_until",
];

/// The chat side of the bot, for dialogue tests: the engine built as the server builds it,
/// fed directly over the test app's database.
pub struct Chat {
    pub bot: bot::Bot,
}

impl TestApp {
    /// The agency asks the holder of `code` for access (`POST /agency/authorization-requests`).
    pub async fn ask_access(
        &self,
        agency: &AgencyClient,
        code: &str,
        purpose: &str,
        days: u32,
    ) -> Reply {
        self.post(
            "/api/v1/agency/authorization-requests",
            &json!({"token": code, "purpose": purpose, "days": days}),
            Some(&agency.token),
        )
        .await
    }

    /// The holder approves or denies a request: `decision` is `approve` or `deny`.
    pub async fn decide(&self, holder: &str, request_id: &str, decision: &str) -> Reply {
        self.post(
            &format!("/api/v1/me/authorization-requests/{request_id}/{decision}"),
            &json!({}),
            Some(holder),
        )
        .await
    }

    /// Staff register an agency with these scopes and fields; it then takes a token.
    pub async fn agency(
        &self,
        n: u32,
        name: &str,
        scopes: &[&str],
        fields: &[&str],
    ) -> AgencyClient {
        let admin = self.admin_token().await;
        let r = self
            .post(
                "/api/v1/staff/agencies",
                &json!({"name": name, "credit_code": credit_code(n), "contact": "020-87654321",
                        "scopes": scopes, "fields": fields}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let client_id = r.body["client_id"].as_str().unwrap().to_owned();
        let secret = r.body["client_secret"].as_str().unwrap().to_owned();
        let token = self.agency_token(&client_id, &secret).await;
        AgencyClient {
            client_id,
            secret,
            token,
        }
    }

    pub async fn agency_token(&self, client_id: &str, secret: &str) -> String {
        let r = reply(
            self.client
                .post(self.url("/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["access_token"].as_str().unwrap().to_owned()
    }
}

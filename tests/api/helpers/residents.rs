//! Residents: logins, binding, applications and the demo people with a permit.

use serde_json::{Value, json};

use super::*;

pub fn chen_application() -> Value {
    json!({"city": "广州市", "district": "天河区", "address": "天河路385号501房", "residence_since": "2024-01-15", "basis": "employment"})
}

/// The ID number of resident number `n` (see [`TestApp::resident_with_permit`]).
pub fn resident_id_number(n: u32) -> String {
    let first17 = format!("42010219900101{n:03}");
    let check = service::domain::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

/// Today in China by the system time (an app whose clock was moved: `app.clock().today()`).
pub fn today() -> chrono::NaiveDate {
    service::config::day_in_china(chrono::Utc::now())
}

pub fn days_ago(days: i64) -> String {
    (today() - chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

pub fn days_ahead(days: i64) -> String {
    (today() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

impl TestApp {
    /// The resident closes their account (`DELETE /me`); answers the closing report.
    pub async fn close_account(&self, token: &str) -> Reply {
        self.send_json(
            reqwest::Method::DELETE,
            "/api/v1/me",
            &json!({}),
            Some(token),
        )
        .await
    }

    /// The resident gives an e-mail address for notices (`PATCH /me`).
    pub async fn set_email(&self, token: &str, email: &str) -> Reply {
        self.send_json(
            reqwest::Method::PATCH,
            "/api/v1/me",
            &json!({"email": email}),
            Some(token),
        )
        .await
    }

    pub async fn login(&self, app: &str, code: &str) -> Reply {
        self.post(
            "/api/v1/auth/miniprogram/login",
            &json!({"app": app, "code": code}),
            None,
        )
        .await
    }

    /// Logs in with a dev code and returns the token pair.
    pub async fn login_dev(&self, openid: &str) -> Tokens {
        let r = self.login("yss", &format!("dev:{openid}")).await;
        assert_eq!(r.status, 200, "login: {}", r.text);
        Tokens {
            access: r.body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: r.body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    pub async fn bind(&self, token: &str, name: &str, id_number: &str) -> Reply {
        self.post(
            "/api/v1/me/identity",
            &json!({"name": name, "id_number": id_number}),
            Some(token),
        )
        .await
    }

    /// A fresh dev login bound to the given demo person.
    pub async fn bound_resident(&self, openid: &str, name: &str, id_number: &str) -> Tokens {
        let tokens = self.login_dev(openid).await;
        let r = self.bind(&tokens.access, name, id_number).await;
        assert_eq!(r.status, 200, "bind: {}", r.text);
        tokens
    }

    pub async fn staff_token(&self, username: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/v1/staff/login",
                &json!({"username": username, "password": password}),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "staff login: {}", r.text);
        r.body["access_token"]
            .as_str()
            .expect("staff token")
            .to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.staff_token(STAFF_ADMIN.0, STAFF_ADMIN.1).await
    }

    pub async fn apply(&self, token: &str, body: &Value, idempotency_key: Option<&str>) -> Reply {
        let mut req = self
            .client
            .post(self.url("/api/v1/applications"))
            .bearer_auth(token)
            .json(body);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn upload(
        &self,
        token: &str,
        application_id: &str,
        kind: &str,
        bytes: &[u8],
        file_name: &str,
    ) -> Reply {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned());
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_owned())
            .part("file", part);
        let r = self
            .client
            .post(self.url(&format!("/api/v1/applications/{application_id}/materials")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        reply(r).await
    }

    /// Chen (demo) applies and holds a permit; returns his token.
    pub async fn chen_with_permit(&self) -> Tokens {
        let tokens = self.login_dev("demo-chen").await;
        let r = self.apply(&tokens.access, &chen_application(), None).await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        tokens
    }

    /// Zhang (imported, employed in 白云区 since 2024-03-01) logs in as `openid`, applies and
    /// holds a permit; returns her token.
    pub async fn zhang_with_permit(&self, openid: &str) -> Tokens {
        let tokens = self
            .newcomer(openid, ZHANG_ID, ZHANG_NAME, "female", "2024-03-01", true)
            .await;
        let body = json!({"city": "广州市", "district": "白云区", "address": "白云大道北1688号", "residence_since": "2024-03-01", "basis": "employment"});
        let r = self.apply(&tokens.access, &body, None).await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        tokens
    }

    /// Imports a person living in `city`/`district` since `since`, with an employment record
    /// when `employed`, and returns a login bound to them.
    pub async fn newcomer(
        &self,
        openid: &str,
        id_number: &str,
        name: &str,
        gender: &str,
        since: &str,
        employed: bool,
    ) -> Tokens {
        let admin = self.admin_token().await;
        let mut batch = json!({
            "people": [{"id_number": id_number, "name": name, "gender": gender, "ethnicity": "汉族", "hukou_address": "湖北省武汉市某路1号"}],
            "residence_registrations": [{"id_number": id_number, "city": "广州市", "district": "白云区", "address": "广州市白云区某路2号", "since": since}]
        });
        if employed {
            batch["employment"] = json!([{"id_number": id_number, "employer": "某公司", "city": "广州市", "since": since}]);
        }
        let r = self
            .post("/api/v1/staff/gov-records", &batch, Some(&admin))
            .await;
        assert_eq!(r.body["errors"], json!([]), "{}", r.text);
        self.bound_resident(openid, name, id_number).await
    }

    /// Resident number `n` (1 to 999: imported with a household in 武汉, living and employed
    /// in 白云区 since 2024-03-01) logs in as `resident-{n}`, applies and holds a permit;
    /// returns the login and the permit number.
    pub async fn resident_with_permit(&self, n: u32) -> (Tokens, String) {
        // Names are Chinese characters only: 居民 and the number spelt in digits 〇 to 九.
        let digits: String = n
            .to_string()
            .chars()
            .map(|c| {
                "〇一二三四五六七八九"
                    .chars()
                    .nth(c as usize - '0' as usize)
                    .unwrap()
            })
            .collect();
        let name = format!("居民{digits}");
        self.named_resident_with_permit(&format!("resident-{n}"), n, &name)
            .await
    }

    /// Resident number `n` as [`Self::resident_with_permit`] makes them, under `name`.
    pub async fn named_resident_with_permit(
        &self,
        openid: &str,
        n: u32,
        name: &str,
    ) -> (Tokens, String) {
        let id_number = resident_id_number(n);
        let gender = if n % 2 == 1 { "male" } else { "female" };
        let tokens = self
            .newcomer(openid, &id_number, name, gender, "2024-03-01", true)
            .await;
        let body = json!({"city": "广州市", "district": "白云区", "address": "白云大道北1688号", "residence_since": "2024-03-01", "basis": "employment"});
        let r = self.apply(&tokens.access, &body, None).await;
        assert_eq!(r.body["status"], "issued", "{}", r.text);
        let permit_no = r.body["permit_no"].as_str().expect("permit_no").to_owned();
        (tokens, permit_no)
    }
}

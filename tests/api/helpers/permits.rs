//! Permits as tests set them up: dates moved, revoked, codes signed at a given time.

use serde_json::{Value, json};

use super::*;

impl TestApp {
    /// The holder's signed permit document (`GET /me/permit/document`), as JSON.
    pub async fn permit_document(&self, token: &str) -> Value {
        self.get("/api/v1/me/permit/document", Some(token))
            .await
            .body
    }

    /// `POST /me/permit/endorsements`: endorses, or renews when the permit is near its end.
    pub async fn endorse(&self, token: &str) -> Reply {
        self.post("/api/v1/me/permit/endorsements", &json!({}), Some(token))
            .await
    }

    /// `POST /me/permit/address-change`.
    pub async fn change_address(&self, token: &str, body: &Value) -> Reply {
        self.post("/api/v1/me/permit/address-change", body, Some(token))
            .await
    }

    /// Moves a permit's dates, as if time had passed (tests only).
    pub async fn set_permit_dates(
        &self,
        permit_no: &str,
        endorsement_due: Option<String>,
        valid_until: Option<String>,
    ) {
        use sea_orm::{ActiveModelTrait, Set};
        let db = &self.app.db;
        let permit = self.permit_row(permit_no).await;
        let version = service::permit::permits::current_version(db, &permit)
            .await
            .unwrap();
        let mut active: entity::permit_version::ActiveModel = version.into();
        let parse = |s: String| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap();
        if let Some(d) = endorsement_due {
            active.endorsement_due = Set(parse(d));
        }
        if let Some(d) = valid_until {
            active.valid_until = Set(parse(d));
        }
        active.update(db).await.unwrap();
    }

    /// The holder's current 粤居码 token.
    pub async fn code(&self, resident: &str) -> String {
        let r = self.get("/api/v1/me/code", Some(resident)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn verify(&self, token: &str, agency: Option<&str>) -> Reply {
        self.post("/api/v1/verify", &json!({"token": token}), agency)
            .await
    }

    pub async fn permit_no(&self, resident: &str) -> String {
        let p = self.get("/api/v1/me/permit", Some(resident)).await;
        p.body["permit_no"].as_str().unwrap().to_owned()
    }

    /// The status the holder's permit shows (`GET /me/permit`).
    pub async fn permit_status(&self, resident: &str) -> Value {
        self.get("/api/v1/me/permit", Some(resident)).await.body["status"].clone()
    }

    /// The permit row numbered `permit_no`.
    pub async fn permit_row(&self, permit_no: &str) -> entity::permit::Model {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::permit::Entity::find()
            .filter(entity::permit::Column::PermitNo.eq(permit_no))
            .one(&self.app.db)
            .await
            .unwrap()
            .expect("permit")
    }

    /// Moves the dates of one version of a permit, current or not (tests only): an older
    /// version given dates that would not be in force shows whether anything still reads it.
    pub async fn set_version_dates(
        &self,
        permit_no: &str,
        version: i32,
        endorsement_due: String,
        valid_until: String,
    ) {
        use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
        let db = &self.app.db;
        let permit = self.permit_row(permit_no).await;
        let row = entity::permit_version::Entity::find()
            .filter(entity::permit_version::Column::PermitId.eq(permit.id))
            .filter(entity::permit_version::Column::Version.eq(version))
            .one(db)
            .await
            .unwrap()
            .expect("version");
        let parse = |s: String| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap();
        let mut active: entity::permit_version::ActiveModel = row.into();
        active.endorsement_due = Set(parse(endorsement_due));
        active.valid_until = Set(parse(valid_until));
        active.update(db).await.unwrap();
    }

    /// Staff revoke a permit.
    pub async fn revoke_permit(&self, permit_no: &str) {
        let admin = self.admin_token().await;
        let r = self
            .post(
                &format!("/api/v1/staff/permits/{permit_no}/revoke"),
                &json!({"reason": "以欺骗手段取得"}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }

    /// A code for the permit numbered `permit_no` as the server would sign it at `at`, with
    /// these keys (tests of forged, early and late codes).
    pub async fn code_signed_at(
        &self,
        keys: &service::keys::signing::KeyRing,
        permit_no: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let permit = self.permit_row(permit_no).await;
        let version = service::permit::permits::current_version(&self.app.db, &permit)
            .await
            .unwrap();
        let document = service::permit::permits::open_document(&self.app, &version).unwrap();
        let place = service::verify::status_list::place_of(&self.app.db, permit.id)
            .await
            .unwrap()
            .expect("a place in the status lists");
        let subject = service::verify::codes::CodeSubject {
            permit_no,
            name: &document.name,
            valid_until: version.valid_until,
            endorsement_due: version.endorsement_due,
            place,
        };
        service::verify::codes::issue(keys, &subject, 120, at)
            .await
            .unwrap()
            .0
    }
}

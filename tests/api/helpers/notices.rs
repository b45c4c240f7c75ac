//! Notices in the outbox, made due at once.

use super::*;

/// Makes every pending notice due now, as if its backoff had passed (tests only).
pub async fn make_due(app: &TestApp) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::outbox::Entity::update_many()
        .col_expr(
            entity::outbox::Column::NextAttemptAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(entity::outbox::Column::Status.eq("pending"))
        .exec(&app.app.db)
        .await
        .unwrap();
}

impl TestApp {
    pub async fn outbox_kinds(&self) -> Vec<String> {
        use sea_orm::EntityTrait;
        entity::outbox::Entity::find()
            .all(&self.app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }

    /// Chen, with a permit and an e-mail address, and `n` distinct notices queued for him;
    /// answers his person id.
    pub async fn chen_with_notices(&self, n: usize) -> uuid::Uuid {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let chen = self.chen_with_permit().await;
        let r = self.set_email(&chen.access, "chen@example.com").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let me = self.get("/api/v1/me", Some(&chen.access)).await;
        let account_id: uuid::Uuid = me.body["account_id"].as_str().unwrap().parse().unwrap();
        let person_id = entity::account::Entity::find()
            .filter(entity::account::Column::Id.eq(account_id))
            .one(&self.app.db)
            .await
            .unwrap()
            .and_then(|a| a.person_id)
            .unwrap();
        let notices: Vec<(String, service::notices::outbox::Notice)> = (0..n)
            .map(|i| {
                let city = format!("城市{i}");
                (
                    format!("t-{i}"),
                    service::notices::outbox::Notice::EligibleNow { city },
                )
            })
            .collect();
        let rows: Vec<(uuid::Uuid, &str, &service::notices::outbox::Notice)> = notices
            .iter()
            .map(|(key, notice)| (person_id, key.as_str(), notice))
            .collect();
        let queued = service::notices::outbox::enqueue_many(&self.app, &self.app.db, &rows)
            .await
            .unwrap();
        assert_eq!(queued as usize, n);
        person_id
    }
}

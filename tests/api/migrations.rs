use migration::{Migrator, MigratorTrait};

use crate::helpers::{days_ahead, spawn_app};

#[tokio::test]
async fn every_migration_rolls_back_and_reapplies() {
    let app = spawn_app().await;
    let db = &app.app.db;
    Migrator::down(db, None).await.expect("all downs run");
    assert!(
        Migrator::get_applied_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(db, None).await.expect("all ups run again");
    assert_eq!(
        Migrator::get_applied_migrations(db).await.unwrap().len(),
        Migrator::migrations().len()
    );
}

#[tokio::test]
async fn the_current_version_pointer_is_backfilled_from_the_highest_version() {
    use sea_orm::TransactionTrait;
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let r = app.endorse(&chen.access).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Back to before the pointer existed (and the migrations after it), then up again, on
    // one connection: another SQLite connection of the pool may still hold the schema from
    // before the down, and SQLite checks a new column's name against that.
    let db = &app.app.db;
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261201_000001_current_version")
        .expect("the pointer's migration is listed");
    let txn = db.begin().await.unwrap();
    Migrator::down(&txn, Some((all.len() - at) as u32))
        .await
        .expect("downs run");
    Migrator::up(&txn, None).await.expect("ups run again");
    txn.commit().await.unwrap();

    let permit = app.permit_row(&permit_no).await;
    let current = service::permit::permits::current_version(db, &permit)
        .await
        .unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(
        app.get("/api/v1/me/permit", Some(&chen.access)).await.body["version"],
        2
    );
}

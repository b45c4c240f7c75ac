use migration::{Migrator, MigratorTrait};

use crate::helpers::spawn_app;

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

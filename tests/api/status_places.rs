//! Status-list places in the database: random allocation across lists, concurrent issues,
//! the migration's backfill, and the change log followed by the other instances.

use chrono::{Duration as Days, Utc};
use entity::{permit, person, status_change, status_list, status_place};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use service::verify::status_list::{
    DEFAULT_LIST_SIZE, Place, Status, StatusRegistry, allocate, place_of, set_state,
};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// `n` permits of one person, every `revoked_every`-th revoked (0: none).
async fn permits(db: &DatabaseConnection, n: usize, revoked_every: usize) -> Vec<Uuid> {
    let now = Utc::now();
    let person_id = Uuid::new_v4();
    person::Entity::insert(person::ActiveModel {
        id: Set(person_id),
        id_number_blind: Set(format!("status-places-{person_id}")),
        id_number_enc: Set(vec![0; 16]),
        name_enc: Set(vec![0; 16]),
        email_enc: Set(None),
        reminders_enabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    for (c, chunk) in ids.chunks(200).enumerate() {
        let rows = chunk.iter().enumerate().map(|(i, id)| {
            let k = c * 200 + i;
            permit::ActiveModel {
                id: Set(*id),
                person_id: Set(person_id),
                permit_no: Set(format!("SP{}{k:07}", &person_id.simple().to_string()[..8])),
                city_code: Set("440100".into()),
                photo_enc: Set(None),
                photo_mime: Set(None),
                revoked_at: Set((revoked_every > 0 && k % revoked_every == 0).then_some(now)),
                revoke_reason_enc: Set(None),
                created_at: Set(now),
                current_version_id: Set(None),
                // Columns of later migrations: absent from the schema this test goes back to.
                registration_ended_on: NotSet,
                suspended_at: NotSet,
            }
        });
        permit::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    ids
}

/// Allocates a place for one permit in its own transaction.
async fn allocate_one(db: &DatabaseConnection, permit_id: Uuid, size: u32) -> Place {
    let txn = db.begin().await.unwrap();
    let place = allocate(&txn, permit_id, size, Utc::now()).await.unwrap();
    txn.commit().await.unwrap();
    place
}

async fn set_one(db: &DatabaseConnection, place: Place, status: Status) {
    let txn = db.begin().await.unwrap();
    set_state(&txn, place, status).await.unwrap();
    txn.commit().await.unwrap();
}

/// How long until `app`'s registry shows `expected` at `place` (at most 5 s).
async fn time_until(app: &TestApp, place: Place, expected: Status) -> Duration {
    let start = Instant::now();
    while app.app.status_lists.status(place) != Some(expected) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{place:?} never showed {expected:?}: {:?}",
            app.app.status_lists.status(place)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

/// Every list with its `allocated` and the places actually taken in it.
async fn lists_and_counts(db: &DatabaseConnection) -> Vec<(status_list::Model, usize)> {
    let places = status_place::Entity::find().all(db).await.unwrap();
    let mut taken: HashMap<i32, usize> = HashMap::new();
    for p in &places {
        *taken.entry(p.list_id).or_default() += 1;
    }
    let mut lists = status_list::Entity::find().all(db).await.unwrap();
    lists.sort_by_key(|l| l.id);
    lists
        .into_iter()
        .map(|l| {
            let n = taken.get(&l.id).copied().unwrap_or(0);
            (l, n)
        })
        .collect()
}

#[tokio::test]
async fn two_thousand_permits_get_distinct_random_places_filling_each_list_to_three_quarters() {
    let app = spawn_app().await;
    let db = &app.app.db;
    let ids = permits(db, 2000, 0).await;
    let mut places = HashMap::new();
    for chunk in ids.chunks(250) {
        let txn = db.begin().await.unwrap();
        for id in chunk {
            let place = allocate(&txn, *id, 64, Utc::now()).await.unwrap();
            assert!(place.idx < 64, "{place:?}");
            places.insert(place, *id);
        }
        txn.commit().await.unwrap();
    }
    assert_eq!(places.len(), 2000, "every place distinct");

    // 48 = 3/4 of 64 per list: 42 lists, numbered from 1 without a hole, all but the last
    // holding 48, each counting exactly the places it holds.
    let lists = lists_and_counts(db).await;
    assert_eq!(lists.len(), 42);
    for (i, (list, taken)) in lists.iter().enumerate() {
        assert_eq!(list.id, i as i32 + 1);
        assert_eq!(list.size, 64);
        assert_eq!(list.allocated as usize, *taken, "list {}", list.id);
        let expected = if i + 1 < lists.len() {
            48
        } else {
            2000 - 48 * 41
        };
        assert_eq!(*taken, expected, "list {}", list.id);
    }
    // Random, not in order: the first list's places are not 0..48.
    let first: HashSet<u32> = places
        .keys()
        .filter(|p| p.list_id == 1)
        .map(|p| p.idx)
        .collect();
    assert_ne!(first, (0..48).collect::<HashSet<u32>>());

    for (place, id) in places.iter().take(50) {
        assert_eq!(place_of(db, *id).await.unwrap(), Some(*place));
    }
    assert_eq!(place_of(db, Uuid::new_v4()).await.unwrap(), None);
    // Asking again for a permit with a place answers it and counts nothing more.
    let (place, id) = places.iter().next().map(|(p, i)| (*p, *i)).unwrap();
    assert_eq!(allocate_one(db, id, 64).await, place);
    assert_eq!(
        lists_and_counts(db)
            .await
            .iter()
            .map(|(l, _)| l.allocated)
            .sum::<i32>(),
        2000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_allocating_at_once_never_take_the_same_place() {
    let app = spawn_app().await;
    let db = app.app.db.clone();
    let ids = permits(&db, 300, 0).await;
    // Lists of 16 (12 each) so that the tasks also race to open the next list.
    let tasks: Vec<_> = ids
        .chunks(150)
        .map(|chunk| {
            let (db, chunk) = (db.clone(), chunk.to_vec());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for id in chunk {
                    mine.push((allocate_one(&db, id, 16).await, id));
                }
                mine
            })
        })
        .collect();
    let mut places = HashMap::new();
    for task in tasks {
        for (place, id) in task.await.unwrap() {
            assert!(places.insert(place, id).is_none(), "{place:?} taken twice");
        }
    }
    assert_eq!(places.len(), 300);
    let lists = lists_and_counts(&db).await;
    assert_eq!(lists.len(), 25, "300 / 12 lists, none opened twice");
    for (list, taken) in &lists {
        assert_eq!(list.allocated as usize, *taken, "list {}", list.id);
        assert!(
            *taken <= 12,
            "list {} over three quarters: {taken}",
            list.id
        );
    }
    for (place, id) in places {
        assert_eq!(place_of(&db, id).await.unwrap(), Some(place));
    }
}

#[tokio::test]
async fn the_migration_gives_every_existing_permit_a_shuffled_place_and_revoked_ones_state_1() {
    let app = spawn_app().await;
    let db = &app.app.db;
    // Back to before this migration (and those after it).
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261201_000002_status_lists")
        .expect("the status lists' migration is listed");
    Migrator::down(db, Some((all.len() - at) as u32))
        .await
        .unwrap();
    assert!(
        db.execute_unprepared("SELECT 1 FROM status_places")
            .await
            .is_err(),
        "the status lists' migration is undone"
    );
    let ids = permits(db, 300, 7).await;
    let revoked: HashSet<Uuid> = ids.iter().step_by(7).copied().collect();
    Migrator::up(db, None).await.unwrap();

    let all_permits = permit::Entity::find().all(db).await.unwrap();
    let places = status_place::Entity::find().all(db).await.unwrap();
    assert_eq!(places.len(), all_permits.len());
    let by_permit: HashMap<Uuid, &status_place::Model> =
        places.iter().map(|p| (p.permit_id.unwrap(), p)).collect();
    for p in &all_permits {
        let place = by_permit[&p.id];
        assert_eq!(place.list_id, 1);
        let expected = if p.revoked_at.is_some() { 1 } else { 0 };
        assert_eq!(place.state, expected, "{}", p.id);
    }
    assert!(revoked.iter().all(|id| by_permit[id].state == 1));
    // Dense: the first n entries of list 1, in shuffled (not id) order.
    let idx: HashSet<i32> = places.iter().map(|p| p.idx).collect();
    assert_eq!(idx, (0..all_permits.len() as i32).collect());
    let mut by_id: Vec<&status_place::Model> = places.iter().collect();
    by_id.sort_by_key(|p| p.permit_id);
    assert!(
        by_id.windows(2).any(|w| w[0].idx > w[1].idx),
        "not shuffled"
    );
    let lists = status_list::Entity::find().all(db).await.unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].size, DEFAULT_LIST_SIZE as i32);
    assert_eq!(lists[0].allocated as usize, all_permits.len());

    let registry = StatusRegistry::load(db).await.unwrap();
    for p in &places {
        let place = Place {
            list_id: 1,
            idx: p.idx as u32,
        };
        let expected = if p.state == 1 {
            Status::Revoked
        } else {
            Status::Valid
        };
        assert_eq!(registry.status(place), Some(expected));
    }
    // New permits go to the same list, at random among the free entries.
    let more = permits(db, 1, 0).await;
    let place = allocate_one(db, more[0], DEFAULT_LIST_SIZE).await;
    assert_eq!(place.list_id, 1);
    assert!(!idx.contains(&(place.idx as i32)));
}

#[tokio::test]
async fn a_revocation_on_one_instance_shows_on_another_within_a_second() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    let db = &app.app.db;
    let ids = permits(db, 2, 0).await;
    let start = Instant::now();
    let place = allocate_one(db, ids[0], DEFAULT_LIST_SIZE).await;

    // The new list reaches both registries through their followers.
    let (here, there) = tokio::join!(
        time_until(&app, place, Status::Valid),
        time_until(&other, place, Status::Valid)
    );
    let opened = start.elapsed() - here.max(there);
    eprintln!(
        "new list known here {:?} and on the other instance {:?} after it was opened",
        opened + here,
        opened + there
    );
    assert!(opened + there < Duration::from_secs(1));

    let start = Instant::now();
    set_one(db, place, Status::Revoked).await;
    assert!(app.app.status_lists.apply(place, Status::Revoked));
    assert_eq!(app.app.status_lists.status(place), Some(Status::Revoked));
    let elapsed = start.elapsed() + time_until(&other, place, Status::Revoked).await;
    eprintln!("revocation seen on the other instance {elapsed:?} after it was made");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    // The other instance's follower applied it already: nothing new to catch up on.
    assert_eq!(other.app.status_lists.catch_up(db).await.unwrap(), 0);

    // A registry that only catches up when asked.
    let registry = StatusRegistry::load(db).await.unwrap();
    let second = allocate_one(db, ids[1], DEFAULT_LIST_SIZE).await;
    set_one(db, second, Status::Suspended).await;
    assert_eq!(registry.status(second), Some(Status::Valid));
    assert!(registry.catch_up(db).await.unwrap() >= 1);
    assert_eq!(registry.status(second), Some(Status::Suspended));
    assert_eq!(registry.status(place), Some(Status::Revoked));
    assert_eq!(registry.catch_up(db).await.unwrap(), 0);
}

#[tokio::test]
async fn loading_after_changes_gives_the_states_set_and_the_followed_lists() {
    let app = spawn_app().await;
    let db = &app.app.db;
    let ids = permits(db, 40, 0).await;
    let mut places = Vec::new();
    for id in &ids {
        places.push(allocate_one(db, *id, 16).await);
    }
    let mut expected = vec![Status::Valid; places.len()];
    for (i, place) in places.iter().enumerate() {
        let status = match i % 5 {
            0 => Status::Revoked,
            1 => Status::Suspended,
            // Suspended, then lifted.
            2 => {
                set_one(db, *place, Status::Suspended).await;
                Status::Valid
            }
            _ => continue,
        };
        set_one(db, *place, status).await;
        expected[i] = status;
    }
    let loaded = StatusRegistry::load(db).await.unwrap();
    app.app.status_lists.catch_up(db).await.unwrap();
    for (place, status) in places.iter().zip(&expected) {
        assert_eq!(loaded.status(*place), Some(*status), "{place:?}");
        assert_eq!(
            app.app.status_lists.status(*place),
            Some(*status),
            "{place:?}"
        );
    }
    let ids_loaded = loaded.list_ids();
    assert_eq!(ids_loaded, app.app.status_lists.list_ids());
    for id in ids_loaded {
        assert_eq!(loaded.list(id), app.app.status_lists.list(id), "list {id}");
    }
    // A place nobody took cannot be set.
    let txn = db.begin().await.unwrap();
    let free = (0..16)
        .map(|idx| Place { list_id: 1, idx })
        .find(|p| !places.contains(p))
        .unwrap();
    assert!(set_state(&txn, free, Status::Revoked).await.is_err());
}

#[tokio::test]
async fn retention_deletes_status_changes_older_than_a_day() {
    let app = spawn_app().await;
    let db = &app.app.db;
    let ids = permits(db, 1, 0).await;
    let place = allocate_one(db, ids[0], DEFAULT_LIST_SIZE).await;
    set_one(db, place, Status::Revoked).await;
    status_change::Entity::insert(status_change::ActiveModel {
        seq: NotSet,
        list_id: Set(place.list_id as i32),
        idx: Set(place.idx as i32),
        state: Set(2),
        changed_at: Set(Utc::now() - Days::hours(25)),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    let report = service::rights::retention::run(&app.app, app.clock().today())
        .await
        .unwrap();
    assert_eq!(report.status_changes_deleted, 1);
    let left = status_change::Entity::find()
        .filter(status_change::Column::State.eq(1))
        .all(db)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        status_change::Entity::find().all(db).await.unwrap().len(),
        1
    );
}

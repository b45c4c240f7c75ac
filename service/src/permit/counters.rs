//! Named counters in the database (serial numbers), safe under concurrent transactions:
//! the increment is a single UPDATE, which takes the row's write lock.

use entity::counter;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::Result;

pub async fn next<C: ConnectionTrait>(db: &C, name: &str) -> Result<i64> {
    counter::Entity::insert(counter::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(0),
    })
    .on_conflict(
        OnConflict::column(counter::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    counter::Entity::update_many()
        .col_expr(
            counter::Column::Value,
            Expr::col(counter::Column::Value).add(1),
        )
        .filter(counter::Column::Name.eq(name))
        .exec(db)
        .await?;
    let row = counter::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("counter {name} vanished"))?;
    Ok(row.value)
}

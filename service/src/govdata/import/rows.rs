//! The rows of one list of an import, replacing the records of the people they name.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::BTreeSet;

use super::CHUNK;
use crate::error::Result;

/// Records of one list, and the people they belong to.
pub(super) struct Rows<A> {
    people: BTreeSet<String>,
    rows: Vec<A>,
}

impl<A> Default for Rows<A> {
    fn default() -> Self {
        Rows {
            people: BTreeSet::new(),
            rows: Vec::new(),
        }
    }
}

impl<A> Rows<A>
where
    A: ActiveModelTrait + Send,
{
    pub(super) fn push(&mut self, blind: String, row: A) {
        self.people.insert(blind);
        self.rows.push(row);
    }

    /// Deletes the named people's existing rows of this kind and inserts the new ones.
    pub(super) async fn replace<C: ConnectionTrait>(
        mut self,
        txn: &C,
        blind_column: <A::Entity as EntityTrait>::Column,
    ) -> Result<usize> {
        let people: Vec<String> = self.people.into_iter().collect();
        for chunk in people.chunks(CHUNK) {
            <A::Entity as EntityTrait>::delete_many()
                .filter(blind_column.is_in(chunk.iter().cloned()))
                .exec(txn)
                .await?;
        }
        let count = self.rows.len();
        while !self.rows.is_empty() {
            let chunk: Vec<A> = self.rows.drain(..self.rows.len().min(CHUNK)).collect();
            <A::Entity as EntityTrait>::insert_many(chunk)
                .exec_without_returning(txn)
                .await?;
        }
        Ok(count)
    }
}

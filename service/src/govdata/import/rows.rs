//! The rows of one list of an import, replacing the records of the people they name.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

use super::CHUNK;
use crate::error::Result;

/// Records of one list, by the person they belong to (the ID number's blind index).
pub(super) struct Rows<A> {
    people: BTreeMap<String, Vec<A>>,
}

impl<A> Default for Rows<A> {
    fn default() -> Self {
        Rows {
            people: BTreeMap::new(),
        }
    }
}

impl<A> Rows<A>
where
    A: ActiveModelTrait + Send,
{
    pub(super) fn push(&mut self, blind: String, row: A) {
        self.people.entry(blind).or_default().push(row);
    }

    pub(super) fn len(&self) -> usize {
        self.people.values().map(Vec::len).sum()
    }

    /// A later batch's records replace these for the people it names, as writing the two
    /// one after the other would.
    pub(super) fn absorb(&mut self, later: Rows<A>) {
        self.people.extend(later.people);
    }

    /// Deletes the named people's existing rows of this kind and inserts the new ones.
    pub(super) async fn replace<C: ConnectionTrait>(
        self,
        txn: &C,
        blind_column: <A::Entity as EntityTrait>::Column,
    ) -> Result<usize> {
        let people: Vec<String> = self.people.keys().cloned().collect();
        for chunk in people.chunks(CHUNK) {
            <A::Entity as EntityTrait>::delete_many()
                .filter(blind_column.is_in(chunk.iter().cloned()))
                .exec(txn)
                .await?;
        }
        let mut rows: Vec<A> = self.people.into_values().flatten().collect();
        let count = rows.len();
        while !rows.is_empty() {
            let chunk: Vec<A> = rows.drain(..rows.len().min(CHUNK)).collect();
            <A::Entity as EntityTrait>::insert_many(chunk)
                .exec_without_returning(txn)
                .await?;
        }
        Ok(count)
    }
}

//! Following the change log: every instance applies the changes the others logged, waits
//! for gaps in the change numbers, and reloads every state when it fell too far behind.

use super::*;

/// What the follower knows of the change log.
pub(super) struct Follow {
    /// Every change numbered up to here is applied (or given up on as rolled back).
    pub(super) floor: i64,
    /// Changes above `floor` already applied.
    pub(super) seen: BTreeSet<i64>,
    /// Since when a gap above `floor` has been waited for.
    pub(super) gap_since: Option<Instant>,
    pub(super) last_success: Instant,
}

impl Follow {
    pub(super) fn new(floor: i64) -> Follow {
        Follow {
            floor,
            seen: BTreeSet::new(),
            gap_since: None,
            last_success: Instant::now(),
        }
    }

    /// Raises `floor` over what is seen without a gap, and over a gap waited for too long.
    pub(super) fn advance(&mut self, now: Instant) {
        loop {
            while self.seen.first() == Some(&(self.floor + 1)) {
                self.seen.pop_first();
                self.floor += 1;
            }
            let Some(&next) = self.seen.first() else {
                self.gap_since = None;
                return;
            };
            let since = *self.gap_since.get_or_insert(now);
            if now.duration_since(since) < GAP_WAIT {
                return;
            }
            tracing::debug!(
                from = self.floor + 1,
                to = next - 1,
                "status changes never committed (rolled back); skipped"
            );
            self.floor = next - 1;
            self.gap_since = None;
        }
    }
}

impl StatusRegistry {
    /// Applies the changes logged since the last call (by any instance) and learns of new
    /// lists; answers the number of changes not seen before. Concurrent calls take turns.
    pub async fn catch_up<C: ConnectionTrait>(&self, db: &C) -> Result<usize> {
        let mut follow = self.follow.lock().await;
        if follow.last_success.elapsed() > RELOAD_AFTER {
            let floor = watermark(db).await?;
            self.reload(db).await?;
            *follow = Follow::new(floor);
            tracing::warn!("status lists were behind for long; reloaded from the database");
        }
        let mut fresh = 0;
        let mut after = follow.floor;
        let mut first = true;
        loop {
            let changes: Vec<(i64, i32, i32, i16)> = status_change::Entity::find()
                .select_only()
                .columns([
                    status_change::Column::Seq,
                    status_change::Column::ListId,
                    status_change::Column::Idx,
                    status_change::Column::State,
                ])
                .filter(status_change::Column::Seq.gt(after))
                .order_by_asc(status_change::Column::Seq)
                .limit(CHANGE_BATCH)
                .into_tuple()
                .all(db)
                .await
                .context("reading status changes")?;
            // Lists after changes: a list a visible change names is committed, so visible.
            if first {
                self.learn_new_lists(db).await?;
                first = false;
            }
            // Only the last state of each entry in the batch, so that no entry shows an
            // older state for a moment.
            let mut last: HashMap<(i32, i32), i16> = HashMap::new();
            for &(seq, list_id, idx, state) in &changes {
                last.insert((list_id, idx), state);
                if follow.seen.insert(seq) {
                    fresh += 1;
                }
                after = seq;
            }
            for ((list_id, idx), state) in last {
                let place = Place {
                    list_id: from_sql_int(list_id, "list_id")?,
                    idx: from_sql_int(idx, "idx")?,
                };
                let status = u8::try_from(state)
                    .map(Status::from_u8)
                    .map_err(|_| anyhow!("status change with state {state}"))?;
                self.apply(place, status);
            }
            if (changes.len() as u64) < CHANGE_BATCH {
                break;
            }
        }
        follow.advance(Instant::now());
        follow.last_success = Instant::now();
        *self
            .caught_up_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = follow.last_success;
        Ok(fresh)
    }

    /// How long since the lists last caught up with the log: what a verification answered
    /// from them may be this much behind the database.
    pub fn since_caught_up(&self) -> Duration {
        self.caught_up_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }

    /// Lists created since they were last looked for, each with its entries that are not
    /// VALID.
    pub(super) async fn learn_new_lists<C: ConnectionTrait>(&self, db: &C) -> Result<()> {
        let first_unknown = {
            let lists = self.lists.read().unwrap_or_else(PoisonError::into_inner);
            (1..lists.len())
                .find(|id| lists.get(*id).is_some_and(Option::is_none))
                .unwrap_or(lists.len().max(1))
        };
        let first_unknown = i32::try_from(first_unknown).unwrap_or(i32::MAX);
        let rows = status_list::Entity::find()
            .filter(status_list::Column::Id.gte(first_unknown))
            .order_by_asc(status_list::Column::Id)
            .all(db)
            .await
            .context("reading new status lists")?;
        for row in rows {
            let list_id = from_sql_int(row.id, "list id")?;
            if self.get(list_id).is_none() {
                let (size, bytes) = read_list(db, row.id, row.size).await?;
                self.insert_list(list_id, List::from_bytes(size, bytes));
            }
        }
        Ok(())
    }

    /// Every list and its states afresh from the database.
    pub(super) async fn reload<C: ConnectionTrait>(&self, db: &C) -> Result<()> {
        let rows = status_list::Entity::find()
            .order_by_asc(status_list::Column::Id)
            .all(db)
            .await
            .context("reading status lists")?;
        for row in rows {
            let list_id = from_sql_int(row.id, "list id")?;
            let (size, bytes) = read_list(db, row.id, row.size).await?;
            match self.get(list_id) {
                Some(list) => list.replace(&bytes),
                None => {
                    self.insert_list(list_id, List::from_bytes(size, bytes));
                }
            }
        }
        Ok(())
    }

    /// Follows the log every `interval` in the background (the other instances' changes
    /// show within it). Ends when the registry is dropped.
    pub fn spawn_follower(
        self: Arc<Self>,
        db: DatabaseConnection,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let registry: Weak<StatusRegistry> = Arc::downgrade(&self);
        drop(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                match registry.catch_up(&db).await {
                    Ok(_) if failing => {
                        tracing::info!("status lists caught up again");
                        failing = false;
                    }
                    Ok(_) => {}
                    // Once per streak: the poll runs several times a second.
                    Err(e) if !failing => {
                        tracing::warn!(error = ?e, "status lists could not catch up; retrying");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        })
    }
}

/// The log position a fresh registry starts after: the last change older than
/// [`GAP_WAIT`], or 0. System time, as the log is stamped (see `places::set_state`).
pub(super) async fn watermark<C: ConnectionTrait>(db: &C) -> Result<i64> {
    let before =
        crate::clock::system_now() - chrono::Duration::from_std(GAP_WAIT).unwrap_or_default();
    let max: Option<Option<i64>> = status_change::Entity::find()
        .select_only()
        .column_as(status_change::Column::Seq.max(), "max_seq")
        .filter(status_change::Column::ChangedAt.lt(before))
        .into_tuple()
        .one(db)
        .await
        .context("reading the status change watermark")?;
    Ok(max.flatten().unwrap_or(0))
}

/// The size and packed entries of one list, from its places that are not VALID.
pub(super) async fn read_list<C: ConnectionTrait>(
    db: &C,
    list_id: i32,
    size: i32,
) -> Result<(u32, Vec<u8>)> {
    let size = from_sql_int(size, "list size")?;
    let mut bytes = vec![0u8; size.div_ceil(ENTRIES_PER_BYTE) as usize];
    let set: Vec<(i32, i16)> = status_place::Entity::find()
        .select_only()
        .columns([status_place::Column::Idx, status_place::Column::State])
        .filter(status_place::Column::ListId.eq(list_id))
        .filter(status_place::Column::State.ne(0))
        .into_tuple()
        .all(db)
        .await
        .with_context(|| format!("reading the entries of status list {list_id}"))?;
    for (idx, state) in set {
        let idx = from_sql_int(idx, "idx")?;
        if idx >= size {
            continue;
        }
        let (byte, shift) = List::locate(idx);
        let value = u8::try_from(state).unwrap_or(0) & MASK;
        if let Some(b) = bytes.get_mut(byte) {
            *b = (*b & !(MASK << shift)) | (value << shift);
        }
    }
    Ok((size, bytes))
}

use sea_orm::entity::prelude::*;

/// How far the bulk import of one extract file got (keyed by the SHA-256 of its content).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gov_import_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub file_sha256: String,
    pub file_name: String,
    pub file_bytes: i64,
    /// Where the next line starts.
    pub byte_offset: i64,
    pub lines_done: i64,
    pub records_imported: i64,
    pub records_refused: i64,
    pub lines_refused: i64,
    /// The length of the file of refused lines once this batch was written.
    pub refused_bytes: i64,
    pub started_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

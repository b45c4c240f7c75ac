use sea_orm::entity::prelude::*;

/// A face verification (人脸核身 2.0) started with the platform for one login, with the name
/// and ID number it was started for; it binds that login at most once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "face_verifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub app: String,
    pub openid: String,
    #[sea_orm(unique)]
    pub out_seq_no: String,
    /// SHA-256 (hex) of the platform's verify_id.
    #[sea_orm(unique)]
    pub verify_id_hash: String,
    pub id_number_blind: String,
    pub id_number_enc: Vec<u8>,
    pub name_enc: Vec<u8>,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// `passed`, `not_passed` (the platform's verify_ret was not 10000) or `refused` (the
    /// platform answered an error code); none while unused.
    pub outcome: Option<String>,
    pub verify_ret: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id"
    )]
    Account,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

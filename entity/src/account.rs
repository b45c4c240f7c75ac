use sea_orm::entity::prelude::*;

/// A login on one mini-program (or, later, a bot channel); several may share one person.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app: String,
    pub openid: String,
    pub unionid: Option<String>,
    pub person_id: Option<Uuid>,
    /// How the binding was proven: `wx_face` (the platform's face verification) or
    /// `gov_data` (the government-data match alone, dev mode); none while unbound.
    pub identity_assurance: Option<String>,
    pub identity_bound_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_login_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::person::Entity",
        from = "Column::PersonId",
        to = "super::person::Column::Id"
    )]
    Person,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::person::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Person.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer, Serialize};
use service::Context;
use service::identity::{self, ContactChange, Me};

use crate::error::ApiError;
use crate::extract::Resident;

#[derive(Deserialize)]
pub struct IdentityRequest {
    name: String,
    id_number: String,
}

#[derive(Serialize)]
struct IdentityResponse {
    verified: bool,
    masked_id_number: String,
}

pub async fn bind_identity(
    ctx: web::Data<Context>,
    resident: Resident,
    body: web::Json<IdentityRequest>,
) -> Result<HttpResponse, ApiError> {
    let bound = identity::bind(&ctx, &resident.0, &body.name, &body.id_number).await?;
    Ok(HttpResponse::Ok().json(IdentityResponse {
        verified: true,
        masked_id_number: bound.masked_id_number,
    }))
}

#[derive(Serialize)]
struct MeResponse {
    account_id: uuid::Uuid,
    app: String,
    created_at: chrono::DateTime<chrono::Utc>,
    identity_bound: bool,
    masked_id_number: Option<String>,
    masked_name: Option<String>,
    email: Option<String>,
    reminders_enabled: bool,
}

impl From<Me> for MeResponse {
    fn from(me: Me) -> Self {
        MeResponse {
            account_id: me.account_id,
            app: me.app,
            created_at: me.created_at,
            identity_bound: me.identity.is_some(),
            masked_id_number: me.identity.as_ref().map(|i| i.masked_id_number.clone()),
            masked_name: me.identity.map(|i| i.masked_name),
            email: me.email,
            reminders_enabled: me.reminders_enabled,
        }
    }
}

pub async fn show(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let me = identity::me(&ctx, &resident.0).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(me)))
}

#[derive(Deserialize)]
pub struct UpdateRequest {
    /// Absent: unchanged; `null`: cleared; a string: set.
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default)]
    reminders_enabled: Option<bool>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub async fn update(
    ctx: web::Data<Context>,
    resident: Resident,
    body: web::Json<UpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let change = ContactChange {
        email: body.email,
        reminders_enabled: body.reminders_enabled,
    };
    let me = identity::update_contact(&ctx, &resident.0, change).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(me)))
}

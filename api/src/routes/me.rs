use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Deserializer, Serialize};
use service::Context;
use service::identity::binding::{self, ContactChange, Me};
use service::identity::face_verification;
use service::rights::closure::{Erased, Kept, Retained};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::extract::{JsonObject, Resident};
use crate::openapi::schemas;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(show)
        .service(update)
        .service(close)
        .service(export)
        .service(bind_identity)
        .service(start_face_verification);
}

#[derive(Deserialize, ToSchema)]
pub struct IdentityRequest {
    #[schema(schema_with = schemas::text)]
    name: String,
    #[schema(schema_with = schemas::id_number)]
    id_number: String,
    /// The face verification (人脸核身) the mini-program ran; required outside dev mode.
    #[serde(default)]
    #[schema(schema_with = schemas::text)]
    verify_id: Option<String>,
}

/// How a binding was proven.
fn assurance() -> impl Into<RefOr<Schema>> {
    service::api_schema::one_of(["wx_face", "gov_data"])
}

#[derive(Serialize, ToSchema)]
#[schema(as = IdentityBound)]
pub struct IdentityResponse {
    #[schema(schema_with = schemas::always_true)]
    verified: bool,
    masked_id_number: String,
    #[schema(schema_with = assurance)]
    assurance: &'static str,
}

#[utoipa::path(
    tag = "我的",
    summary = "实名认证（人脸核身结果与户籍信息核对；仅开发环境可不带 verify_id）",
    security(("resident" = [])),
    request_body = inline(IdentityRequest),
    responses(
        (status = 200, body = IdentityResponse),
        (status = 503, description = "微信平台暂不可用", body = crate::error::ErrorBody),
    ),
)]
#[post("/me/identity")]
pub async fn bind_identity(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<IdentityRequest>,
) -> Result<HttpResponse, ApiError> {
    let bound = binding::bind(
        &ctx,
        &resident.0,
        &body.name,
        &body.id_number,
        body.verify_id.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(IdentityResponse {
        verified: true,
        masked_id_number: bound.masked_id_number,
        assurance: bound.assurance.as_str(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct FaceVerificationRequest {
    #[schema(schema_with = schemas::text)]
    name: String,
    #[schema(schema_with = schemas::id_number)]
    id_number: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FaceVerification)]
pub struct FaceVerificationResponse {
    verify_id: String,
    #[schema(minimum = 1)]
    expires_in: u64,
}

/// Opens a face verification for `wx.requestFacialVerify` in the mini-program.
#[utoipa::path(
    tag = "我的",
    summary = "发起人脸核身（获取 wx.requestFacialVerify 的 verify_id）",
    security(("resident" = [])),
    request_body = inline(FaceVerificationRequest),
    responses(
        (status = 201, body = FaceVerificationResponse),
        (status = 503, description = "微信平台暂不可用", body = crate::error::ErrorBody),
    ),
)]
#[post("/me/identity/face-verification")]
pub async fn start_face_verification(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<FaceVerificationRequest>,
) -> Result<HttpResponse, ApiError> {
    let started = face_verification::start(&ctx, &resident.0, &body.name, &body.id_number).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(FaceVerificationResponse {
            verify_id: started.verify_id,
            expires_in: started.expires_in,
        }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = Me)]
pub struct MeResponse {
    account_id: uuid::Uuid,
    #[schema(schema_with = service::api_schema::mini_app)]
    app: String,
    created_at: chrono::DateTime<chrono::Utc>,
    identity_bound: bool,
    masked_id_number: Option<String>,
    masked_name: Option<String>,
    /// How the binding was proven: `wx_face` or `gov_data`; null while unbound.
    #[schema(schema_with = nullable_assurance)]
    assurance: Option<String>,
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
            assurance: me.assurance,
            email: me.email,
            reminders_enabled: me.reminders_enabled,
        }
    }
}

fn nullable_assurance() -> impl Into<RefOr<Schema>> {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(service::api_schema::one_of(["wx_face", "gov_data"]))
        .item(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Null),
        )
}

#[utoipa::path(
    tag = "我的",
    summary = "账号、实名状态、联系设置",
    security(("resident" = [])),
    responses((status = 200, body = MeResponse)),
)]
#[get("/me")]
pub async fn show(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let me = binding::me(&ctx, &resident.0).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(me)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateRequest {
    /// Absent: unchanged; `null`: cleared; a string: set.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    #[serde(default)]
    reminders_enabled: Option<bool>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[utoipa::path(
    tag = "我的",
    summary = "修改邮箱、提醒开关",
    security(("resident" = [])),
    request_body = inline(UpdateRequest),
    responses((status = 200, body = MeResponse)),
)]
#[patch("/me")]
pub async fn update(
    ctx: web::Data<Context>,
    resident: Resident,
    body: JsonObject<UpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let change = ContactChange {
        email: body.email,
        reminders_enabled: body.reminders_enabled,
    };
    let me = binding::update_contact(&ctx, &resident.0, change).await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(me)))
}

/// Everything held about the person, as a JSON download. Never cached anywhere.
#[utoipa::path(
    tag = "我的",
    summary = "导出本人全部数据",
    security(("resident" = [])),
    responses((status = 200, body = Object)),
)]
#[get("/me/export")]
pub async fn export(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let export = service::rights::export::export(&ctx, &resident.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"yueju-export.json\"",
        ))
        .json(export))
}

#[derive(Serialize, ToSchema)]
#[schema(as = Closing)]
pub struct ClosedResponse {
    closed: bool,
    deleted: Vec<DeletedItem>,
    kept: Vec<KeptItem>,
    revoked_authorizations: u64,
    /// The chat links deleted with the logins (masked chat user ids).
    chat_links: Vec<service::identity::chat_links::ChatLinkView>,
}

#[derive(Serialize, ToSchema)]
struct DeletedItem {
    what: &'static str,
    count: u64,
}

#[derive(Serialize, ToSchema)]
struct KeptItem {
    what: &'static str,
    why: &'static str,
    /// The last day kept, when we set one.
    until: Option<chrono::NaiveDate>,
    period: String,
    count: u64,
}

fn erased_label(what: Erased) -> &'static str {
    match what {
        Erased::Logins => "登录账号（粤省事、粤居码等小程序账号）",
        Erased::Sessions => "登录会话及刷新令牌",
        Erased::ContactEmail => "联系邮箱",
        Erased::PendingRequests => "尚未处理的用证部门授权请求",
        Erased::MaterialFiles => "上传的申请材料文件",
        Erased::Applications => "未获签发的申请（办理中或未通过的申请）",
        Erased::Notices => "待发送和已发送的通知",
        Erased::Subscriptions => "订阅消息授权记录（接收提醒的订阅次数和长期订阅）",
        Erased::SavedAnswers => "防重复提交的保存记录",
        Erased::Identity => "实名认证信息（姓名、公民身份号码）",
        Erased::FaceVerifications => "人脸核身记录（发起核身时提交的姓名、公民身份号码）",
        Erased::ChatLinks => "聊天机器人绑定（公众号等聊天账号与登录账号的关联及未使用的绑定码）",
    }
}

fn kept_item(kept: &Kept, log_days: u32) -> KeptItem {
    let (what, why, period) = match kept.what {
        Retained::Permit => (
            "居住证签发记录（证号、各签注和续期版本及其签名、相片、姓名和公民身份号码，以及据以签发的申请）",
            "居住证由公安机关依照《居住证暂行条例》签发，签发记录属于公安机关的业务档案，须依法保存；注销账号不影响已签发居住证的效力",
            "按公安机关档案管理规定保存".to_owned(),
        ),
        Retained::CardOrders => (
            "实体居住证的制证和收费记录",
            "属于居住证办理档案，须与签发记录一同保存",
            "按公安机关档案管理规定保存".to_owned(),
        ),
        Retained::ConsentRecords => (
            "您对用证部门授权请求的决定及授权记录（有效授权已全部撤回）",
            "用于证明用证部门获取您的信息时已取得您的同意，以及您撤回同意的时间",
            format!("自授权结束之日起保存{log_days}天"),
        ),
        Retained::AccessLog => (
            "用证记录（用证部门对您居住证的核验、下载以及您的授权、撤回）",
            "依法保存三年，供您和监管部门核查个人信息的处理情况",
            format!("每条记录自产生之日起保存{log_days}天，期满自动删除"),
        ),
    };
    KeptItem {
        what,
        why,
        until: kept.until,
        period,
        count: kept.count,
    }
}

/// Closes the account: deletes what no law requires to keep and says what is kept.
#[utoipa::path(
    tag = "我的",
    summary = "注销账号（说明删除与保留的内容）",
    security(("resident" = [])),
    responses((status = 200, body = ClosedResponse)),
)]
#[delete("/me")]
pub async fn close(ctx: web::Data<Context>, resident: Resident) -> Result<HttpResponse, ApiError> {
    let closure = service::rights::closure::close(&ctx, &resident.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ClosedResponse {
            closed: true,
            deleted: closure
                .deleted
                .iter()
                .map(|d| DeletedItem {
                    what: erased_label(d.what),
                    count: d.count,
                })
                .collect(),
            kept: closure
                .kept
                .iter()
                .map(|k| kept_item(k, closure.access_log_days))
                .collect(),
            revoked_authorizations: closure.revoked_authorizations,
            chat_links: closure.chat_links,
        }))
}

//! The service's one error type: either a refusal the client can act on, or an internal failure.

use crate::domain::IdNumberError;

/// Why a request was refused. The API layer maps each to a status, a stable code and a
/// message in Chinese; the service never writes user-facing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("citizen ID number is invalid: {0}")]
    IdNumberInvalid(IdNumberError),
    #[error("name and ID number do not match household registration")]
    IdentityMismatch,
    #[error("this login is already bound to another identity")]
    IdentityAlreadyBound,
    #[error("identity binding is required first")]
    IdentityRequired,
    #[error("binding needs the platform's face verification")]
    FaceVerificationRequired,
    #[error("face verification did not pass, expired, was used or is not this login's")]
    FaceVerificationFailed,
    #[error("a field is invalid: {field}")]
    InvalidField {
        field: &'static str,
        reason: FieldProblem,
    },
    #[error("unknown mini-program")]
    UnknownApp,
    #[error("login code invalid or used")]
    LoginCodeInvalid,
    #[error("dev login codes are refused outside dev mode")]
    DevLoginRefused,
    #[error("platform login not configured for this mini-program")]
    LoginNotConfigured,
    #[error("platform rate limit reached")]
    PlatformRateLimited,
    #[error("platform flagged the user as risky")]
    PlatformRiskyUser,
    #[error("platform busy or unreachable")]
    PlatformUnavailable,
    #[error("government data source unavailable")]
    GovDataUnavailable,
    #[error("missing or invalid credentials")]
    Unauthenticated,
    #[error("access token expired")]
    TokenExpired,
    #[error("authenticated, but not allowed")]
    Forbidden,
    #[error("username or password wrong")]
    InvalidCredentials,
    #[error("refresh token invalid or expired")]
    RefreshTokenInvalid,
    #[error("refresh token reused; its family is revoked")]
    RefreshTokenReused,
    #[error("{0:?} not found (or not the caller's)")]
    NotFound(Missing),
    #[error("Shenzhen runs its own residence-permit system")]
    RegionNotSupported,
    #[error("city is not in Guangdong")]
    UnknownCity,
    #[error("district is not in that city")]
    UnknownDistrict,
    #[error("an application is already open")]
    ApplicationOpen,
    #[error("a valid permit is already held")]
    PermitHeld,
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error("application is not waiting for materials")]
    NotAwaitingMaterials,
    #[error("this kind of material is not needed")]
    MaterialNotNeeded,
    #[error("file type not allowed")]
    FileTypeNotAllowed,
    #[error("file too large")]
    FileTooLarge,
    #[error("file does not decode as the JPEG, PNG or PDF it claims to be")]
    FileUnreadable,
    #[error("image has more pixels than allowed")]
    ImageTooLarge,
    #[error("application is not pending review")]
    NotPendingReview,
    #[error("endorsement window opens on {opens_on}")]
    EndorsementNotDue { opens_on: chrono::NaiveDate },
    #[error("permit expired")]
    PermitExpired,
    #[error("permit revoked")]
    PermitRevoked,
    #[error("permit is not valid now")]
    PermitNotValid,
    #[error("a move to {city} needs a new application there")]
    CityChangeNeedsNewApplication { city: String },
    #[error("the permit is suspended for a missed endorsement: endorse first")]
    EndorsementRequired,
    #[error("the new address cannot begin before the permit was issued on {issued_on}")]
    AddressSinceBeforePermit { issued_on: chrono::NaiveDate },
    #[error("conditions no longer proved: {0:?}")]
    ConditionsNotMet(Vec<crate::applying::eligibility::MaterialKind>),
    #[error("a card order is still open")]
    CardOrderOpen,
    #[error("payment platform unreachable, slow or answering an error")]
    PaymentUnavailable,
    /// The signer (in the process or a seal server) could not sign; nothing was issued.
    #[error("signing service unavailable, slow or answering something that does not verify")]
    SigningUnavailable,
    #[error("the paid callback's amount differs from the notice's")]
    PaymentAmountMismatch,
    #[error("an order becomes paid only by the payment platform's callback")]
    PaidOnlyByPayment,
    #[error("the request conflicts with a concurrent change")]
    Conflict,
    #[error("status cannot move from {from} to {to}")]
    InvalidTransition { from: String, to: String },
    #[error("an agency with this credit code is registered")]
    AgencyExists,
    #[error("client id or secret wrong")]
    ClientCredentialsInvalid,
    #[error("too many failed attempts; retry in {retry_after_secs}s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("scope not granted to this agency: {0}")]
    ScopeNotAllowed(String),
    #[error("field not allowed for this agency: {0}")]
    FieldNotAllowed(String),
    #[error("the scanned code does not verify: {}", .0.code())]
    CodeInvalid(crate::verify::verification::VerifyReason),
    #[error("the request was already decided")]
    RequestDecided,
    #[error("the request expired before a decision")]
    RequestExpired,
    #[error("the consent text changed since it was shown")]
    ConsentTextChanged,
    #[error("authorization revoked")]
    AuthorizationRevoked,
    #[error("authorization expired")]
    AuthorizationExpired,
    #[error("download limit of the authorization reached")]
    DownloadLimitReached,
    /// A grant for a residence proof does not allow the annotated copy.
    #[error("the authorization is for a residence proof, not the annotated copy")]
    AuthorizationNotForCopy,
    /// A grant for the annotated copy does not give a residence proof.
    #[error("the authorization is for the annotated copy, not a residence proof")]
    AuthorizationNotForProof,
    #[error("platform signature missing or wrong")]
    SignatureInvalid,
    #[error("platform timestamp outside the replay window")]
    TimestampOutOfWindow,
    #[error("platform message malformed")]
    MessageMalformed,
    #[error("platform message too large")]
    MessageTooLarge,
}

/// What a [`Refusal::NotFound`] was looking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Application,
    Permit,
    Material,
    CardOrder,
    PaymentNotice,
    Agency,
    AuthorizationRequest,
    Authorization,
    StatusList,
}

/// What is wrong with a field, for [`Refusal::InvalidField`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    Missing,
    Empty,
    TooLong,
    BadFormat,
    InFuture,
    NotAllowed,
    /// Holds a character the annotated copy's font cannot print (a rare character beyond
    /// the font): the printed annotation could not be read back and checked.
    Unprintable,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        Error::Internal(anyhow::Error::new(err).context("database error"))
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

/// Maps a unique-constraint violation to a refusal; any other database error stays internal.
pub fn on_unique(err: sea_orm::DbErr, refusal: Refusal) -> Error {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::Refused(refusal),
        _ => err.into(),
    }
}

/// A signature that could not be made refuses the request; the log keeps why.
impl From<crate::keys::signing::SignError> for Error {
    fn from(err: crate::keys::signing::SignError) -> Self {
        tracing::warn!(error = %err, "signing failed");
        Error::Refused(Refusal::SigningUnavailable)
    }
}

impl From<IdNumberError> for Error {
    fn from(err: IdNumberError) -> Self {
        Error::Refused(Refusal::IdNumberInvalid(err))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for a field refusal.
pub fn invalid(field: &'static str, reason: FieldProblem) -> Error {
    Error::Refused(Refusal::InvalidField { field, reason })
}

//! Schemas of request values narrower than their Rust type: what the server checks on a
//! string or number, written where the type is `#[schema(schema_with = …)]`. The checks the
//! schema cannot state (an ID number's check character, a district of the city) stay the
//! server's, answered 422.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// Text the server requires to say something: not empty, not only spaces.
pub fn text() -> ObjectBuilder {
    string().min_length(Some(1)).pattern(Some(r"\S"))
}

/// A citizen ID number (GB 11643): 17 digits and a check character, blanks around it
/// ignored; the checksum itself is the server's to check (422).
pub fn id_number() -> ObjectBuilder {
    string().pattern(Some(r"^\s*[0-9]{17}[0-9Xx]\s*$"))
}

/// A unified social credit code (GB 32100) as the server parses it: 18 characters of its
/// alphabet, either case, blanks around it ignored; the check character is the server's.
pub fn credit_code() -> ObjectBuilder {
    string().pattern(Some(r"^\s*[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}\s*$"))
}

/// A city of Guangdong, by full or short name (广州市 or 广州).
pub fn city() -> ObjectBuilder {
    let cities = service::domain::divisions::cities();
    let names = cities
        .iter()
        .map(|c| c.name)
        .chain(cities.iter().map(|c| c.short_name()));
    string().enum_values(Some(names))
}

/// A date (`2024-03-01`).
pub fn date() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
}

/// A date that may be left out or null (meaning today).
pub fn nullable_date() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(date())
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

/// A clamped count such as a page size or a window of days (any u64): 0 is taken as 1, values
/// above the operation's maximum as that maximum.
pub fn page_limit() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(utoipa::Number::UInt(u64::MAX as usize)))
}

/// The cursor of a page keyed by id: the last item's id.
pub fn uuid_cursor() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// The cursor of the access log: the last `seq` seen (empty for the first page).
pub fn seq_cursor() -> ObjectBuilder {
    string().pattern(Some("^[0-9]{0,18}$"))
}

/// A count of days in a body: `7` or `7.0`, up to what a float holds exactly (2^53 - 1); the
/// range a rule allows is the server's to check (422).
pub fn whole() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(utoipa::Number::UInt(9_007_199_254_740_991)))
}

/// An answer that is not JSON, by its media type: the bytes as they come.
fn bytes(media_type: &str) -> RefOr<Schema> {
    string().content_media_type(media_type).into()
}

/// The holder's code as a PNG image.
pub struct Png;

impl utoipa::PartialSchema for Png {
    fn schema() -> RefOr<Schema> {
        bytes("image/png")
    }
}

impl utoipa::ToSchema for Png {}

/// A Status List Token (a JWT).
pub struct StatusListJwt;

impl utoipa::PartialSchema for StatusListJwt {
    fn schema() -> RefOr<Schema> {
        bytes("application/statuslist+jwt")
    }
}

impl utoipa::ToSchema for StatusListJwt {}

/// The token type of every token answer.
pub fn bearer() -> ObjectBuilder {
    string().enum_values(Some(["Bearer"]))
}

/// A flag that is only ever `true` in the answer that has it.
pub fn always_true() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
}

/// A rendered image as SVG.
pub struct Svg;

impl utoipa::PartialSchema for Svg {
    fn schema() -> RefOr<Schema> {
        bytes("image/svg+xml")
    }
}

impl utoipa::ToSchema for Svg {}

/// The annotated copy as a PDF document.
pub struct Pdf;

impl utoipa::PartialSchema for Pdf {
    fn schema() -> RefOr<Schema> {
        bytes("application/pdf")
    }
}

impl utoipa::ToSchema for Pdf {}

//! Contacts: where to reach SEESAC. Exactly one contact is primary (while there are
//! any); `GET /api/v1/contact` answers with it.

use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use uuid::Uuid;

use super::{CONTENT, Publication, content_body, content_record};
use crate::engine::read::access_of;
use crate::engine::{
    Descriptor, Resource, Save, Section, Tag, Target, WriteContext, delete_row, present, store_row,
    stored_row, table_resource,
};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::db::schema::contacts;
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::http;
use crate::platform::openapi::problems::{BadParameter, BadToken, NotFound, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{self, CONTENT_FIELDS, Dir, Field, Kind, ListSpec, View};
use crate::platform::validate::{Check, CountryCode, Email, Name, Phone, Position, Slug};

stored_row! {
    /// A contact.
    #[diesel(table_name = contacts)]
    #[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000301", "slug": "seesac-belgrade",
        "name": "South Eastern and Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons (SEESAC)",
        "organisation": "UNDP", "street_address": "Bulevar Zorana Đinđića 64", "postal_code": "11000",
        "city": "Belgrade", "country_code": "RS", "phone": "+381 11 415 5300", "fax": "+381 415 5499",
        "email": "seesac@undp.org", "primary": true, "position": 1, "status": "published",
        "published_at": "2024-05-08T09:00:00Z", "version": 1, "created_at": "2024-05-08T09:00:00Z",
        "updated_at": "2024-05-08T09:00:00Z"}))]
    pub struct Contact {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// The URL key.
        pub slug: String,
        /// Who or what to contact.
        pub name: String,
        /// The organisation it belongs to, e.g. `UNDP`.
        pub organisation: Option<String>,
        /// Street and number.
        pub street_address: Option<String>,
        /// The postal code.
        pub postal_code: Option<String>,
        /// The city.
        pub city: Option<String>,
        /// ISO 3166-1 alpha-2.
        pub country_code: Option<String>,
        /// As dialled internationally, e.g. `+381 11 415 5300`.
        pub phone: Option<String>,
        /// As dialled internationally.
        pub fax: Option<String>,
        /// The email address.
        pub email: Option<String>,
        /// Whether this is the primary contact, the one `GET /api/v1/contact` shows.
        #[diesel(column_name = is_primary)]
        pub primary: bool,
        /// Order on the site, smallest first.
        pub position: i32,
    }
    key: slug, published
}

content_body! {
    /// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, timestamps)
    /// may be present and are ignored.
    #[schema(example = json!({"slug": "seesac-belgrade",
        "name": "South Eastern and Eastern Europe Clearinghouse for the Control of Small Arms and Light Weapons (SEESAC)",
        "street_address": "Bulevar Zorana Đinđića 64", "postal_code": "11000", "city": "Belgrade",
        "country_code": "RS", "phone": "+381 11 415 5300", "email": "seesac@undp.org", "primary": true,
        "status": "published"}))]
    pub struct ContactBody {
        /// The URL key. On PUT the URL carries it; a PATCH that changes it moves the contact.
        #[schema(value_type = Option<Slug>)]
        pub slug: Option<String>,
        /// Who or what: a person or an office, at most 200 characters.
        #[schema(value_type = Option<Name>)]
        pub name: Option<String>,
        /// At most 200 characters.
        #[schema(max_length = 200)]
        pub organisation: Option<String>,
        /// At most 200 characters.
        #[schema(max_length = 200)]
        pub street_address: Option<String>,
        /// At most 20 characters.
        #[schema(max_length = 20)]
        pub postal_code: Option<String>,
        /// At most 100 characters.
        #[schema(max_length = 100)]
        pub city: Option<String>,
        /// The country, or EU.
        #[schema(value_type = Option<CountryCode>)]
        pub country_code: Option<String>,
        /// Telephone, as dialled internationally.
        #[schema(value_type = Option<Phone>)]
        pub phone: Option<String>,
        /// Fax, as dialled internationally.
        #[schema(value_type = Option<Phone>)]
        pub fax: Option<String>,
        /// Email address.
        #[schema(value_type = Option<Email>)]
        pub email: Option<String>,
        /// Whether this is the contact the site shows. Making one primary demotes the
        /// other; the primary contact stays primary until another is made primary (422, `last_primary`).
        pub primary: Option<bool>,
        /// Order on the site (default 0).
        pub position: Option<Position>,
    }
}

content_record! {
    #[diesel(table_name = contacts)]
    pub struct ContactRecord {
        slug: String,
        name: String,
        organisation: Option<String>,
        street_address: Option<String>,
        postal_code: Option<String>,
        city: Option<String>,
        country_code: Option<String>,
        phone: Option<String>,
        fax: Option<String>,
        email: Option<String>,
        #[diesel(column_name = is_primary)]
        primary: bool,
        position: i32,
    }
}

const FIELDS: &[Field] = &[
    Field::new("slug", Kind::Text).ordered(),
    Field::new("name", Kind::Text)
        .ordered()
        .translatable(Name::MAX),
    Field::new("organisation", Kind::Text)
        .ordered()
        .nullable()
        .translatable(200),
    Field::new("street_address", Kind::Text),
    Field::new("postal_code", Kind::Text),
    Field::new("city", Kind::Text).ordered().nullable(),
    Field::new("country_code", Kind::Text).ordered().nullable(),
    Field::new("phone", Kind::Text),
    Field::new("fax", Kind::Text),
    Field::new("email", Kind::Text),
    Field::new("primary", Kind::Bool)
        .column("is_primary")
        .ordered(),
    Field::new("position", Kind::Integer).ordered(),
];

pub struct Contacts;

impl Resource for Contacts {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "contact",
        plural: "contacts",
        kind: "contact",
        table: "contacts",
        path: "/api/v1/contacts",
        key: "slug",
        key_description: "The contact's slug, e.g. `seesac-belgrade`",
        key_example: "seesac-belgrade",
        tag: Tag {
            name: "contacts",
            description: "Where to reach SEESAC",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("primary", Dir::Desc), ("position", Dir::Asc)],
            unique_column: "slug",
            searchable: true,
            includes: &[],
            embeds: &[],
        },
        write_lock: Some("contacts"),
        constraints: &[("contacts_one_primary", &["primary"])],
        transfer: Some(Section::ordered_by("slug")),
        ..CONTENT
    };

    table_resource!(
        table: contacts, key: slug as Slug, row: Contact, body: ContactBody, input: ContactRecord
    );

    fn validate(body: ContactBody, to: Target<'_, Contact>) -> AppResult<ContactRecord> {
        let mut check = Check::default();
        let slug = check.key("slug", body.slug, to.key, Slug::parse);
        let publication = Publication::of(&mut check, body.status, body.published_at, to.existing);
        let record = ContactRecord {
            slug: slug.map(Slug::into_inner).unwrap_or_default(),
            name: check.text("name", body.name, Name::MAX),
            organisation: check.optional_text("organisation", body.organisation, 200),
            street_address: check.optional_text("street_address", body.street_address, 200),
            postal_code: check.optional_text("postal_code", body.postal_code, 20),
            city: check.optional_text("city", body.city, 100),
            country_code: check.parsed_text("country_code", body.country_code, CountryCode::parse),
            phone: check.parsed_text("phone", body.phone, Phone::parse),
            fax: check.parsed_text("fax", body.fax, Phone::parse),
            email: check.parsed_text("email", body.email, Email::parse),
            primary: body.primary.unwrap_or(false),
            position: check.position(body.position),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    /// Demoting the old primary contact and saving the new one is one transaction,
    /// serialised with every other contact write (`WRITE_LOCK`).
    fn save(conn: &mut PgConnection, mut save: Save<'_, Self>) -> AppResult<Contact> {
        let primary = save.input.primary;
        if save.existing.is_some_and(|contact| contact.primary) && !primary {
            return Err(FieldError::coded(
                codes::LAST_PRIMARY,
                "/primary",
                "the primary contact stays primary until another contact is made primary",
            )
            .into());
        }
        let own_id = save.existing.map(|contact| contact.id).unwrap_or_default();
        let others = contacts::table
            .filter(contacts::is_primary)
            .filter(contacts::id.ne(own_id));
        if primary {
            diesel::update(others)
                .set(contacts::is_primary.eq(false))
                .execute(conn)?;
        } else if others.count().get_result::<i64>(conn)? == 0 {
            // Someone must be primary: with no other, this one is.
            save.input.primary = true;
        }
        Ok(store_row!(conn, table: contacts, row: Contact, save)?)
    }

    fn delete(conn: &mut PgConnection, row: &Contact, _: bool, _: &WriteContext) -> AppResult<()> {
        if row.primary {
            let others: i64 = contacts::table
                .filter(contacts::id.ne(row.id))
                .count()
                .get_result(conn)?;
            if others > 0 {
                return Err(AppError::conflict(format!(
                    "{} is the primary contact; make another contact primary before deleting it",
                    row.slug
                )));
            }
        }
        delete_row::<Self>(conn, row)
    }
}

/// The primary contact, if there is one.
fn primary(conn: &mut PgConnection) -> AppResult<Option<Contact>> {
    Ok(contacts::table
        .filter(contacts::is_primary)
        .select(Contact::as_select())
        .first(conn)
        .optional()?)
}

/// `GET /api/v1/contact`: the contact the site shows as its address.
pub async fn get_primary_contact(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    query::Params::none(req.query_string())?;
    let access = access_of(&caller);
    // Shown as every item is (`present`): what a reader may see, with its links.
    let item = db
        .run(move |conn| {
            match primary(conn)?
                .filter(|contact| access.may_see(contact.status, contact.published_at))
            {
                Some(contact) => {
                    Ok(present::<Contacts>(conn, vec![contact], &View::default(), access)?.pop())
                }
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(|| AppError::NotFound("there is no primary contact".to_owned()))?;
    Ok(http::read(&req, &caller, &item, &[]))
}

pub fn get_primary_contact_doc() -> Doc {
    Doc::new(
        "get_primary_contact",
        "contacts",
        "Read the primary contact",
    )
    .describe("The contact the site shows as its address: the one whose `primary` is true.")
    .security(Security::Public)
    .item_schema::<Contact>()
    .answer(Answer::json(200, "The primary contact", "Contact").header("ETag", "Its tag"))
    .answer(Answer::not_modified())
    .problems::<(BadParameter, BadToken, NotFound, Unavailable)>()
}

//! What a Council Decision is in the database and on the wire: its row, the item
//! the API shows, the body a write sends, the record saved, and its list fields.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::content::{content_body, content_record};
use crate::engine::stored_row;
use crate::platform::db::schema::council_decisions;
use crate::platform::query::{Field, Kind};
use crate::platform::validate::{Celex, Id, Slug};

stored_row! {
    /// An EU Council Decision.
    #[diesel(table_name = council_decisions)]
    pub struct Decision {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// The CELEX number, the key: `3`, the year, `D`, four digits.
        #[schema(example = "32019D2111")]
        pub celex: String,
        /// The reference as printed.
        #[schema(example = "2019/2111")]
        pub reference: String,
        /// The full title.
        pub title: String,
        /// The day it was adopted, if known.
        pub adopted_on: Option<NaiveDate>,
        /// What it is about, in a few sentences.
        pub summary: Option<String>,
        /// The CELEX number of the decision it builds on, or null (also to a reader who
        /// may not see that decision: a draft).
        #[schema(example = "32016D2356")]
        pub supersedes: Option<String>,
        /// The slug of the funder (default `european-union`); null to a reader who
        /// may not see the funder (a draft).
        #[schema(nullable)]
        pub funder: String,
        /// Its text as published: the id of an asset (a PDF), or null (also to a
        /// reader who may not see the asset: a draft). `include=document` embeds it
        /// as `document_asset`.
        pub document: Option<Uuid>,
    }
    key: celex, published
}

/// A Council Decision as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "5eed0000-0000-4000-8000-000000000207", "celex": "32019D2111",
    "reference": "2019/2111",
    "title": "EU Support of SEESAC Disarmament and Arms Control Activities in South East Europe",
    "adopted_on": null, "summary": null, "supersedes": "32016D2356", "funder": "european-union",
    "status": "published", "published_at": "2024-05-08T09:00:00Z", "version": 1,
    "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z",
    "eur_lex_url": "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32019D2111",
    "superseded_by": [], "document": null}))]
pub struct DecisionItem {
    /// The decision's own fields.
    #[serde(flatten)]
    pub decision: Decision,
    /// Derived from the CELEX number: the decision on EUR-Lex.
    pub eur_lex_url: String,
    /// Derived: the CELEX numbers of the decisions that build on this one.
    pub superseded_by: Vec<String>,
    /// With `include=line`: every decision of its line, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<Vec<Decision>>,
    /// With `include=document`: the document's asset, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::content::assets::AssetItem>)]
    pub document_asset: Option<Option<serde_json::Value>>,
}

content_body! {
    /// The body of POST, PUT and PATCH. Read-only fields (`id`, `version`, timestamps,
    /// `eur_lex_url`, `superseded_by`, `line`) may be present and are ignored.
    #[schema(example = json!({"celex": "32019D2111", "reference": "2019/2111",
        "title": "EU Support of SEESAC Disarmament and Arms Control Activities in South East Europe",
        "supersedes": "32016D2356", "status": "published"}))]
    pub struct DecisionBody {
        /// The CELEX number, the URL key. On PUT the URL carries it; a PATCH that changes
        /// it moves the decision.
        #[schema(value_type = Option<Celex>)]
        pub celex: Option<String>,
        /// The reference as printed, which must agree with the CELEX number (its year and
        /// number): `2019/2111`, `2004/791/CFSP`, `(CFSP) 2019/2111`.
        #[schema(
            pattern = r"^(\(CFSP\) )?[0-9]{4}/[0-9]{1,4}(/CFSP)?$",
            examples("2019/2111")
        )]
        pub reference: Option<String>,
        /// The title, at most 500 characters.
        #[schema(
            min_length = 1,
            max_length = 500,
            pattern = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$"
        )]
        pub title: Option<String>,
        /// The day the Council adopted it.
        #[schema(value_type = Option<NaiveDate>)]
        pub adopted_on: Option<String>,
        /// At most 5000 characters.
        #[schema(max_length = 5000)]
        pub summary: Option<String>,
        /// The CELEX number of an existing decision it builds on; never this one or a later
        /// one of its line.
        #[schema(value_type = Option<Celex>)]
        pub supersedes: Option<String>,
        /// The slug of an existing funder; default `european-union`.
        #[schema(value_type = Option<Slug>)]
        pub funder: Option<String>,
        /// Its text as published: the id of an existing asset.
        #[schema(value_type = Option<Id>)]
        pub document: Option<String>,
    }
}

content_record! {
    #[diesel(table_name = council_decisions)]
    pub struct DecisionRecord {
        pub(super) celex: String,
        pub(super) reference: String,
        pub(super) title: String,
        pub(super) adopted_on: Option<NaiveDate>,
        pub(super) summary: Option<String>,
        pub(super) supersedes: Option<String>,
        pub(super) funder: String,
        pub(super) document: Option<Uuid>,
    }
}

pub(super) const FIELDS: &[Field] = &[
    Field::new("celex", Kind::Text).ordered(),
    Field::new("reference", Kind::Text).ordered(),
    Field::new("title", Kind::Text).ordered().translatable(500),
    Field::new("adopted_on", Kind::Date).ordered().nullable(),
    Field::new("summary", Kind::Text).translatable(5000),
    Field::new("supersedes", Kind::Text)
        .refers_to("council_decisions", "celex")
        .ordered()
        .nullable(),
    Field::new("funder", Kind::Text)
        .refers_to("funders", "slug")
        .ordered(),
    Field::new("document", Kind::Uuid)
        .refers_to("assets", "id")
        .nullable(),
    Field::derived("eur_lex_url"),
    Field::derived("superseded_by"),
];

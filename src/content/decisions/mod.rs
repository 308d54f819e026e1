//! EU Council Decisions: keyed by CELEX number, each maybe building on
//! (`supersedes`) an earlier one, so that a reader can walk the line both ways.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use serde_json::Value;

use super::assets::{self, Assets};
use super::{Access, CONTENT, Publication};
use crate::engine::{
    Descriptor, Embedded, Resource, Search, Section, Tag, Target, grouped, table_resource, to_json,
};
use crate::platform::db::schema::council_decisions;
use crate::platform::error::AppResult;
use crate::platform::query::{CONTENT_FIELDS, Dir, Embed, ListSpec, View};
use crate::platform::validate::{Celex, Check, Id, Slug, parse_date};

mod model;

use model::FIELDS;
pub use model::{Decision, DecisionBody, DecisionItem, DecisionRecord};

/// The funder a decision belongs to when the body names none.
pub const DEFAULT_FUNDER: &str = "european-union";

/// The year and number of a reference as printed: `2019/2111`, `2004/791/CFSP`,
/// `(CFSP) 2019/2111`.
pub fn parse_reference(raw: &str) -> Result<(u32, u32), String> {
    let error = || {
        "must be the reference as printed, e.g. 2019/2111, 2004/791/CFSP or (CFSP) 2019/2111"
            .to_owned()
    };
    let (bare, prefixed) = raw
        .strip_prefix("(CFSP) ")
        .map_or((raw, false), |rest| (rest, true));
    let (bare, suffixed) = bare
        .strip_suffix("/CFSP")
        .map_or((bare, false), |rest| (rest, true));
    let (year, number) = bare.split_once('/').ok_or_else(error)?;
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if (prefixed && suffixed)
        || year.len() != 4
        || !digits(year)
        || number.len() > 4
        || !digits(number)
    {
        return Err(error());
    }
    Ok((
        year.parse().map_err(|_| error())?,
        number.parse().map_err(|_| error())?,
    ))
}

pub struct Decisions;

impl Resource for Decisions {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "Council Decision",
        plural: "Council Decisions",
        kind: "council_decision",
        table: "council_decisions",
        path: "/api/v1/council-decisions",
        key: "celex",
        key_description: "The decision's CELEX number, e.g. `32019D2111`",
        key_example: "32019D2111",
        tag: Tag {
            name: "council-decisions",
            description: "The EU Council Decisions SEESAC implements",
        },
        spec: &ListSpec {
            fields: FIELDS,
            common: CONTENT_FIELDS,
            default_sort: &[("celex", Dir::Desc)],
            unique_column: "celex",
            searchable: true,
            includes: &["line", "document"],
            embeds: &[
                Embed::same("line"),
                Embed::of("document", || Assets::DESCRIPTOR.spec).at("document_asset"),
            ],
        },
        read_only: &["eur_lex_url", "superseded_by", "line", "document_asset"],
        write_lock: Some("council_decisions"),
        search: Some(Search {
            title: "'Council Decision ' || reference",
            text: "reference || ': ' || title || ' ' || coalesce(summary, '')",
            fields: &["reference", "title", "summary"],
        }),
        transfer: Some(Section {
            tree: Some("supersedes"),
            ..Section::ordered_by("celex")
        }),
        ..CONTENT
    };

    table_resource!(
        table: council_decisions, key: celex as Celex, row: Decision, item: DecisionItem,
        body: DecisionBody, record: DecisionRecord, tree: supersedes
    );

    fn validate(body: DecisionBody, to: Target<'_, Decision>) -> AppResult<DecisionRecord> {
        let mut check = Check::default();
        let celex = check.key("celex", body.celex, to.key, Celex::parse);
        let reference = check.required(
            "reference",
            body.reference.map(|r| r.trim().to_owned()),
            |raw| parse_reference(raw).map(|numbers| (raw.to_owned(), numbers)),
        );
        if let (Some(celex), Some((printed, (year, number)))) = (&celex, &reference)
            && (celex.year(), celex.number()) != (*year, *number)
        {
            check.fail(
                "reference",
                format!(
                    "{printed} does not agree with the CELEX number {celex} (year {}, number {})",
                    celex.year(),
                    celex.number()
                ),
            );
        }
        let publication = Publication::of(&mut check, body.status, body.published_at, to.existing);
        let record = DecisionRecord {
            celex: celex.map(Celex::into_inner).unwrap_or_default(),
            reference: reference.map(|(printed, _)| printed).unwrap_or_default(),
            title: check.text("title", body.title, 500),
            adopted_on: check.parsed("adopted_on", body.adopted_on, parse_date),
            summary: check.optional_text("summary", body.summary, 5000),
            supersedes: check.parsed_text("supersedes", body.supersedes, Celex::parse),
            funder: check
                .parsed("funder", body.funder, Slug::parse)
                .map_or_else(|| DEFAULT_FUNDER.to_owned(), Slug::into_inner),
            document: check.parsed("document", body.document, Id::parse),
            status: publication.status,
            published_at: publication.published_at,
        };
        check.finish(record)
    }

    fn represent(
        conn: &mut PgConnection,
        rows: Vec<Decision>,
        view: &View,
        access: Access,
    ) -> AppResult<Vec<Value>> {
        let celexes: Vec<String> = rows.iter().map(|d| d.celex.clone()).collect();
        let later = council_decisions::table
            .filter(council_decisions::supersedes.eq_any(celexes.clone()))
            .order(council_decisions::celex)
            .select((council_decisions::supersedes, council_decisions::celex))
            .into_boxed();
        let later = access.filter(later);
        let later: Vec<(Option<String>, String)> = later.load(conn)?;
        let mut superseded_by = grouped(
            later
                .into_iter()
                .map(|(earlier, celex)| (earlier.unwrap_or_default(), celex)),
        );
        let mut documents =
            assets::Embedded::load(conn, view, "document", &rows, |d| d.document, access)?;
        let mut lines = Embedded::load(view, "line", || lines(conn, &celexes, access))?;
        Ok(rows
            .into_iter()
            .map(|decision| {
                let line = lines.take(&decision.celex);
                let document_asset = documents.take(decision.document);
                to_json(&DecisionItem {
                    document_asset,
                    eur_lex_url: Celex::eur_lex_url(&decision.celex),
                    superseded_by: superseded_by.remove(&decision.celex).unwrap_or_default(),
                    line,
                    decision,
                })
            })
            .collect())
    }
}

#[derive(QueryableByName)]
struct LineStep {
    #[diesel(sql_type = Text)]
    start: String,
    #[diesel(sql_type = Text)]
    celex: String,
}

/// The whole line of each decision, oldest first, each member with the CELEX number
/// of the decision whose line it is: every decision it builds on, itself, and every
/// decision that builds on it. Two queries however many decisions. `depth` counts up
/// going back (the decisions it builds on) and down going forward.
fn lines(
    conn: &mut PgConnection,
    celexes: &[String],
    access: Access,
) -> AppResult<Vec<(String, Decision)>> {
    // A line is walked only through decisions the caller sees: it stops at a draft,
    // so that the draft, and what lies beyond it, tells nothing.
    let visible = if access.public_only() {
        format!("AND {}", crate::platform::visibility::visible_as("d"))
    } else {
        String::new()
    };
    let steps: Vec<LineStep> = diesel::sql_query(format!(
        "WITH RECURSIVE back(start, celex, supersedes, depth) AS ( \
             SELECT celex, celex, supersedes, 0 FROM council_decisions WHERE celex = ANY($1) \
             UNION ALL SELECT back.start, d.celex, d.supersedes, back.depth + 1 \
             FROM council_decisions d JOIN back ON d.celex = back.supersedes \
             WHERE back.depth < 1000 {visible}), \
         forward(start, celex, depth) AS ( \
             SELECT celex, celex, 0 FROM council_decisions WHERE celex = ANY($1) \
             UNION ALL SELECT forward.start, d.celex, forward.depth - 1 \
             FROM council_decisions d JOIN forward ON d.supersedes = forward.celex \
             WHERE forward.depth > -1000 {visible}) \
         SELECT start, celex, depth FROM back UNION SELECT start, celex, depth FROM forward \
         ORDER BY start, depth DESC, celex",
    ))
    .bind::<Array<Text>, _>(celexes)
    .load(conn)?;
    let members: Vec<String> = steps.iter().map(|step| step.celex.clone()).collect();
    let query = council_decisions::table
        .filter(council_decisions::celex.eq_any(members))
        .select(Decision::as_select())
        .into_boxed();
    let query = access.filter(query);
    let decisions: HashMap<String, Decision> = query
        .load(conn)?
        .into_iter()
        .map(|d: Decision| (d.celex.clone(), d))
        .collect();
    Ok(steps
        .into_iter()
        .filter_map(|step| {
            let decision = decisions.get(&step.celex)?;
            Some((step.start, decision.clone()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_as_printed() {
        assert_eq!(parse_reference("2019/2111"), Ok((2019, 2111)));
        assert_eq!(parse_reference("2004/791/CFSP"), Ok((2004, 791)));
        assert_eq!(parse_reference("(CFSP) 2019/2111"), Ok((2019, 2111)));
        for bad in [
            "2019-2111",
            "19/2111",
            "2019/",
            "/2111",
            "2019/21111",
            "2019/2111/XYZ",
            "(CFSP) 2019/2111/CFSP",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }
}

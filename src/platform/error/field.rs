//! One mistake in a request, named by a pointer, told in words and coded for
//! programs.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field or parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) into the request body, e.g. `/slug`; for a query
    /// parameter, the parameter's name, e.g. `sort`. In a batch, under the item:
    /// `/items/3/value`, or in CSV `/rows/4/value`, 4 being the row as a
    /// spreadsheet numbers it (the header is row 1).
    #[schema(example = "/slug")]
    pub pointer: String,
    /// What is wrong with it, in words a person can act on.
    #[schema(example = "must match ^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub detail: String,
    /// What kind of mistake it is, stable for programs: `invalid`, `required`,
    /// `unknown_field`, `unknown_reference`, `unknown_metric`, `taken`, `duplicate`,
    /// `out_of_range`, `not_your_area`, `not_your_metric`, `not_yours`, `loop`,
    /// `last_primary`.
    #[schema(example = "invalid")]
    pub code: &'static str,
}

/// The codes of field errors (`FieldError::code`).
pub mod codes {
    /// A value of the wrong type or form.
    pub const INVALID: &str = "invalid";
    /// A value that must be there is not.
    pub const REQUIRED: &str = "required";
    /// A field the body does not have.
    pub const UNKNOWN_FIELD: &str = "unknown_field";
    /// A reference to an item that does not exist (or that the caller may not see).
    pub const UNKNOWN_REFERENCE: &str = "unknown_reference";
    /// Another item has this key or value already.
    pub const TAKEN: &str = "taken";
    /// The same item twice in one batch.
    pub const DUPLICATE: &str = "duplicate";
    /// A value outside what the item it belongs to allows (a percentage over 100).
    pub const OUT_OF_RANGE: &str = "out_of_range";
    /// A batch item naming a metric that does not exist (or that the caller may
    /// not see).
    pub const UNKNOWN_METRIC: &str = "unknown_metric";
    /// A partner's token writing for an area it does not report for.
    pub const NOT_YOUR_AREA: &str = "not_your_area";
    /// A partner's token writing to a metric it does not report on.
    pub const NOT_YOUR_METRIC: &str = "not_your_metric";
    /// A partner's token changing what another wrote.
    pub const NOT_YOURS: &str = "not_yours";
    /// A link from an item to itself or to one after it in its own line (a page's
    /// parent, a decision's `supersedes`).
    pub const LOOP: &str = "loop";
    /// Unsetting what one item must always have: the primary contact stays
    /// primary until another is made primary.
    pub const LAST_PRIMARY: &str = "last_primary";
}

impl FieldError {
    /// An `invalid` value.
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::coded(codes::INVALID, pointer, detail)
    }

    pub fn coded(
        code: &'static str,
        pointer: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
            code,
        }
    }

    /// The same error under another pointer (`/items/3` before its own).
    pub fn under(self, prefix: &str) -> Self {
        Self {
            pointer: format!("{prefix}{}", self.pointer),
            ..self
        }
    }
}

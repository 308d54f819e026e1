//! The one parameter parser: every request's query string goes through `Params`,
//! whatever it takes (a list's filters, the feed's cursor, the audit log's
//! filters, a batch's `dry_run`, a delete's `cascade`). A handler takes the
//! parameters it knows, each parsed and checked into a typed value, and `finish`
//! refuses whatever is left with the same 400 everywhere, naming what the request
//! does take.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{DEFAULT_PER_PAGE, MAX_LIST_VALUES, MAX_PAGE, MAX_PER_PAGE};
use crate::platform::error::{AppError, AppResult};
use crate::platform::validate::{parse_date, parse_timestamp, trim_blank};

/// A query string, split and not yet understood.
#[derive(Debug)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// What the request takes, in the order the handler asked, for the message
    /// about a parameter it does not take.
    takes: Vec<String>,
}

/// `page` and `per_page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// The 400 for a parameter a request does not take, in one wording everywhere.
pub fn unknown_parameter(name: &str, takes: &[String]) -> AppError {
    let detail = if takes.is_empty() {
        format!("unknown parameter {name}: this request takes no parameters")
    } else {
        format!(
            "unknown parameter {name}; this request takes {}",
            takes.join(", ")
        )
    };
    AppError::bad_request(name, detail)
}

impl Params {
    /// Splits a query string, refusing a parameter given twice, except a list:
    /// `field[in]=a&field[in]=b` (a deepObject array, as OpenAPI tools send it) is
    /// `field[in]=a,b`.
    pub fn parse(query_string: &str) -> AppResult<Self> {
        let mut seen = HashSet::new();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
            if key.is_empty() && value.is_empty() {
                continue;
            }
            if value.contains('\0') || key.contains('\0') {
                return Err(AppError::bad_request(
                    key.to_string(),
                    "parameters may not contain NUL characters",
                ));
            }
            if !seen.insert(key.to_string()) {
                match pairs.iter_mut().find(|(seen, _)| *seen == key) {
                    Some((_, values)) if key.ends_with("[in]") => {
                        values.push(',');
                        values.push_str(&value);
                        continue;
                    }
                    _ => {
                        return Err(AppError::bad_request(
                            key.to_string(),
                            format!("the parameter {key} is given more than once"),
                        ));
                    }
                }
            }
            pairs.push((key.into_owned(), value.into_owned()));
        }
        Ok(Self {
            pairs,
            takes: Vec::new(),
        })
    }

    /// Refuses every parameter: for requests that take none.
    pub fn none(query_string: &str) -> AppResult<()> {
        Self::parse(query_string)?.finish()
    }

    /// Says the request takes `name` (for the message about what it does not).
    pub fn takes(&mut self, name: impl Into<String>) {
        let name = name.into();
        if !self.takes.contains(&name) {
            self.takes.push(name);
        }
    }

    /// Whether `name` is given (it is still to be taken).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }

    /// The raw value of `name`, if given.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.takes(name);
        let at = self.pairs.iter().position(|(key, _)| key == name)?;
        Some(self.pairs.remove(at).1)
    }

    /// The parameters `{name}[...]`, each with what is in its brackets, taken.
    pub fn take_bracketed(&mut self, name: &str) -> Vec<(String, String)> {
        self.takes(format!("{name}[...]"));
        let prefix = format!("{name}[");
        let mut taken = Vec::new();
        self.pairs.retain(|(key, value)| {
            match key
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(']'))
            {
                Some(inner) => {
                    taken.push((inner.to_owned(), value.clone()));
                    false
                }
                None => true,
            }
        });
        taken
    }

    /// The value of `name` parsed by `parse`, whose error completes "{name} ...".
    pub fn parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> AppResult<Option<T>> {
        match self.take(name) {
            None => Ok(None),
            Some(raw) => parse(&raw)
                .map(Some)
                .map_err(|detail| AppError::bad_request(name, format!("{name} {detail}"))),
        }
    }

    /// `name=true` or `name=false`; false when absent.
    pub fn flag(&mut self, name: &str) -> AppResult<bool> {
        Ok(self
            .parsed(name, |raw| match raw {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err("must be true or false".to_owned()),
            })?
            .unwrap_or(false))
    }

    /// A whole number from `range`, or `default` when absent.
    pub fn number(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
        default: i64,
    ) -> AppResult<i64> {
        Ok(self
            .parsed(name, |raw| whole_number(raw, &range))?
            .unwrap_or(default))
    }

    /// `page` and `per_page`, `per_page` up to `max` (default `default`).
    pub fn paging_up_to(&mut self, max: i64, default: i64) -> AppResult<Paging> {
        Ok(Paging {
            page: self.number("page", 1..=MAX_PAGE, 1)?,
            per_page: self.number("per_page", 1..=max, default)?,
        })
    }

    /// `page` and `per_page` as lists take them.
    pub fn paging(&mut self) -> AppResult<Paging> {
        self.paging_up_to(MAX_PER_PAGE, DEFAULT_PER_PAGE)
    }

    /// One of `allowed`.
    pub fn choice(
        &mut self,
        name: &str,
        allowed: &[&'static str],
    ) -> AppResult<Option<&'static str>> {
        self.parsed(name, |raw| one_of(raw, allowed))
    }

    /// A comma-separated list of values from `allowed`, each counted once.
    pub fn choices(
        &mut self,
        name: &str,
        allowed: &[&'static str],
    ) -> AppResult<Option<Vec<&'static str>>> {
        let Some(raw) = self.take(name) else {
            return Ok(None);
        };
        let mut chosen = Vec::new();
        for item in list_items(name, &raw)? {
            let value = one_of(item, allowed)
                .map_err(|detail| AppError::bad_request(name, format!("{name} {detail}")))?;
            if !chosen.contains(&value) {
                chosen.push(value);
            }
        }
        Ok(Some(chosen))
    }

    /// An instant: RFC 3339, or a date meaning its midnight UTC.
    pub fn instant(&mut self, name: &str) -> AppResult<Option<DateTime<Utc>>> {
        self.parsed(name, parse_instant)
    }

    /// Some text, not blank.
    pub fn text(&mut self, name: &str) -> AppResult<Option<String>> {
        self.parsed(name, |raw| {
            let text = trim_blank(raw);
            if text.is_empty() {
                Err("must not be empty".to_owned())
            } else {
                Ok(text.to_owned())
            }
        })
    }

    /// The parameters nobody took yet, for a handler that reads names it cannot
    /// list in advance (a list's `field[op]` filters); it answers for them.
    pub fn remaining(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.pairs)
    }

    /// What the request takes, so far.
    pub fn taken(&self) -> &[String] {
        &self.takes
    }

    /// Refuses the first parameter nobody took.
    pub fn finish(self) -> AppResult<()> {
        match self.pairs.first() {
            Some((name, _)) => Err(unknown_parameter(name, &self.takes)),
            None => Ok(()),
        }
    }
}

fn whole_number(raw: &str, range: &std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            )
        })
}

fn one_of(raw: &str, allowed: &[&'static str]) -> Result<&'static str, String> {
    allowed
        .iter()
        .find(|value| **value == raw)
        .copied()
        .ok_or_else(|| format!("must be one of {}", allowed.join(", ")))
}

/// The items of a comma-separated list: none empty, at most `MAX_LIST_VALUES`.
pub fn list_items<'v>(key: &str, raw: &'v str) -> AppResult<Vec<&'v str>> {
    let items: Vec<&str> = raw.split(',').map(trim_blank).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err(AppError::bad_request(
            key,
            format!("{key} has an empty item; separate items with single commas"),
        ));
    }
    if items.len() > MAX_LIST_VALUES {
        return Err(AppError::bad_request(
            key,
            format!("{key} may list at most {MAX_LIST_VALUES} items"),
        ));
    }
    Ok(items)
}

/// An RFC 3339 instant, or a date meaning its midnight UTC.
pub fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    parse_timestamp(raw).or_else(|_| {
        parse_date(raw)
            .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
            .map_err(|_| {
                "must be an RFC 3339 date and time such as 2024-05-08T09:00:00Z, or a date"
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(error: AppError) -> String {
        match error {
            AppError::BadRequest { detail, .. } => detail,
            other => format!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn what_a_request_does_not_take_is_named_with_what_it_does() {
        let mut params = Params::parse("dry_run=true&colour=red").unwrap_or_else(|e| panic!("{e}"));
        assert!(params.flag("dry_run").unwrap_or_default());
        let refused = params.finish().err().map(detail);
        assert_eq!(
            refused.as_deref(),
            Some("unknown parameter colour; this request takes dry_run")
        );
        let none = Params::none("x=1").err().map(detail);
        assert_eq!(
            none.as_deref(),
            Some("unknown parameter x: this request takes no parameters")
        );
    }

    #[test]
    fn values_are_checked_into_their_types() {
        let mut params = Params::parse("per_page=0&type=page,bogus&cascade=yes")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(params.paging().is_err());
        assert!(params.choices("type", &["page", "widget"]).is_err());
        assert!(params.flag("cascade").is_err());
        let mut twice = Params::parse("type=page,page,widget").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            twice.choices("type", &["page", "widget"]).ok().flatten(),
            Some(vec!["page", "widget"])
        );
        assert!(Params::parse("a=1&a=2").is_err());
        assert!(Params::parse("s[in]=a&s[in]=b").is_ok());
    }
}

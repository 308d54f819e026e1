//! `Doc`: how one operation is described in the OpenAPI document. Every route of
//! the route table comes with one; the table supplies its method and path, and the
//! names of its path parameters (from the path template), so that neither is
//! written twice.

use utoipa::ToSchema;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder};

use super::problems::{self, Problems};
use super::security::{Security, requirements};

/// Named component schemas.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// One answer of an operation.
pub struct Answer {
    status: u16,
    response: Response,
}

impl Answer {
    /// An answer whose body is JSON of the schema `schema_name`.
    pub fn json(status: u16, description: &str, schema_name: &str) -> Self {
        Self::with_content(
            status,
            description,
            "application/json",
            Ref::from_schema_name(schema_name).into(),
        )
    }

    /// An answer with a body of `media_type` and `schema`.
    pub fn with_content(
        status: u16,
        description: &str,
        media_type: &str,
        schema: RefOr<Schema>,
    ) -> Self {
        Self {
            status,
            response: ResponseBuilder::new()
                .description(description)
                .content(
                    media_type,
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .build(),
        }
    }

    /// An answer without a body (204, 304).
    pub fn empty(status: u16, description: &str) -> Self {
        Self {
            status,
            response: ResponseBuilder::new().description(description).build(),
        }
    }

    /// 304 to a conditional read whose `If-None-Match` names the current ETag.
    pub fn not_modified() -> Self {
        Self::empty(304, "Not modified: If-None-Match names the current ETag")
    }

    /// The same answer may also come as `media_type`, of `schema`.
    pub fn also(mut self, media_type: &str, schema: RefOr<Schema>) -> Self {
        self.response.content.insert(
            media_type.to_owned(),
            ContentBuilder::new().schema(Some(schema)).build(),
        );
        self
    }

    /// A response header it carries.
    pub fn header(mut self, name: &str, description: &str) -> Self {
        self.response.headers.insert(
            name.to_owned(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
                .build(),
        );
        self
    }
}

/// The description of one operation.
pub struct Doc {
    id: String,
    tag: &'static str,
    summary: String,
    description: Option<String>,
    security: Security,
    path_params: Vec<(String, Option<&'static str>, RefOr<Schema>)>,
    params: Vec<Parameter>,
    body: Vec<(&'static str, String)>,
    answers: Vec<Answer>,
    schemas: Schemas,
}

impl Doc {
    /// `id` becomes the operationId clients are generated with.
    pub fn new(id: impl Into<String>, tag: &'static str, summary: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            tag,
            summary: summary.into(),
            description: None,
            security: Security::None,
            path_params: Vec::new(),
            params: Vec::new(),
            body: Vec::new(),
            answers: Vec::new(),
            schemas: Vec::new(),
        }
    }

    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// The next path parameter of the template, in order.
    pub fn path_param(self, description: impl Into<String>, example: Option<&'static str>) -> Self {
        let text = ObjectBuilder::new().schema_type(Type::String).into();
        self.typed_path_param(description, example, text)
    }

    /// The next path parameter of the template, of this schema.
    pub fn typed_path_param(
        mut self,
        description: impl Into<String>,
        example: Option<&'static str>,
        schema: RefOr<Schema>,
    ) -> Self {
        self.path_params.push((description.into(), example, schema));
        self
    }

    pub fn params(mut self, params: impl IntoIterator<Item = Parameter>) -> Self {
        self.params.extend(params);
        self
    }

    /// A required request body of the schema `schema_name`, in these media types.
    pub fn body(mut self, schema_name: impl Into<String>, media_types: &[&'static str]) -> Self {
        let name = schema_name.into();
        for media_type in media_types {
            self.body.push((media_type, name.clone()));
        }
        self
    }

    /// A required request body may also come in `media_type`, of the schema
    /// `schema_name`.
    pub fn body_in(mut self, schema_name: impl Into<String>, media_type: &'static str) -> Self {
        self.body.push((media_type, schema_name.into()));
        self
    }

    /// A JSON request body of the type `T`, which must have the `required` fields
    /// (not null).
    pub fn json_body<T: ToSchema>(mut self, required: &[&str]) -> Self {
        let required: Vec<String> = required.iter().map(|name| (*name).to_owned()).collect();
        let schema =
            super::schemas::body(T::schema(), &required, "", super::schemas::BodyUse::Create);
        T::schemas(&mut self.schemas);
        self.schemas.push((T::name().into_owned(), schema));
        self.body(T::name().into_owned(), &["application/json"])
    }

    pub fn answer(mut self, answer: Answer) -> Self {
        self.answers.push(answer);
        self
    }

    /// A POST: it takes an `Idempotency-Key` (see `crate::platform::idempotency`), whose
    /// answers join the operation's 409 and 422, and replays are marked.
    pub fn idempotent(mut self) -> Self {
        self.params.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes a retry safe: a retry with the same key and the same request within \
                     24 hours replays the first answer (marked `Idempotent-Replayed: true`) and \
                     writes nothing. A Structured Field string (`\"…\"`) or the bare text, 1 \
                     to 255 visible ASCII characters; a UUID is a good key. Keys are the \
                     caller's own; a request without a token has none.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$")),
                ))
                .example(Some(serde_json::json!(
                    "8e03978e-40d5-43e8-bc93-6894a57f9324"
                )))
                .build(),
        );
        let extra = [
            (
                409,
                "The Idempotency-Key's first request is still running, or its answer \
                 carried a secret, which is not kept",
            ),
            (
                422,
                "The Idempotency-Key was used for a different request in the last 24 hours",
            ),
        ];
        for (status, when) in extra {
            match self.answers.iter_mut().find(|a| a.status == status) {
                Some(answer) => {
                    answer.response.description =
                        format!("{}. Or: {when}", answer.response.description);
                }
                None => self.answers.push(Answer {
                    status,
                    response: problems::response(when),
                }),
            }
        }
        for answer in self
            .answers
            .iter_mut()
            .filter(|a| (200..300).contains(&a.status))
        {
            answer.response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["true"])),
                    )
                    .description(Some("`true` on an answer replayed for an Idempotency-Key"))
                    .build(),
            );
        }
        self
    }

    /// The answers every write may give, whatever its own description says: a 408
    /// if it takes a body (the body timeout), a 429 if it needs a token (the rate
    /// limit of writes per caller).
    pub fn limited(mut self) -> Self {
        let answers = |doc: &Self, status: u16| doc.answers.iter().any(|a| a.status == status);
        if !self.body.is_empty() && !answers(&self, 408) {
            self = self.problems::<problems::RequestTimeout>();
        }
        if matches!(self.security, Security::Needs(_)) && !answers(&self, 429) {
            self = self.problems::<problems::RateLimited>();
        }
        self
    }

    pub fn problems<P: Problems>(mut self) -> Self {
        for (status, when) in P::list() {
            self.answers.push(Answer {
                status,
                response: problems::response(when),
            });
        }
        self
    }

    /// Registers a derived schema (and those it refers to) as a component.
    pub fn schema<T: ToSchema>(mut self) -> Self {
        T::schemas(&mut self.schemas);
        self.schemas.push((T::name().into_owned(), T::schema()));
        self
    }

    /// Registers an item type as the API writes it, complete (see
    /// `schemas::complete_item`), with the schemas it refers to.
    pub fn item_schema<T: ToSchema>(mut self) -> Self {
        self.schemas.extend(super::schemas::complete_item::<T>());
        self
    }

    /// Registers the schemas `T` refers to, but not `T` itself.
    pub fn dependencies_of<T: ToSchema>(mut self) -> Self {
        T::schemas(&mut self.schemas);
        self
    }

    /// Registers a schema built here as a component.
    pub fn schema_named(
        mut self,
        name: impl Into<String>,
        schema: impl Into<RefOr<Schema>>,
    ) -> Self {
        self.schemas.push((name.into(), schema.into()));
        self
    }

    /// The operation, with the names of the path parameters from the template, and
    /// the schemas it needs. Errors say what is inconsistent, for the test that
    /// builds the document.
    pub fn build(self, path_names: &[&str]) -> Result<(Operation, Schemas), String> {
        if path_names.len() != self.path_params.len() {
            return Err(format!(
                "{} describes {} path parameters, its path has {}",
                self.id,
                self.path_params.len(),
                path_names.len()
            ));
        }
        let mut operation = OperationBuilder::new()
            .operation_id(Some(self.id))
            .tag(self.tag)
            .summary(Some(self.summary))
            .description(self.description);
        for (name, (description, example, schema)) in path_names.iter().zip(self.path_params) {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(description))
                    .schema(Some(schema))
                    .example(example.map(serde_json::Value::from)),
            );
        }
        let mut params = self.params;
        let declared = params.iter().any(|p| p.name == "If-None-Match");
        if self.answers.iter().any(|a| a.status == 304) && !declared {
            params.push(super::schemas::revalidation_header());
        }
        operation = operation.parameters(Some(params));
        if !self.body.is_empty() {
            let mut body = RequestBodyBuilder::new().required(Some(Required::True));
            for (media_type, schema_name) in self.body {
                body = body.content(
                    media_type,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(schema_name)))
                        .build(),
                );
            }
            operation = operation.request_body(Some(body.build()));
        }
        let mut answers = self.answers;
        answers.sort_by_key(|answer| answer.status);
        for pair in answers.windows(2) {
            if pair[0].status == pair[1].status {
                return Err(format!("an operation answers {} twice", pair[0].status));
            }
        }
        for answer in answers {
            operation = operation.response(answer.status.to_string(), answer.response);
        }
        operation = operation.securities(Some(requirements(self.security)));
        Ok((operation.build(), self.schemas))
    }
}

"""The rules of the API that no JSON Schema can express, stated for the generator.

JSON Schema describes each field of a body on its own, and knows no clock. Two
rules relate two fields of one body, and one relates a field to the time of the
request; a body that breaks one is invalid (422) although each field is fine. So that the data schemathesis calls valid is valid, its positive cases are
mapped to obey them; negative cases are left as they are. Each rule is also in the
description of the field in the document.

Rules that depend on what is stored (a reference to an item that does not exist, a
key another item has, a loop in a tree, the primary contact) are 422s too, each
error with its own `code`. So a 422 is an acceptable answer to a schema-valid
request only when every error in it is one of those codes: the check
`refused_only_for_what_is_stored` below says so, and fails a positive case refused
for anything else (a wrong type, a missing field, a format).

A batch of observations has two such rules: one item per natural key (metric,
area and period), and in CSV, rows that fit the header row. A positive batch keeps
the first item of each natural key, and a positive CSV batch becomes a valid file.

A webhook's URL must not point to a private, loopback or link-local address, which
no schema can tell from a public one; a positive subscription gets a public URL
(the contract test's service makes no deliveries).

A cursor of the changes feed is one the feed gave: a number past the log's head
is a 400, which no schema can tell from one before it (the head moves with every
write). A positive case's numeric cursor is brought under the sample content's
head.

A nested fieldset of an embedding that `include` asks for (`fields[children]`,
`fields[blocks.metrics]`) needs that `include`, which no schema can say of two
parameters; a positive case with one asks for the embedding too. A metric's
`latest` is always there.

A page's blocks have rules that relate a block's fields (a `metrics` block names
its metrics by key or by category, one of the two; a block names an item once; a
Markdown block's text is not blank): a positive page obeys them.

An upload's body is a file, which the service tells by its bytes: no schema can
say which bytes make a PNG, nor that an image needs alternative text. A positive
upload sends a small PNG with a title and alternative text, and a positive edit of
an asset (an image) keeps its alternative text.

One rule relates a request to the ones before it: an `Idempotency-Key` names one
request, and the same key with another request is a 422. The generator draws keys
from a small space and would reuse them, so a positive case gets a fresh key.
"""

import json

import schemathesis

import uuid
from datetime import datetime, timedelta, timezone

OBSERVATIONS = "/api/v1/impact-metrics/{key}/observations"
DECISIONS = "/api/v1/council-decisions"
TOKENS = "/api/v1/tokens"
BATCH = "/api/v1/observations/batch"
WEBHOOKS = "/api/v1/webhooks"
CHANGES = "/api/v1/changes"
PAGES = "/api/v1/pages"
ASSETS = "/api/v1/assets"

# A PNG of one grey pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415478da63686868000003040181752e01bc0000000049454e44ae426082"
)


def _positive_mode(case):
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _positive(case):
    return _positive_mode(case) and isinstance(case.body, dict)


def _in_order(body, low, high):
    """The upper end of a range is not below its lower end: `value_max` and
    `value`, `period_end` and `period_start`. A body that sends both ends
    upside down gets them the right way round."""
    lower, upper = body.get(low), body.get(high)

    def kind(value):
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return "number"
        if isinstance(value, str):
            return "text"
        return None

    if kind(lower) is None or kind(lower) != kind(upper):
        return
    if upper < lower:
        body[low], body[high] = upper, lower


def _agreeing_reference(body, celex):
    """A Council Decision's `reference` agrees with its CELEX number (`32019D2111`
    is `2019/2111`, `(CFSP) 2019/2111` or `2019/2111/CFSP`): the reference keeps
    its form and takes the CELEX number's year and number."""
    reference = body.get("reference")
    if not isinstance(reference, str) or not isinstance(celex, str) or len(celex) != 10:
        return
    year, number = celex[1:5], int(celex[6:])
    if reference.startswith("(CFSP) "):
        body["reference"] = f"(CFSP) {year}/{number}"
    elif reference.endswith("/CFSP"):
        body["reference"] = f"{year}/{number}/CFSP"
    else:
        body["reference"] = f"{year}/{number}"


def _within_a_year(body):
    """An API token's `expires_at` is in the future and at most a year ahead. A
    generated one outside that window becomes a month from now."""
    raw = body.get("expires_at")
    if not isinstance(raw, str):
        return
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return
    now = datetime.now(timezone.utc)
    if at.tzinfo is None or not (now + timedelta(minutes=1) < at < now + timedelta(days=360)):
        body["expires_at"] = (now + timedelta(days=30)).isoformat()


def _fresh_key(case):
    """A key names one request: a positive case sends a new one."""
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            headers[name] = str(uuid.uuid4())


def _one_per_natural_key(body):
    """A batch names each observation (metric, area, period) once."""
    items = body.get("items")
    if not isinstance(items, list):
        return
    seen, kept = set(), []
    for item in items:
        if isinstance(item, dict):
            key = tuple(str(item.get(f)) for f in ("metric", "area", "period_start", "period_end"))
            if key in seen:
                continue
            seen.add(key)
        kept.append(item)
    body["items"] = kept


def _valid_csv(case):
    """A CSV batch's rows fit its header: a generated string rarely does."""
    value = abs(hash(case.body)) % 100 if isinstance(case.body, str) else 50
    case.body = (
        "metric,area,period_start,period_end,value,status\r\n"
        f"women-in-armed-forces,RS,2024-01-01,2024-12-31,{value},published\r\n"
    )


def _obey_csv(case):
    if case.operation.path == BATCH and (case.media_type or "").startswith("text/csv"):
        _valid_csv(case)


def _obey(case):
    path, method, body = case.operation.path, case.method.upper(), case.body
    if path.startswith(OBSERVATIONS) and method in ("POST", "PUT", "PATCH"):
        _in_order(body, "value", "value_max")
        _in_order(body, "period_start", "period_end")
    if path.startswith(DECISIONS) and method in ("POST", "PUT", "PATCH"):
        # On PUT the URL carries the CELEX number; on POST and PATCH the body may.
        celex = body.get("celex") or (case.path_parameters or {}).get("celex")
        if method != "PATCH" or "celex" in body:
            _agreeing_reference(body, celex)
    if path.startswith(PAGES) and method in ("POST", "PUT", "PATCH"):
        _blocks_that_hold(body)
    if path == ASSETS + "/{id}" and method == "PATCH" and isinstance(body, dict):
        # The assets the contract test makes are images, which need their text.
        if "alt" in body and not (body["alt"] or "").strip():
            body["alt"] = "What it shows"
    if path == TOKENS and method == "POST":
        _within_a_year(body)
    if path.startswith(WEBHOOKS) and method in ("POST", "PATCH") and "url" in body:
        body["url"] = "https://hooks.example.org/contract"
    if path == BATCH and method == "POST":
        _one_per_natural_key(body)
        for item in body.get("items") or []:
            if isinstance(item, dict):
                _in_order(item, "value", "value_max")
                _in_order(item, "period_start", "period_end")


def _blocks_that_hold(body):
    """A page's blocks obey the rules that relate a block's fields: a `metrics`
    block names its metrics by key or by category, one of the two; a block names
    an item once; a Markdown block's text is not blank; at most 50 blocks."""
    blocks = body.get("blocks")
    if not isinstance(blocks, list):
        return
    del blocks[50:]
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "metrics":
            keys, category = block.get("metrics"), block.get("category")
            if keys is not None and category is not None:
                block["category"] = None
            elif keys is None and category is None:
                block["category"] = "awareness"
        if block.get("type") == "markdown" and not str(block.get("text") or "").strip():
            block["text"] = "Text"
        for field in ("metrics", "funders", "decisions"):
            if isinstance(block.get(field), list):
                unique = []
                for key in block[field]:
                    if key not in unique:
                        unique.append(key)
                block[field] = unique


def _known_cursor(case):
    """A numeric `since` under the head of the sample content's change log."""
    query = case.query or {}
    since = query.get("since")
    if case.operation.path == CHANGES and isinstance(since, str) and since.isdigit():
        query["since"] = str(int(since) % 50)


ALWAYS_EMBEDDED = {"latest"}


def _included_embeddings(case):
    """`include` names what each `fields[name]` trims."""
    query = case.query
    if not query:
        return
    names = [key[len("fields["):-1] for key in query if key.startswith("fields[") and key.endswith("]")]
    needed = [name for name in names if name not in ALWAYS_EMBEDDED]
    if not needed:
        return
    include = query.get("include") or []
    if isinstance(include, str):
        include = [item for item in include.split(",") if item]
    include = list(include)
    for name in needed:
        # `fields[blocks.metrics]` trims what `include=blocks` embeds.
        name = name.split(".")[0]
        if name not in include:
            include.append(name)
    # As the parameter's style sends it: one comma-separated value.
    query["include"] = ",".join(include)


def _real_file(case):
    """A positive upload is a small PNG, with a title and alternative text, sent
    as the body (a generated form's file part would be random bytes)."""
    if case.method.upper() != "POST" or case.path != ASSETS:
        return
    case.media_type = "application/octet-stream"
    case.body = PNG
    case.query = {"title": "A photograph", "alt": "What it shows"}


@schemathesis.hook
def map_case(ctx, case):
    """Generated cases (coverage, fuzzing, stateful)."""
    if _positive_mode(case):
        _real_file(case)
        _fresh_key(case)
        _obey_csv(case)
        _known_cursor(case)
        _included_embeddings(case)
    if _positive(case):
        _obey(case)
    return case


@schemathesis.hook
def before_add_examples(ctx, examples):
    """Cases made from the document's examples, which map_case does not see."""
    for case in examples:
        if _positive_mode(case):
            _real_file(case)
            _fresh_key(case)
            _obey_csv(case)
            _known_cursor(case)
            _included_embeddings(case)
        if _positive(case):
            _obey(case)


# The codes of errors about what is stored, not about the body's form (see the
# error codes in the guide).
STORED = {
    "unknown_reference",
    "unknown_metric",
    "taken",
    "loop",
    "last_primary",
    "out_of_range",
    "not_your_area",
    "not_your_metric",
    "not_yours",
}


@schemathesis.check
def refused_only_for_what_is_stored(ctx, response, case):
    """A schema-valid request answered 422 must be refused for what is stored:
    every error carries one of the STORED codes."""
    if response.status_code != 422 or not _positive_mode(case):
        return None
    try:
        errors = json.loads(response.text).get("errors") or []
    except (ValueError, AttributeError):
        raise AssertionError("a 422 without a problem document")
    about_the_body = [e for e in errors if e.get("code") not in STORED]
    if not errors or about_the_body:
        raise AssertionError(
            "Valid data should have been accepted: refused for "
            + json.dumps(about_the_body or "no errors")
        )
    return None

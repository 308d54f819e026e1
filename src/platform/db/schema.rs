//! The tables as diesel sees them. Kept in step with `migrations/` by hand, as
//! `diesel print-schema` would write them, except that the generated `search`
//! (tsvector) columns are left out: only raw SQL in `query.rs` reads them.

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        etag -> Text,
        token_stamp -> Uuid,
    }
}

diesel::table! {
    pages (id) {
        id -> Uuid,
        slug -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        body -> Text,
        body_html -> Text,
        body_text -> Text,
        parent -> Nullable<Text>,
        position -> Int4,
        seo_title -> Nullable<Text>,
        seo_description -> Nullable<Text>,
        image -> Nullable<Uuid>,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        etag -> Text,
        blocks -> Jsonb,
    }
}

diesel::table! {
    impact_metrics (id) {
        id -> Uuid,
        key -> Text,
        label -> Text,
        description -> Nullable<Text>,
        category -> Text,
        unit -> Text,
        sdg_goals -> Array<Int4>,
        position -> Int4,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        headline_area -> Nullable<Text>,
        etag -> Text,
    }
}

diesel::table! {
    observations (id) {
        id -> Uuid,
        metric -> Text,
        area -> Text,
        period_start -> Nullable<Date>,
        period_end -> Nullable<Date>,
        value -> Float8,
        value_max -> Nullable<Float8>,
        qualifier -> Text,
        as_of -> Nullable<Date>,
        source_url -> Nullable<Text>,
        note -> Nullable<Text>,
        reported_by -> Nullable<Text>,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        partner -> Nullable<Text>,
        created_by -> Nullable<Text>,
        etag -> Text,
    }
}

diesel::table! {
    funders (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        kind -> Text,
        country_code -> Nullable<Text>,
        parent -> Nullable<Text>,
        website -> Nullable<Text>,
        logo_url -> Nullable<Text>,
        logo -> Nullable<Uuid>,
        description -> Nullable<Text>,
        position -> Int4,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        etag -> Text,
    }
}

diesel::table! {
    council_decisions (id) {
        id -> Uuid,
        celex -> Text,
        reference -> Text,
        title -> Text,
        adopted_on -> Nullable<Date>,
        summary -> Nullable<Text>,
        supersedes -> Nullable<Text>,
        funder -> Text,
        document -> Nullable<Uuid>,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        etag -> Text,
    }
}

diesel::table! {
    contacts (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        organisation -> Nullable<Text>,
        street_address -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        city -> Nullable<Text>,
        country_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        fax -> Nullable<Text>,
        email -> Nullable<Text>,
        is_primary -> Bool,
        position -> Int4,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        etag -> Text,
    }
}

diesel::table! {
    partners (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        country_code -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        areas -> Array<Text>,
        metrics -> Nullable<Array<Text>>,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        etag -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        name -> Text,
        partner -> Nullable<Text>,
        scopes -> Array<Text>,
        secret_hash -> Bytea,
        hint -> Text,
        expires_at -> Timestamptz,
        created_by -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        version -> Int4,
        updated_at -> Timestamptz,
        etag -> Text,
    }
}

diesel::table! {
    changes (seq) {
        seq -> Int8,
        position -> Nullable<Int8>,
        #[sql_name = "type"]
        kind -> Text,
        key -> Text,
        parent -> Nullable<Text>,
        item_id -> Nullable<Uuid>,
        action -> Text,
        version -> Int4,
        item -> Nullable<Jsonb>,
        moved -> Nullable<Text>,
        public_action -> Nullable<Text>,
        actor -> Text,
        partner -> Nullable<Text>,
        request_id -> Nullable<Text>,
        address -> Nullable<Text>,
        at -> Timestamptz,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    changes_head (id) {
        id -> Bool,
        position -> Int8,
    }
}

diesel::table! {
    changes_horizon (id) {
        id -> Bool,
        position -> Int8,
    }
}

diesel::table! {
    changes_schedule (id) {
        id -> Bool,
        until -> Timestamptz,
    }
}

diesel::table! {
    assets (id) {
        id -> Uuid,
        filename -> Text,
        media_type -> Text,
        size -> Int8,
        sha256 -> Text,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        title -> Text,
        alt -> Nullable<Text>,
        credit -> Nullable<Text>,
        licence -> Nullable<Text>,
        focal_x -> Nullable<Float4>,
        focal_y -> Nullable<Float4>,
        tags -> Array<Text>,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        etag -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    assets,
    users,
    pages,
    impact_metrics,
    observations,
    funders,
    council_decisions,
    contacts,
    partners,
    api_tokens,
    changes,
    webhooks
);

diesel::table! {
    audit (id) {
        id -> Int8,
        at -> Timestamptz,
        actor -> Text,
        partner -> Nullable<Text>,
        #[sql_name = "type"]
        kind -> Text,
        key -> Text,
        parent -> Nullable<Text>,
        action -> Text,
        version_before -> Nullable<Int4>,
        version_after -> Nullable<Int4>,
        patch -> Jsonb,
        request_id -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        url -> Text,
        events -> Array<Text>,
        description -> Nullable<Text>,
        secret -> Text,
        active -> Bool,
        paused_reason -> Nullable<Text>,
        failures -> Int4,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        etag -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        webhook -> Uuid,
        position -> Int8,
        event -> Text,
        item -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        last_duration_ms -> Nullable<Int4>,
        last_response -> Nullable<Text>,
        created_at -> Timestamptz,
        give_up_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook));

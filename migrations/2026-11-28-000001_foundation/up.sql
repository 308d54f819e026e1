-- Users, the shared versioning trigger and pages.

-- Every content table carries version, created_at and updated_at. This trigger keeps
-- them honest for every write, whoever makes it: a write that changes something
-- bumps the version and updated_at; a write that changes nothing (the same body
-- PUT twice) leaves both alone, so caches and sync jobs see no new version.
CREATE FUNCTION seesac_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.id := OLD.id;
    NEW.created_at := OLD.created_at;
    IF (to_jsonb(NEW) - 'search' - 'version' - 'updated_at')
       IS DISTINCT FROM (to_jsonb(OLD) - 'search' - 'version' - 'updated_at') THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'editor')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    summary text,
    body text NOT NULL DEFAULT '',
    -- Derived from body on every write: the sanitised HTML and the plain text that
    -- search indexes and quotes in snippets.
    body_html text NOT NULL DEFAULT '',
    body_text text NOT NULL DEFAULT '',
    parent text REFERENCES pages (slug) ON UPDATE CASCADE CHECK (parent <> slug),
    position integer NOT NULL DEFAULT 0,
    seo_title text,
    seo_description text,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', body_text), 'C')
    ) STORED
);
CREATE INDEX pages_parent_idx ON pages (parent);
CREATE INDEX pages_search_idx ON pages USING gin (search);
CREATE INDEX pages_updated_at_idx ON pages (updated_at);
CREATE TRIGGER pages_versioning BEFORE UPDATE ON pages
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

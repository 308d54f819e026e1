-- An asset's tags, for finding it in the media library: `filter[tags]=campaign`
-- (has the tag) and `tags[in]=a,b` (has one of them), through a GIN index.
ALTER TABLE assets ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
CREATE INDEX assets_tags_idx ON assets USING gin (tags);

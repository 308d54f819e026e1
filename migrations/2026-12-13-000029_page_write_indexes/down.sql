CREATE INDEX pages_created_at_sort_idx ON pages (created_at ASC NULLS FIRST);
CREATE INDEX pages_parent_sort_idx ON pages (parent ASC NULLS FIRST);
CREATE INDEX pages_position_sort_idx ON pages (position ASC NULLS FIRST);
CREATE INDEX pages_slug_sort_idx ON pages (slug ASC NULLS FIRST);
CREATE INDEX pages_status_sort_idx ON pages (status ASC NULLS FIRST);
CREATE INDEX pages_title_sort_idx ON pages (title ASC NULLS FIRST);
CREATE INDEX pages_updated_at_sort_idx ON pages (updated_at ASC NULLS FIRST);

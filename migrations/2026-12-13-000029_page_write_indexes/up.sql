-- A page's update writes every one of its indexes: it changes `updated_at` and the
-- search vector, so none is HOT, and pages had one index per sortable field
-- (000008), 14 in all; a PUT wrote 31 WAL records (bench/results.md). A site has a
-- few hundred pages, so a list in another order sorts what its filters leave in
-- memory, as observations' lists do (000017). Pages keep the indexes that find rows
-- (the id, the slug, the image, the scheduled ones, search), their default order's
-- and `published_at`'s (the newest first: a frontend's news and "latest" lists).
DROP INDEX pages_created_at_sort_idx, pages_parent_sort_idx, pages_position_sort_idx,
    pages_slug_sort_idx, pages_status_sort_idx, pages_title_sort_idx,
    pages_updated_at_sort_idx;

-- Assets: files that content can use (images, PDFs, office documents). The row
-- is the asset's metadata; its bytes are kept by the service's file store, named
-- by their SHA-256, so identical bytes are stored once whatever number of
-- assets share them. What the server derived from the bytes (type, size, hash,
-- image size) is never written by a client.
CREATE TABLE assets (
    filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255 AND filename !~ '[/\\[:cntrl:]]'),
    media_type text NOT NULL CHECK (media_type ~ '^[a-z]+/[a-z0-9.+-]+$'),
    size bigint NOT NULL CHECK (size > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    width integer CHECK (width > 0),
    height integer CHECK (height > 0),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    alt text CHECK (length(alt) <= 1000),
    credit text CHECK (length(credit) <= 200),
    licence text CHECK (length(licence) <= 200),
    focal_x real CHECK (focal_x BETWEEN 0 AND 1),
    focal_y real CHECK (focal_y BETWEEN 0 AND 1),
    CHECK ((width IS NULL) = (height IS NULL)),
    CHECK ((focal_x IS NULL) = (focal_y IS NULL))
);
SELECT seesac_register_kind('asset', 'assets', 'id');
CREATE INDEX assets_sha256_idx ON assets (sha256);
CREATE INDEX assets_created_at_sort_idx ON assets (created_at);

-- Values a revision keeps apart from its instance text (sqlstore/shared.go):
-- a large value the revision shares with its instance as stored has a NULL
-- value here, which reads as the instance's apart value; the store copies
-- that value here before it replaces or erases it. tsprov_revisions.apart
-- counts a revision's rows here.

-- +goose Up
-- (IF NOT EXISTS: a file whose later migrations were undone by hand may
-- still hold the table.)
ALTER TABLE tsprov_revisions ADD COLUMN apart INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS tsprov_revision_values (
    class    TEXT    NOT NULL COLLATE NOCASE,
    key      TEXT    NOT NULL COLLATE NOCASE,
    rev      INTEGER NOT NULL,
    property TEXT    NOT NULL COLLATE NOCASE,
    value    TEXT, -- JSON text; NULL: the instance's stored apart value
    PRIMARY KEY (class, key, rev, property)
);
CREATE INDEX IF NOT EXISTS tsprov_revision_values_shared ON tsprov_revision_values (class, key, property) WHERE value IS NULL;

-- +goose Down
DROP TABLE tsprov_revision_values;
ALTER TABLE tsprov_revisions DROP COLUMN apart;

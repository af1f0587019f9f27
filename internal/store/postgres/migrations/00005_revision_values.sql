-- Values a revision keeps apart from its instance text (sqlstore/shared.go):
-- a large value the revision shares with its instance as stored has a NULL
-- value here, which reads as the instance's apart value; the store copies
-- that value here before it replaces or erases it. tsprov_revisions.apart
-- counts a revision's rows here. property is folded, as in
-- tsprov_apart_values.

-- +goose Up
-- (IF NOT EXISTS: a file whose later migrations were undone by hand may
-- still hold the table.)
ALTER TABLE tsprov_revisions ADD COLUMN apart bigint NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS tsprov_revision_values (
    class    text   NOT NULL,
    fold_key text   NOT NULL,
    rev      bigint NOT NULL,
    property text   COLLATE "C" NOT NULL,
    value    text, -- JSON text; NULL: the instance's stored apart value
    PRIMARY KEY (class, fold_key, rev, property)
);
CREATE INDEX IF NOT EXISTS tsprov_revision_values_shared ON tsprov_revision_values (class, fold_key, property) WHERE value IS NULL;

-- +goose Down
DROP TABLE tsprov_revision_values;
ALTER TABLE tsprov_revisions DROP COLUMN apart;

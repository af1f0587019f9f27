-- The change feed (store/events.go): one row a change, numbered in commit
-- order (the single writer appends), never renumbered or reused.

-- +goose Up
CREATE TABLE tsprov_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL, -- Unix time in microseconds, UTC
    op      TEXT    NOT NULL,
    class   TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    version INTEGER NOT NULL
);

-- +goose Down
DROP TABLE tsprov_events;

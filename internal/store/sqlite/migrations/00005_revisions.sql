-- History (store/history.go): every revision of an instance of a class
-- with history, the whole instance as stored (JSON), numbered per instance.
-- Keys compare without regard to case (NOCASE is tsprov's folding).

-- +goose Up
CREATE TABLE tsprov_revisions (
    class         TEXT    NOT NULL,
    key           TEXT    NOT NULL COLLATE NOCASE,
    rev           INTEGER NOT NULL,
    at            INTEGER NOT NULL, -- Unix time in microseconds, UTC
    op            TEXT    NOT NULL,
    method        TEXT    NOT NULL DEFAULT '',
    user_name     TEXT    NOT NULL DEFAULT '',
    server        TEXT    NOT NULL DEFAULT '',
    comment       TEXT    NOT NULL DEFAULT '',
    restored_from INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL,
    instance      TEXT    NOT NULL,
    PRIMARY KEY (class, key, rev)
);

-- +goose Down
DROP TABLE tsprov_revisions;

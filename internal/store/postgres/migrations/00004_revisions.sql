-- History (store/history.go): every revision of an instance of a class
-- with history, the whole instance as stored (JSON), numbered per instance.
-- Keys compare without regard to case: the primary key is on the folded
-- key (tsprov_fold, as for the class tables).

-- +goose Up
CREATE TABLE tsprov_revisions (
    class         text   NOT NULL,
    key           text   NOT NULL,
    fold_key      text   NOT NULL,
    rev           bigint NOT NULL,
    at            bigint NOT NULL, -- Unix time in microseconds, UTC
    op            text   NOT NULL,
    method        text   NOT NULL DEFAULT '',
    user_name     text   NOT NULL DEFAULT '',
    server        text   NOT NULL DEFAULT '',
    comment       text   NOT NULL DEFAULT '',
    restored_from bigint NOT NULL DEFAULT 0,
    size          bigint NOT NULL,
    instance      text   NOT NULL,
    PRIMARY KEY (class, fold_key, rev)
);

-- +goose Down
DROP TABLE tsprov_revisions;

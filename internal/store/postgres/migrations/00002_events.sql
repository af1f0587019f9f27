-- The change feed (store/events.go). Positions are drawn at commit from
-- the one row of tsprov_event_position, which the drawing transaction
-- keeps locked until it commits: positions follow commit order across
-- every server on the database.

-- +goose Up
CREATE TABLE tsprov_events (
    seq     bigint NOT NULL PRIMARY KEY,
    at      bigint NOT NULL, -- Unix time in microseconds, UTC
    op      text   NOT NULL,
    class   text   NOT NULL,
    key     text   NOT NULL,
    version bigint NOT NULL
);

CREATE TABLE tsprov_event_position (
    one  boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (one),
    last bigint  NOT NULL
);
INSERT INTO tsprov_event_position (one, last) VALUES (true, 0);

-- +goose Down
DROP TABLE tsprov_event_position;
DROP TABLE tsprov_events;

-- Event values (store/events.go): the WMI event a change raises carries
-- the changed instance's non-lazy values (target) and, for a
-- modification, those it had before (previous), as JSON objects; a
-- method-invocation event names its method. tsprov_event_trim holds the
-- position through which TrimEvents removed events: a reader behind it
-- is told (errs.Gone), where a gap a restore left is no loss.

-- +goose Up
ALTER TABLE tsprov_events ADD COLUMN method text NOT NULL DEFAULT '';
ALTER TABLE tsprov_events ADD COLUMN target text;
ALTER TABLE tsprov_events ADD COLUMN previous text;
CREATE TABLE tsprov_event_trim (
    one     boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (one),
    through bigint  NOT NULL
);
INSERT INTO tsprov_event_trim (one, through) VALUES (true, 0);

-- +goose Down
DROP TABLE tsprov_event_trim;
ALTER TABLE tsprov_events DROP COLUMN previous;
ALTER TABLE tsprov_events DROP COLUMN target;
ALTER TABLE tsprov_events DROP COLUMN method;

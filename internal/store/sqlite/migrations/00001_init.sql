-- Fixed tables of the SQLite store. Class tables are not created here: the
-- class registry drives them (see layout.go).

-- +goose Up

-- Named counters for Tx.NextSequence.
CREATE TABLE tsprov_counters (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Lazy and large property values, kept apart from the class rows so that
-- lists never read them: one row a value, the value as JSON text
-- (store.EncodeJSON). Keys compare as the class tables' _key does.
CREATE TABLE tsprov_apart_values (
    class    TEXT NOT NULL COLLATE NOCASE,
    key      TEXT NOT NULL COLLATE NOCASE,
    property TEXT NOT NULL COLLATE NOCASE,
    value    TEXT NOT NULL,
    PRIMARY KEY (class, key, property)
);

-- The layout that the class tables were created with: one row a property
-- of a storable class, row column (apart = 0) or apart value (apart = 1),
-- with the CIM type it was declared with.
CREATE TABLE tsprov_class_columns (
    class    TEXT    NOT NULL COLLATE NOCASE,
    property TEXT    NOT NULL COLLATE NOCASE,
    cim_type TEXT    NOT NULL,
    apart    INTEGER NOT NULL,
    PRIMARY KEY (class, property)
);

-- +goose Down
DROP TABLE tsprov_class_columns;
DROP TABLE tsprov_apart_values;
DROP TABLE tsprov_counters;

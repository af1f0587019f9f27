-- Fixed tables of the PostgreSQL store, in the schema the connection's
-- search_path names. Class tables are not created here: the class registry
-- drives them (see layout.go). Text that compares without regard to case
-- (class names, keys, property names) is stored folded by the store
-- (query.Fold).

-- +goose Up

-- Named counters for Tx.NextSequence.
CREATE TABLE tsprov_counters (
    name  text COLLATE "C" NOT NULL PRIMARY KEY,
    value bigint NOT NULL
);

-- Lazy and large property values, kept apart from the class rows so that
-- lists never read them: one row a value, the value as JSON text
-- (store.EncodeJSON). class, key and property are folded.
CREATE TABLE tsprov_apart_values (
    class    text COLLATE "C" NOT NULL,
    key      text COLLATE "C" NOT NULL,
    property text COLLATE "C" NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (class, key, property)
);

-- The layout that the class tables were created with: one row a property
-- of a storable class (class and property folded), row column (apart
-- false) or apart value (apart true), with the CIM type it was declared
-- with.
CREATE TABLE tsprov_class_columns (
    class    text COLLATE "C" NOT NULL,
    property text COLLATE "C" NOT NULL,
    cim_type text NOT NULL,
    apart    boolean NOT NULL,
    PRIMARY KEY (class, property)
);

-- +goose Down
DROP TABLE tsprov_class_columns;
DROP TABLE tsprov_apart_values;
DROP TABLE tsprov_counters;

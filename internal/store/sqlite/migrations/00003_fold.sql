-- Case folding (fold.go): every connection of this store compares NOCASE
-- by query.CompareFold, which folds every letter, where SQLite's own
-- NOCASE folds ASCII letters only. The indexes of a file written before
-- (the class tables' keys and names, the apart values' keys) are ordered
-- by SQLite's rule; rebuilt here by tsprov's, so that lookups through them
-- find what they hold. (Two keys that only tsprov's rule finds equal make
-- this fail: the file then holds two instances under one key.)

-- +goose Up
REINDEX NOCASE;

-- +goose Down
REINDEX NOCASE;

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// Insert implements store.Tx.Insert. Every value is encoded before
// anything is written, so a value of the wrong Go type (errs.Invalid,
// naming the property) leaves the transaction as it was; so does
// errs.Conflict.
func (x *txn) Insert(ctx context.Context, rec *store.Record) error {
	if err := x.mustWrite("insert"); err != nil {
		return err
	}
	t, key, err := x.insertRow(ctx, rec, 1)
	if err != nil {
		return err
	}
	return x.record(ctx, t, store.Created, key, 1, rec.Instance, nil, "")
}

// insertRow stores rec's row and apart values at the given version; it
// records no event.
func (x *txn) insertRow(ctx context.Context, rec *store.Record, version int64) (*table, string, error) {
	t, row, err := x.target(rec)
	if err != nil {
		return nil, "", err
	}
	if err := x.insertEncoded(ctx, t, row, rec.Instance, version); err != nil {
		return nil, "", err
	}
	rec.Version = version
	return t, row.Key, nil
}

// insertEncoded stores row, an instance of t's class that target
// encoded from in (nil: not known), at the given version; it records no
// event.
func (x *txn) insertEncoded(ctx context.Context, t *table, row store.Row, in *cim.Instance, version int64) error {
	key, cols, apart := row.Key, row.Cols, row.Apart
	res, err := x.exec(ctx, t.insertSQL, append([]any{key, version}, cols...)...)
	if err != nil {
		return fmt.Errorf("insert %s %q: %w", t.Class.Name, key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert %s %q: %w", t.Class.Name, key, err)
	} else if n == 0 {
		return store.Exists(t.Class, key)
	}
	// No apart value is stored under a new key: Delete removed the last
	// instance's in the same transaction as its row.
	return x.writeApart(ctx, t, key, in, apart)
}

// Update implements store.Tx.Update. Values are encoded before anything is
// written (see Insert).
func (x *txn) Update(ctx context.Context, rec *store.Record) error {
	if err := x.mustWrite("update"); err != nil {
		return err
	}
	t, row, err := x.target(rec)
	if err != nil {
		return err
	}
	key, cols, apart := row.Key, row.Cols, row.Apart
	previous, err := store.Previous(ctx, x, t.Class, key)
	if err != nil {
		return err
	}
	args := append(append([]any{key}, cols...), key)
	var version int64
	err = x.queryRow(ctx, t.updateSQL, args...).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return store.NotFound(t.Class, key)
	}
	if err != nil {
		return fmt.Errorf("update %s %q: %w", t.Class.Name, key, err)
	}
	if err := x.writeApart(ctx, t, key, rec.Instance, apart); err != nil {
		return err
	}
	rec.Version = version
	return x.record(ctx, t, store.Modified, key, version, rec.Instance, previous, "")
}

// Delete implements store.Tx.Delete.
func (x *txn) Delete(ctx context.Context, c *cim.Class, key string) error {
	if err := x.mustWrite("delete"); err != nil {
		return err
	}
	t, err := x.table(c)
	if err != nil {
		return err
	}
	if err := store.CheckKey(c, key); err != nil {
		return err
	}
	deleted, err := store.Previous(ctx, x, t.Class, key)
	if err != nil {
		return err
	}
	res, err := x.exec(ctx, t.deleteSQL, key)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", t.Class.Name, key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete %s %q: %w", t.Class.Name, key, err)
	} else if n == 0 {
		return store.NotFound(t.Class, key)
	}
	if err := x.deleteApart(ctx, t, key); err != nil {
		return err
	}
	return x.record(ctx, t, store.Deleted, key, 0, deleted, nil, "")
}

// NextSequence implements store.Tx.NextSequence. Outcomes also: an error
// of kind errs.Invalid when name is empty.
func (x *txn) NextSequence(ctx context.Context, name string) (int64, error) {
	if err := x.mustWrite("next sequence"); err != nil {
		return 0, err
	}
	if name == "" {
		return 0, errs.E(errs.Invalid, "sqlite: counter name is empty")
	}
	var n int64
	err := x.queryRow(ctx,
		`INSERT INTO tsprov_counters (name, value) VALUES (?, 1)
		 ON CONFLICT (name) DO UPDATE SET value = value + 1
		 RETURNING value`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next value of counter %q: %w", name, err)
	}
	return n, nil
}

// target checks rec and returns its table and encoded row
// (sqlstore.Encode).
func (x *txn) target(rec *store.Record) (*table, store.Row, error) {
	return sqlstore.Encode(backend, rec, x.table, func(t *table) *store.Layout { return &t.Layout }, toColumn)
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// Insert implements store.Tx.Insert. Every value is encoded before
// anything is written, so a value of the wrong Go type (errs.Invalid,
// naming the property) leaves the transaction as it was; so does
// errs.Conflict (the insert does nothing on a taken key, it does not
// fail). When another transaction is inserting the same key, Insert waits
// for it to end.
func (x *txn) Insert(ctx context.Context, rec *store.Record) error {
	if err := x.mustWrite("insert"); err != nil {
		return err
	}
	t, key, err := x.insertRow(ctx, rec, 1)
	if err != nil {
		return err
	}
	return x.record(t, store.Created, key, 1, rec.Instance, nil, "")
}

// insertRow stores rec's row and apart values at the given version; it
// records no event.
func (x *txn) insertRow(ctx context.Context, rec *store.Record, version int64) (*table, string, error) {
	t, row, err := x.target(rec)
	if err != nil {
		return nil, "", err
	}
	key, cols, apart := row.Key, row.Cols, row.Apart
	tag, err := x.q.Exec(ctx, t.insertSQL, append(append([]any{key}, cols...), version)...)
	if err != nil {
		return nil, "", fmt.Errorf("insert %s %q: %w", t.Class.Name, key, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, "", store.Exists(t.Class, key)
	}
	// No apart value is stored under a new key (Delete removed the last
	// instance's in the same transaction as its row): nothing to erase.
	if err := x.writeApart(ctx, t, fold(key), rec.Instance, store.Sets(apart)); err != nil {
		return nil, "", err
	}
	rec.Version = version
	return t, key, nil
}

// Update implements store.Tx.Update. Values are encoded before anything is
// written (see Insert). The update locks the row to the end of the
// transaction.
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
	args := append(append([]any{key}, cols...), fold(key))
	var version int64
	err = x.q.QueryRow(ctx, t.updateSQL, args...).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.NotFound(t.Class, key)
	}
	if err != nil {
		return fmt.Errorf("update %s %q: %w", t.Class.Name, key, err)
	}
	if err := x.writeApart(ctx, t, fold(key), rec.Instance, apart); err != nil {
		return err
	}
	rec.Version = version
	return x.record(t, store.Modified, key, version, rec.Instance, previous, "")
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
	tag, err := x.q.Exec(ctx, t.deleteSQL, fold(key))
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", t.Class.Name, key, err)
	}
	if tag.RowsAffected() == 0 {
		return store.NotFound(t.Class, key)
	}
	if err := x.deleteApart(ctx, t, fold(key)); err != nil {
		return err
	}
	return x.record(t, store.Deleted, key, 0, deleted, nil, "")
}

// NextSequence implements store.Tx.NextSequence with one upsert of the
// counter's row, which keeps the row locked until the transaction ends:
// a concurrent Write drawing from the same counter waits, then counts on
// from the committed value. Outcomes also: an error of kind errs.Invalid
// when name is empty.
func (x *txn) NextSequence(ctx context.Context, name string) (int64, error) {
	if err := x.mustWrite("next sequence"); err != nil {
		return 0, err
	}
	if name == "" {
		return 0, errs.E(errs.Invalid, "postgres: counter name is empty")
	}
	var n int64
	err := x.q.QueryRow(ctx,
		`INSERT INTO tsprov_counters AS c (name, value) VALUES ($1, 1)
		 ON CONFLICT (name) DO UPDATE SET value = c.value + 1
		 RETURNING value`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next value of counter %q: %w", name, err)
	}
	return n, nil
}

// target checks rec and returns its table and encoded row
// (sqlstore.Encode).
func (x *txn) target(rec *store.Record) (*table, store.Row, error) {
	return sqlstore.Encode(backend, rec, x.table, func(t *table) *store.Layout { return &t.Layout }, store.ToColumn)
}

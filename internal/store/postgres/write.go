package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
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
	t, key, err := x.insertRow(ctx, rec)
	if err != nil {
		return err
	}
	x.record(t, store.Created, key, 1)
	return nil
}

// insertRow stores rec's row and apart values at version 1; it records no
// event.
func (x *txn) insertRow(ctx context.Context, rec *store.Record) (*table, string, error) {
	t, in, key, err := x.target(rec)
	if err != nil {
		return nil, "", err
	}
	cols, err := rowArgs(t, in)
	if err != nil {
		return nil, "", err
	}
	apart, err := apartValues(t, in)
	if err != nil {
		return nil, "", err
	}
	tag, err := x.q.Exec(ctx, t.insertSQL, append([]any{key}, cols...)...)
	if err != nil {
		return nil, "", fmt.Errorf("insert %s %q: %w", t.class.Name, key, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, "", errs.E(errs.Conflict, "%s %q already exists", t.class.Name, key)
	}
	// No apart value is stored under a new key (Delete removed the last
	// instance's in the same transaction as its row): nothing to erase.
	if err := x.writeApart(ctx, t, fold(key), sets(apart)); err != nil {
		return nil, "", err
	}
	rec.Version = 1
	return t, key, nil
}

// Update implements store.Tx.Update. Values are encoded before anything is
// written (see Insert). The update locks the row to the end of the
// transaction.
func (x *txn) Update(ctx context.Context, rec *store.Record) error {
	if err := x.mustWrite("update"); err != nil {
		return err
	}
	t, in, key, err := x.target(rec)
	if err != nil {
		return err
	}
	cols, err := rowArgs(t, in)
	if err != nil {
		return err
	}
	apart, err := apartValues(t, in)
	if err != nil {
		return err
	}
	args := append(append([]any{key}, cols...), fold(key))
	var version int64
	err = x.q.QueryRow(ctx, t.updateSQL, args...).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.E(errs.NotFound, "%s %q not found", t.class.Name, key)
	}
	if err != nil {
		return fmt.Errorf("update %s %q: %w", t.class.Name, key, err)
	}
	if err := x.writeApart(ctx, t, fold(key), apart); err != nil {
		return err
	}
	rec.Version = version
	x.record(t, store.Modified, key, version)
	return nil
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
	tag, err := x.q.Exec(ctx, t.deleteSQL, fold(key))
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", t.class.Name, key, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "%s %q not found", t.class.Name, key)
	}
	if err := x.deleteApart(ctx, t, fold(key)); err != nil {
		return err
	}
	x.record(t, store.Deleted, key, 0)
	return nil
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

// sets returns the ops of ops that set a value.
func sets(ops []apartOp) []apartOp {
	var out []apartOp
	for _, op := range ops {
		if !op.erase {
			out = append(out, op)
		}
	}
	return out
}

// target checks rec and returns its table, instance and key. Outcomes: an
// error of kind errs.Invalid when rec or its instance is missing, its class
// is not stored, it holds a value under a name that is not one of its
// class's properties, or a key property is null.
func (x *txn) target(rec *store.Record) (*table, *cim.Instance, string, error) {
	if rec == nil || rec.Instance == nil {
		return nil, nil, "", errs.E(errs.Invalid, "postgres: no instance given")
	}
	in := rec.Instance
	t, err := x.table(in.Class)
	if err != nil {
		return nil, nil, "", err
	}
	for name := range in.Values {
		if p, ok := t.class.Property(name); !ok || p.Name != name {
			return nil, nil, "", errs.Target(errs.Invalid, name, "%s has no property %q", t.class.Name, name)
		}
	}
	for _, p := range t.class.Keys() {
		if in.Values[p.Name] == nil {
			return nil, nil, "", errs.Target(errs.Invalid, p.Name, "%s: key property %s is null", t.class.Name, p.Name)
		}
	}
	return t, in, in.Key(), nil
}

// rowArgs encodes the row columns of in, absent ones as null.
func rowArgs(t *table, in *cim.Instance) ([]any, error) {
	args := make([]any, len(t.cols))
	for i, p := range t.cols {
		v, err := toColumn(t.class, p, in.Values[p.Name])
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

package sqlite

import (
	"context"
	"fmt"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// Restore implements store.Tx.Restore.
func (x *txn) Restore(ctx context.Context, rec *store.Record) error {
	if err := x.mustWrite("restore"); err != nil {
		return err
	}
	if rec == nil || rec.Version < 1 {
		return errs.Target(errs.Invalid, "Version", "restore: a record needs a version of 1 or more")
	}
	version := rec.Version
	t, key, err := x.insertRow(ctx, rec)
	if err != nil {
		return err
	}
	if _, err := x.exec(ctx, "UPDATE "+t.ident+" SET "+versionColumn+" = ? WHERE "+keyColumn+" = ?", version, key); err != nil {
		return fmt.Errorf("restore %s %q: %w", t.class.Name, key, err)
	}
	rec.Version = version
	return nil
}

// RestoreCounter implements store.Tx.RestoreCounter.
func (x *txn) RestoreCounter(ctx context.Context, name string, value int64) error {
	if err := x.mustWrite("restore counter"); err != nil {
		return err
	}
	if name == "" || value < 0 {
		return errs.E(errs.Invalid, "restore counter %q: needs a name and a value of 0 or more, not %d", name, value)
	}
	_, err := x.exec(ctx,
		`INSERT INTO tsprov_counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("restore counter %q: %w", name, err)
	}
	return nil
}

// Counters implements store.ReadTx.Counters.
func (x *txn) Counters(ctx context.Context) (map[string]int64, error) {
	rows, err := x.queryRows(ctx, `SELECT name, value FROM tsprov_counters`)
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("read counters: %w", err)
		}
		out[name] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	return out, nil
}

// RestoreEvent implements store.Tx.RestoreEvent. AUTOINCREMENT goes on
// after the largest position ever stored, so later events follow it.
func (x *txn) RestoreEvent(ctx context.Context, ev store.Event) error {
	if err := x.mustWrite("restore event"); err != nil {
		return err
	}
	var last int64
	if err := x.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM tsprov_events`).Scan(&last); err != nil {
		return fmt.Errorf("restore event %d: %w", ev.Seq, err)
	}
	if ev.Seq <= last {
		return errs.Target(errs.Invalid, "Seq", "restore event %d: the feed already reaches %d", ev.Seq, last)
	}
	_, err := x.exec(ctx,
		`INSERT INTO tsprov_events (seq, at, op, class, key, version) VALUES (?, ?, ?, ?, ?, ?)`,
		ev.Seq, ev.Time.UnixMicro(), string(ev.Op), ev.Class, ev.Key, ev.Version)
	if err != nil {
		return fmt.Errorf("restore event %d: %w", ev.Seq, err)
	}
	return nil
}

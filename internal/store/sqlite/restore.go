package sqlite

import (
	"context"
	"fmt"

	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// Restore implements store.Tx.Restore.
func (x *txn) Restore(ctx context.Context, rec *store.Record) error {
	if err := x.mustWrite("restore"); err != nil {
		return err
	}
	if err := store.CheckRestore(rec); err != nil {
		return err
	}
	_, _, err := x.insertRow(ctx, rec, rec.Version)
	return err
}

// RestoreCounter implements store.Tx.RestoreCounter.
func (x *txn) RestoreCounter(ctx context.Context, name string, value int64) error {
	if err := x.mustWrite("restore counter"); err != nil {
		return err
	}
	if err := store.CheckRestoreCounter(name, value); err != nil {
		return err
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
	return sqlstore.ScanCounters(rows)
}

// RestoreEvent implements store.Tx.RestoreEvent. AUTOINCREMENT goes on
// after the largest position ever stored, so later events follow it.
func (x *txn) RestoreEvent(ctx context.Context, ev store.Event) error {
	if err := x.mustWrite("restore event"); err != nil {
		return err
	}
	var last int64
	if err := x.queryRow(ctx, sqlstore.LastEventQuery).Scan(&last); err != nil {
		return fmt.Errorf("restore event %d: %w", ev.Seq, err)
	}
	if err := store.CheckRestoreEvent(ev, last); err != nil {
		return err
	}
	_, err := x.exec(ctx,
		`INSERT INTO tsprov_events (seq, at, op, class, key, version) VALUES (?, ?, ?, ?, ?, ?)`,
		ev.Seq, ev.Time.UnixMicro(), string(ev.Op), ev.Class, ev.Key, ev.Version)
	if err != nil {
		return fmt.Errorf("restore event %d: %w", ev.Seq, err)
	}
	return nil
}

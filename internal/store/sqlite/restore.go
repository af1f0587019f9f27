package sqlite

import (
	"context"
	"fmt"

	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// Restore implements store.Tx.Restore: every record is checked and
// encoded first, then the rows are inserted one by one (in process, each
// costs little) under a savepoint, which an error rolls back.
func (x *txn) Restore(ctx context.Context, recs ...*store.Record) error {
	if err := x.mustWrite("restore"); err != nil {
		return err
	}
	targets := make([]*table, len(recs))
	rows := make([]store.Row, len(recs))
	for i, rec := range recs {
		if err := store.CheckRestore(rec); err != nil {
			return err
		}
		var err error
		if targets[i], rows[i], err = x.target(rec); err != nil {
			return err
		}
	}
	return x.savepoint(ctx, "restore", func() error {
		for i, rec := range recs {
			if err := x.insertEncoded(ctx, targets[i], rows[i], nil, rec.Version); err != nil {
				return err
			}
		}
		return nil
	})
}

// savepoint runs fn under an SQL savepoint: when fn fails, what it wrote
// is rolled back and the transaction goes on. Outcomes: fn's error as is;
// an error when the savepoint cannot be set, released or rolled back to.
func (x *txn) savepoint(ctx context.Context, op string, fn func() error) error {
	if _, err := x.exec(ctx, `SAVEPOINT tsprov_batch`); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := fn(); err != nil {
		if _, rerr := x.exec(ctx, `ROLLBACK TO tsprov_batch`); rerr != nil {
			return fmt.Errorf("%s: %w (and rolling it back: %w)", op, err, rerr)
		}
		x.written = nil // what fn stored is undone: no revision shares it

		if _, rerr := x.exec(ctx, `RELEASE tsprov_batch`); rerr != nil {
			return fmt.Errorf("%s: %w (and releasing it: %w)", op, err, rerr)
		}
		return err
	}
	if _, err := x.exec(ctx, `RELEASE tsprov_batch`); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
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
// after the largest position ever stored, so later events follow them.
// The events are checked first, so the inserts cannot be refused.
func (x *txn) RestoreEvent(ctx context.Context, evs ...store.Event) error {
	if err := x.mustWrite("restore event"); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	var last int64
	if err := x.queryRow(ctx, sqlstore.LastEventQuery).Scan(&last); err != nil {
		return fmt.Errorf("restore event %d: %w", evs[0].Seq, err)
	}
	if err := store.CheckRestoreEvents(evs, last); err != nil {
		return err
	}
	return x.savepoint(ctx, "restore events", func() error {
		for _, ev := range evs {
			_, err := x.exec(ctx,
				`INSERT INTO tsprov_events (seq, at, op, class, key, version, method, target, previous) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				ev.Seq, ev.Time.UnixMicro(), string(ev.Op), ev.Class, ev.Key, ev.Version, ev.Method,
				sqlstore.EventText(ev.Target), sqlstore.EventText(ev.Previous))
			if err != nil {
				return fmt.Errorf("restore event %d: %w", ev.Seq, err)
			}
		}
		return nil
	})
}

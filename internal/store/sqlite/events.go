package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// record appends the change to the feed when t's class is recorded. The
// one writer connection appends in commit order, so the AUTOINCREMENT
// number is the feed position.
// target and previous are the instance after and before the change (see
// store.NewEvent).
func (x *txn) record(ctx context.Context, t *table, op store.EventOp, key string, version int64, target, previous *cim.Instance, method string) error {
	if !store.Recorded(t.Class) {
		return nil
	}
	ev, err := store.NewEvent(op, t.Class, key, version, target, previous)
	if err != nil {
		return err
	}
	var seq int64
	err = x.queryRow(ctx,
		`INSERT INTO tsprov_events (at, op, class, key, version, method, target, previous) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		time.Now().UnixMicro(), string(op), t.Class.Name, key, version, method,
		sqlstore.EventText(ev.Target), sqlstore.EventText(ev.Previous)).Scan(&seq)
	if err != nil {
		return fmt.Errorf("record %s of %s %q: %w", op, t.Class.Name, key, err)
	}
	x.lastEvent = seq
	return nil
}

// RecordMethod implements store.Tx.RecordMethod.
func (x *txn) RecordMethod(ctx context.Context, rec *store.Record, method string) error {
	if err := x.mustWrite("record method"); err != nil {
		return err
	}
	t, err := x.table(rec.Instance.Class)
	if err != nil {
		return err
	}
	key := rec.Instance.Key()
	if err := store.CheckKey(t.Class, key); err != nil {
		return err
	}
	return x.record(ctx, t, store.Invoked, key, rec.Version, rec.Instance, nil, method)
}

// TrimEvents implements store.Tx.TrimEvents.
func (x *txn) TrimEvents(ctx context.Context, keep int64) (int64, error) {
	if err := x.mustWrite("trim events"); err != nil {
		return 0, err
	}
	last, err := x.LastEvent(ctx)
	if err != nil {
		return 0, err
	}
	through := store.EventsToTrim(last, keep)
	if through == 0 {
		return 0, nil
	}
	if _, err := x.exec(ctx, `UPDATE tsprov_event_trim SET through = MAX(through, ?)`, through); err != nil {
		return 0, fmt.Errorf("trim events through %d: %w", through, err)
	}
	res, err := x.exec(ctx, `DELETE FROM tsprov_events WHERE seq <= ?`, through)
	if err != nil {
		return 0, fmt.Errorf("trim events through %d: %w", through, err)
	}
	return res.RowsAffected()
}

// Events implements store.ReadTx.Events.
func (x *txn) Events(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	limit, err := store.EventsLimit(after, limit)
	if err != nil {
		return nil, err
	}
	rows, err := x.queryRows(ctx,
		`SELECT `+sqlstore.EventColumns+` FROM tsprov_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	evs, err := sqlstore.ScanEvents(rows)
	if err != nil {
		return nil, err
	}
	return evs, store.CheckFeedKept(after, evs, func() (int64, error) {
		var through int64
		err := x.queryRow(ctx, store.TrimmedQuery).Scan(&through)
		return through, err
	})
}

// LastEvent implements store.ReadTx.LastEvent.
func (x *txn) LastEvent(ctx context.Context) (int64, error) {
	var last int64
	if err := x.queryRow(ctx, sqlstore.LastEventQuery).Scan(&last); err != nil {
		return 0, fmt.Errorf("read the feed's last position: %w", err)
	}
	return last, nil
}

// Subscribe implements store.Store.Subscribe: the positions this process
// commits (another process writing the same file is not seen).
func (s *Store) Subscribe(ctx context.Context) <-chan int64 { return s.fanout.Subscribe(ctx) }

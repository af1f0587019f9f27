package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// record appends the change to the feed when t's class is recorded. The
// one writer connection appends in commit order, so the AUTOINCREMENT
// number is the feed position.
func (x *txn) record(ctx context.Context, t *table, op store.EventOp, key string, version int64) error {
	if !store.Recorded(t.Class) {
		return nil
	}
	var seq int64
	err := x.queryRow(ctx,
		`INSERT INTO tsprov_events (at, op, class, key, version) VALUES (?, ?, ?, ?, ?) RETURNING seq`,
		time.Now().UnixMicro(), string(op), t.Class.Name, key, version).Scan(&seq)
	if err != nil {
		return fmt.Errorf("record %s of %s %q: %w", op, t.Class.Name, key, err)
	}
	x.lastEvent = seq
	return nil
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
	return sqlstore.ScanEvents(rows)
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

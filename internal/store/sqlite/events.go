package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// record appends the change to the feed when t's class is recorded. The
// one writer connection appends in commit order, so the AUTOINCREMENT
// number is the feed position.
func (x *txn) record(ctx context.Context, t *table, op store.EventOp, key string, version int64) error {
	if !store.Recorded(t.class) {
		return nil
	}
	var seq int64
	err := x.queryRow(ctx,
		`INSERT INTO tsprov_events (at, op, class, key, version) VALUES (?, ?, ?, ?, ?) RETURNING seq`,
		time.Now().UnixMicro(), string(op), t.class.Name, key, version).Scan(&seq)
	if err != nil {
		return fmt.Errorf("record %s of %s %q: %w", op, t.class.Name, key, err)
	}
	x.lastEvent = seq
	return nil
}

// Events implements store.ReadTx.Events.
func (x *txn) Events(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	if after < 0 {
		return nil, errs.Target(errs.Invalid, "after", "events: position %d is negative", after)
	}
	if limit < 0 {
		return nil, errs.Target(errs.Invalid, "limit", "events: limit %d is negative", limit)
	}
	if limit == 0 || limit > store.MaxEventsPage {
		limit = store.MaxEventsPage
	}
	rows, err := x.queryRows(ctx,
		`SELECT seq, at, op, class, key, version FROM tsprov_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var evs []store.Event
	for rows.Next() {
		var e store.Event
		var at int64
		var op string
		if err := rows.Scan(&e.Seq, &at, &op, &e.Class, &e.Key, &e.Version); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.Time, e.Op = time.UnixMicro(at).UTC(), store.EventOp(op)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return evs, nil
}

// Subscribe implements store.Store.Subscribe: the positions this process
// commits (another process writing the same file is not seen).
func (s *Store) Subscribe(ctx context.Context) <-chan int64 { return s.fanout.Subscribe(ctx) }

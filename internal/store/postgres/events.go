package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// The change feed. A Write gathers its events and appends them just
// before it commits: it draws their positions from tsprov_event_position,
// whose row stays locked until the commit, so positions follow commit
// order across servers, and the lock is held only for the end of the
// transaction. In the same transaction it sends a NOTIFY (payload: the
// last position, a few bytes) on the schema's channel; PostgreSQL
// delivers it at commit to every server listening (listen, started by the
// first Subscribe), which hands it to its subscribers.

// record gathers the change for the feed when t's class is recorded.
// target and previous are the instance after and before the change (see
// store.NewEvent).
func (x *txn) record(t *table, op store.EventOp, key string, version int64, target, previous *cim.Instance, method string) error {
	if !store.Recorded(t.Class) {
		return nil
	}
	ev, err := store.NewEvent(op, t.Class, key, version, target, previous)
	if err != nil {
		return err
	}
	ev.Time, ev.Method = time.Now().UTC(), method
	x.pending = append(x.pending, ev)
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
	return x.record(t, store.Invoked, key, rec.Version, rec.Instance, nil, method)
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
	if _, err := x.q.Exec(ctx, `UPDATE tsprov_event_trim SET through = GREATEST(through, $1)`, through); err != nil {
		return 0, fmt.Errorf("trim events through %d: %w", through, err)
	}
	tag, err := x.q.Exec(ctx, `DELETE FROM tsprov_events WHERE seq <= $1`, through)
	if err != nil {
		return 0, fmt.Errorf("trim events through %d: %w", through, err)
	}
	return tag.RowsAffected(), nil
}

// appendEvents numbers the gathered events and stores them, and notifies
// the listening servers; the last position, 0 when there were none.
func (x *txn) appendEvents(ctx context.Context) (int64, error) {
	n := int64(len(x.pending))
	if n == 0 {
		return 0, nil
	}
	var last int64
	if err := x.q.QueryRow(ctx, `UPDATE tsprov_event_position SET last = last + $1 RETURNING last`, n).Scan(&last); err != nil {
		return 0, fmt.Errorf("number change events: %w", err)
	}
	rows := make([][]any, n)
	for i, ev := range x.pending {
		rows[i] = []any{last - n + 1 + int64(i), ev.Time.UnixMicro(), string(ev.Op), ev.Class, ev.Key, ev.Version,
			ev.Method, sqlstore.EventText(ev.Target), sqlstore.EventText(ev.Previous)}
	}
	if _, err := x.q.CopyFrom(ctx, pgx.Identifier{"tsprov_events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("record change events: %w", err)
	}
	if _, err := x.q.Exec(ctx, `SELECT pg_notify($1, $2)`, x.s.channel, strconv.FormatInt(last, 10)); err != nil {
		return 0, fmt.Errorf("notify change events: %w", err)
	}
	return last, nil
}

var eventColumns = []string{"seq", "at", "op", "class", "key", "version", "method", "target", "previous"}

// Events implements store.ReadTx.Events.
func (x *txn) Events(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	limit, err := store.EventsLimit(after, limit)
	if err != nil {
		return nil, err
	}
	rows, err := x.q.Query(ctx,
		`SELECT `+sqlstore.EventColumns+` FROM tsprov_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
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
		err := x.q.QueryRow(ctx, store.TrimmedQuery).Scan(&through)
		return through, err
	})
}

// LastEvent implements store.ReadTx.LastEvent.
func (x *txn) LastEvent(ctx context.Context) (int64, error) {
	var last int64
	if err := x.q.QueryRow(ctx, sqlstore.LastEventQuery).Scan(&last); err != nil {
		return 0, fmt.Errorf("read the feed's last position: %w", err)
	}
	return last, nil
}

// Subscribe implements store.Store.Subscribe: the positions of this
// server's commits, and through LISTEN those of every server on the
// database.
func (s *Store) Subscribe(ctx context.Context) <-chan int64 {
	s.listenOnce.Do(func() {
		s.listenDone = make(chan struct{})
		go s.listen()
	})
	return s.fanout.Subscribe(ctx)
}

// listenRetry is how long listen waits before it connects again.
const listenRetry = time.Second

// listen holds a connection of its own that LISTENs on the schema's
// channel and hands each notified position to the subscribers, until
// Close. After each (re)connection it hands on the feed's last position
// too, in case a notification came while it was not listening.
func (s *Store) listen() {
	defer close(s.listenDone)
	for s.listenCtx.Err() == nil {
		err := s.listenOnConn()
		if s.listenCtx.Err() != nil {
			return
		}
		slog.Warn("postgres: listening for change events failed; connecting again", "err", err)
		select {
		case <-s.listenCtx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

func (s *Store) listenOnConn() error {
	ctx := s.listenCtx
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	var last int64
	if err := conn.QueryRow(ctx, `SELECT last FROM tsprov_event_position`).Scan(&last); err != nil {
		return err
	}
	if last > 0 {
		s.fanout.Publish(last)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if pos, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			s.fanout.Publish(pos)
		}
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// Restore implements store.Tx.Restore in a fixed number of round trips
// however many records there are: every record is checked and encoded
// first; then, class by class, one query finds the keys already taken
// (there COPY would fail and abort the transaction), one COPY writes the
// rows and one COPY their apart values (a new key has none to replace).
func (x *txn) Restore(ctx context.Context, recs ...*store.Record) error {
	if err := x.mustWrite("restore"); err != nil {
		return err
	}
	var order []*table
	byTable := map[*table][]store.Row{}
	versions := map[*table][]int64{}
	seen := map[*table]map[string]bool{}
	for _, rec := range recs {
		if err := store.CheckRestore(rec); err != nil {
			return err
		}
		t, row, err := x.target(rec)
		if err != nil {
			return err
		}
		if seen[t] == nil {
			order = append(order, t)
			seen[t] = map[string]bool{}
		}
		k := fold(row.Key)
		if seen[t][k] {
			return store.Exists(t.Class, row.Key)
		}
		seen[t][k] = true
		byTable[t] = append(byTable[t], row)
		versions[t] = append(versions[t], rec.Version)
	}
	for _, t := range order {
		if err := x.mustBeNew(ctx, t, seen[t]); err != nil {
			return err
		}
	}
	for _, t := range order {
		if err := x.copyRows(ctx, t, byTable[t], versions[t]); err != nil {
			return err
		}
	}
	return nil
}

// mustBeNew checks that no instance of t's class holds one of keys
// (folded). Outcomes: nil; errs.Conflict naming the first key taken;
// another error when the query fails.
func (x *txn) mustBeNew(ctx context.Context, t *table, keys map[string]bool) error {
	folded := make([]string, 0, len(keys))
	for k := range keys {
		folded = append(folded, k)
	}
	var taken string
	err := x.q.QueryRow(ctx, "SELECT "+sqlstore.KeyColumn+" FROM "+t.ident+" WHERE "+foldFunc+"("+sqlstore.KeyColumn+") = ANY($1) LIMIT 1", folded).Scan(&taken)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("restore %s: %w", t.Class.Name, err)
	}
	return store.Exists(t.Class, taken)
}

// copyRows writes rows, instances of t's class at the given versions, and
// their apart values, with COPY.
func (x *txn) copyRows(ctx context.Context, t *table, rows []store.Row, versions []int64) error {
	cols := []string{sqlstore.KeyColumn, sqlstore.VersionColumn}
	for _, p := range t.Cols {
		cols = append(cols, p.Name)
	}
	class := fold(t.Class.Name)
	values := make([][]any, len(rows))
	var apart [][]any
	for i, row := range rows {
		values[i] = append(append(make([]any, 0, len(cols)), row.Key, versions[i]), row.Cols...)
		for _, op := range store.Sets(row.Apart) {
			apart = append(apart, []any{class, fold(row.Key), fold(op.Prop.Name), op.JSON})
		}
	}
	if _, err := x.q.CopyFrom(ctx, pgx.Identifier{t.Class.Name}, cols, pgx.CopyFromRows(values)); err != nil {
		return fmt.Errorf("restore %s: %w", t.Class.Name, err)
	}
	if len(apart) == 0 {
		return nil
	}
	if _, err := x.q.CopyFrom(ctx, pgx.Identifier{"tsprov_apart_values"}, apartColumns, pgx.CopyFromRows(apart)); err != nil {
		return fmt.Errorf("restore apart values of %s: %w", t.Class.Name, err)
	}
	return nil
}

var apartColumns = []string{"class", "key", "property", "value"}

// RestoreCounter implements store.Tx.RestoreCounter.
func (x *txn) RestoreCounter(ctx context.Context, name string, value int64) error {
	if err := x.mustWrite("restore counter"); err != nil {
		return err
	}
	if err := store.CheckRestoreCounter(name, value); err != nil {
		return err
	}
	_, err := x.q.Exec(ctx,
		`INSERT INTO tsprov_counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("restore counter %q: %w", name, err)
	}
	return nil
}

// Counters implements store.ReadTx.Counters.
func (x *txn) Counters(ctx context.Context) (map[string]int64, error) {
	rows, err := x.q.Query(ctx, `SELECT name, value FROM tsprov_counters`)
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	defer rows.Close()
	return sqlstore.ScanCounters(rows)
}

// RestoreEvent implements store.Tx.RestoreEvent in four round trips
// however many events there are: the feed's position is locked and read,
// the events are checked, one COPY writes them and the position moves to
// the last, so later events follow them.
func (x *txn) RestoreEvent(ctx context.Context, evs ...store.Event) error {
	if err := x.mustWrite("restore event"); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	var last int64
	if err := x.q.QueryRow(ctx, `SELECT last FROM tsprov_event_position FOR UPDATE`).Scan(&last); err != nil {
		return fmt.Errorf("restore event %d: %w", evs[0].Seq, err)
	}
	if err := store.CheckRestoreEvents(evs, last); err != nil {
		return err
	}
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		rows[i] = []any{ev.Seq, ev.Time.UnixMicro(), string(ev.Op), ev.Class, ev.Key, ev.Version,
			ev.Method, sqlstore.EventText(ev.Target), sqlstore.EventText(ev.Previous)}
	}
	if _, err := x.q.CopyFrom(ctx, pgx.Identifier{"tsprov_events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("restore events %d to %d: %w", evs[0].Seq, evs[len(evs)-1].Seq, err)
	}
	if _, err := x.q.Exec(ctx, `UPDATE tsprov_event_position SET last = $1`, evs[len(evs)-1].Seq); err != nil {
		return fmt.Errorf("restore events %d to %d: %w", evs[0].Seq, evs[len(evs)-1].Seq, err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// txn is a store.Tx over one SQL transaction: a read transaction on the
// reader pool (Read) or the write transaction (Write).
type txn struct {
	s        *Store
	q        *sql.Tx
	db       *sql.DB // the pool q belongs to: statements are prepared on it
	writable bool
	missed   []string // statements prepared in this transaction, to cache after it

	lastEvent int64 // the feed position of the last change recorded, 0 if none
}

var _ store.Tx = (*txn)(nil)

// table returns the layout of class c. Outcomes: the table; an error of
// kind errs.Invalid when c is nil or is not a storable class of the
// registry the store was opened with.
func (x *txn) table(c *cim.Class) (*table, error) {
	if c == nil {
		return nil, errs.E(errs.Invalid, "sqlite: no class given")
	}
	t, ok := x.s.tables[strings.ToLower(c.Name)]
	if !ok {
		return nil, errs.Target(errs.Invalid, c.Name, "sqlite: class %s is not stored (abstract, embedded, keyless or unknown)", c.Name)
	}
	return t, nil
}

// mustWrite guards the writing methods against a read transaction.
func (x *txn) mustWrite(op string) error {
	if !x.writable {
		return errs.E(errs.Invalid, "sqlite: %s in a read-only transaction", op)
	}
	return nil
}

// Get implements store.ReadTx.Get: one query for the row and its non-lazy
// large values, and with lazy one more for the lazy values.
func (x *txn) Get(ctx context.Context, c *cim.Class, key string, lazy bool) (*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	args := append(append([]any{}, t.selectArgs...), key)
	recs, keys, err := x.query(ctx, t, t.selectSQL+" WHERE t."+keyColumn+" = ?", args)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errs.E(errs.NotFound, "%s %q not found", t.class.Name, key)
	}
	rec := recs[0]
	if lazy {
		if err := x.fillApart(ctx, t, keys[0], rec.Instance); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// Count implements store.ReadTx.Count.
func (x *txn) Count(ctx context.Context, c *cim.Class, filter query.Expr) (int64, error) {
	t, err := x.table(c)
	if err != nil {
		return 0, err
	}
	where, args, err := t.where(filter)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := x.queryRow(ctx, t.countSQL+" AS t"+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", t.class.Name, err)
	}
	return n, nil
}

// query runs a select built on t.selectSQL and reads its rows. Outcomes:
// the records and their stored keys (possibly none); an error when the
// query fails or a stored value does not read back.
func (x *txn) query(ctx context.Context, t *table, stmt string, args []any) ([]*store.Record, []string, error) {
	rows, err := x.queryRows(ctx, stmt, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", t.class.Name, err)
	}
	defer rows.Close()
	var recs []*store.Record
	var keys []string
	n := 2 + len(t.cols) + len(t.large)
	raw := make([]any, n)
	dest := make([]any, n)
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", t.class.Name, err)
		}
		key, _ := raw[0].(string)
		version, _ := raw[1].(int64)
		in := cim.NewInstance(t.class)
		for i, p := range t.cols {
			v, err := x.s.fromColumn(t.class, p, raw[2+i])
			if err != nil {
				return nil, nil, err
			}
			in.Values[p.Name] = v
		}
		for i, p := range t.large {
			var v any
			if text, ok := raw[2+len(t.cols)+i].(string); ok {
				if v, err = x.s.fromJSON(t.class, p, text); err != nil {
					return nil, nil, err
				}
			}
			in.Values[p.Name] = v
		}
		recs = append(recs, &store.Record{Instance: in, Version: version})
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", t.class.Name, err)
	}
	return recs, keys, nil
}

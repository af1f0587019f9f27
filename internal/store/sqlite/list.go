package sqlite

import (
	"context"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// List implements store.ReadTx.List: one query for the page, rows and
// non-lazy large values together.
func (x *txn) List(ctx context.Context, c *cim.Class, opts store.ListOptions) ([]*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	props, err := store.CheckList(t.Class, opts)
	if err != nil {
		return nil, err
	}
	order := t.orderBy(opts.OrderBy, props)
	limit := int64(opts.Limit)
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	where, whereArgs, err := t.where(opts.Filter)
	if err != nil {
		return nil, err
	}
	args := append(append(append([]any{}, t.selectArgs...), whereArgs...), limit, int64(opts.Offset))
	recs, _, err := x.query(ctx, t, t.selectSQL+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", args)
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// orderBy returns the ORDER BY list for orders, whose properties
// store.CheckList resolved (props), ending with the key so that the order
// is total. Strings order without regard to case (their columns'
// collation), DateTime values by instant, nulls first ascending and last
// descending.
func (t *table) orderBy(orders []store.Order, props []*cim.Property) string {
	parts := make([]string, 0, len(orders)+1)
	for i, o := range orders {
		p := props[i]
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, "t."+sqlstore.Quote(p.Name)+dir)
	}
	parts = append(parts, "t."+sqlstore.KeyColumn+" ASC")
	return strings.Join(parts, ", ")
}

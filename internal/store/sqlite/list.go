package sqlite

import (
	"context"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// List implements store.ReadTx.List: one query for the page, rows and
// non-lazy large values together.
func (x *txn) List(ctx context.Context, c *cim.Class, opts store.ListOptions) ([]*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	order, err := t.orderBy(opts.OrderBy)
	if err != nil {
		return nil, err
	}
	if opts.Offset < 0 {
		return nil, errs.Target(errs.Invalid, "Offset", "list %s: offset %d is negative", t.class.Name, opts.Offset)
	}
	if opts.Limit < 0 {
		return nil, errs.Target(errs.Invalid, "Limit", "list %s: limit %d is negative", t.class.Name, opts.Limit)
	}
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

// orderBy returns the ORDER BY list for orders, ending with the key so
// that the order is total. Strings order without regard to case (their
// columns' collation), DateTime values by instant, nulls first ascending
// and last descending. Outcomes: the list; an error of kind errs.Invalid
// naming the property when the class has no such property or it is not
// store.Sortable.
func (t *table) orderBy(orders []store.Order) (string, error) {
	parts := make([]string, 0, len(orders)+1)
	for _, o := range orders {
		p, ok := t.class.Property(o.Property)
		if !ok {
			return "", errs.Target(errs.Invalid, o.Property, "order by %s: class %s has no such property", o.Property, t.class.Name)
		}
		if !store.Sortable(p) {
			return "", errs.Target(errs.Invalid, p.Name, "order by %s: only scalar properties that are neither lazy nor large can order a list", p.Name)
		}
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, "t."+quote(p.Name)+dir)
	}
	parts = append(parts, "t."+keyColumn+" ASC")
	return strings.Join(parts, ", "), nil
}

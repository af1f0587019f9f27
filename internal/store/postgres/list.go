package postgres

import (
	"context"
	"fmt"
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
	where, args, err := t.where(opts.Filter)
	if err != nil {
		return nil, err
	}
	var limit any // null: no limit
	if opts.Limit > 0 {
		limit = int64(opts.Limit)
	}
	page := fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)+1, len(args)+2)
	args = append(args, limit, int64(opts.Offset))
	return x.query(ctx, t, t.selectSQL+where+" ORDER BY "+order+page, args)
}

// orderBy returns the ORDER BY list for orders, ending with the key so
// that the order is total. Strings order by their folded form (fold.go),
// byte by byte, as on the SQLite store; DateTime
// values by instant (their text form sorts so); nulls first ascending and
// last descending. Outcomes: the list; an error of kind errs.Invalid
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
		dir := " ASC NULLS FIRST"
		if o.Desc {
			dir = " DESC NULLS LAST"
		}
		parts = append(parts, orderKey(p, "t."+quote(p.Name))+dir)
	}
	parts = append(parts, foldFunc+"(t."+keyColumn+") ASC")
	return strings.Join(parts, ", "), nil
}

// orderKey is what a column of property p orders by: strings folded
// (foldSQL), other values as they are.
func orderKey(p *cim.Property, col string) string {
	if p.Type.Kind == cim.String || p.Type.Kind == cim.Char16 {
		return foldSQL(col)
	}
	return col
}

package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// writeApart applies ops to the apart values of key (folded), all in one
// round trip (a pgx batch).
func (x *txn) writeApart(ctx context.Context, t *table, key string, ops []store.ApartOp) error {
	if len(ops) == 0 {
		return nil
	}
	class := fold(t.Class.Name)
	var b pgx.Batch
	for _, op := range ops {
		if op.Erase {
			b.Queue(`DELETE FROM tsprov_apart_values WHERE class = $1 AND key = $2 AND property = $3`,
				class, key, fold(op.Prop.Name))
			continue
		}
		b.Queue(`INSERT INTO tsprov_apart_values (class, key, property, value) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (class, key, property) DO UPDATE SET value = excluded.value`,
			class, key, fold(op.Prop.Name), op.JSON)
	}
	res := x.q.SendBatch(ctx, &b)
	for _, op := range ops {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return fmt.Errorf("write %s.%s of %q: %w", t.Class.Name, op.Prop.Name, key, err)
		}
	}
	if err := res.Close(); err != nil {
		return fmt.Errorf("write apart values of %s %q: %w", t.Class.Name, key, err)
	}
	return nil
}

// deleteApart removes every apart value of key (folded).
func (x *txn) deleteApart(ctx context.Context, t *table, key string) error {
	_, err := x.q.Exec(ctx, `DELETE FROM tsprov_apart_values WHERE class = $1 AND key = $2`, fold(t.Class.Name), key)
	if err != nil {
		return fmt.Errorf("delete apart values of %s %q: %w", t.Class.Name, key, err)
	}
	return nil
}

// fillApart sets every apart property of in from the stored values of key
// (folded; nil where none is stored), in one query. Stored values of
// properties the schema no longer declares are ignored.
func (x *txn) fillApart(ctx context.Context, t *table, key string, in *cim.Instance) error {
	if len(t.Apart) == 0 {
		return nil
	}
	rows, err := x.q.Query(ctx,
		`SELECT property, value FROM tsprov_apart_values WHERE class = $1 AND key = $2`, fold(t.Class.Name), key)
	if err != nil {
		return fmt.Errorf("read apart values of %s %q: %w", t.Class.Name, key, err)
	}
	defer rows.Close()
	return sqlstore.ScanApart(rows, x.s.reg, &t.Layout, key, in, fold)
}

package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
)

// apartOp is one change to a value stored apart: set it to json, or, when
// erase is true, remove it.
type apartOp struct {
	prop  *cim.Property
	json  string
	erase bool
}

// apartValues encodes the apart properties present in in.Values: a value
// becomes a set, nil an erase; an absent property gives no op (Update
// keeps its stored value). Outcomes: the ops in class order; an error of
// kind errs.Invalid naming the property when a value is of the wrong Go
// type.
func apartValues(t *table, in *cim.Instance) ([]apartOp, error) {
	var ops []apartOp
	for _, p := range t.apart {
		v, ok := in.Values[p.Name]
		if !ok {
			continue
		}
		if v == nil {
			ops = append(ops, apartOp{prop: p, erase: true})
			continue
		}
		text, err := toJSON(t.class, p, v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, apartOp{prop: p, json: text})
	}
	return ops, nil
}

// writeApart applies ops to the apart values of key (folded), all in one
// round trip (a pgx batch).
func (x *txn) writeApart(ctx context.Context, t *table, key string, ops []apartOp) error {
	if len(ops) == 0 {
		return nil
	}
	class := fold(t.class.Name)
	var b pgx.Batch
	for _, op := range ops {
		if op.erase {
			b.Queue(`DELETE FROM tsprov_apart_values WHERE class = $1 AND key = $2 AND property = $3`,
				class, key, fold(op.prop.Name))
			continue
		}
		b.Queue(`INSERT INTO tsprov_apart_values (class, key, property, value) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (class, key, property) DO UPDATE SET value = excluded.value`,
			class, key, fold(op.prop.Name), op.json)
	}
	res := x.q.SendBatch(ctx, &b)
	for _, op := range ops {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return fmt.Errorf("write %s.%s of %q: %w", t.class.Name, op.prop.Name, key, err)
		}
	}
	if err := res.Close(); err != nil {
		return fmt.Errorf("write apart values of %s %q: %w", t.class.Name, key, err)
	}
	return nil
}

// deleteApart removes every apart value of key (folded).
func (x *txn) deleteApart(ctx context.Context, t *table, key string) error {
	_, err := x.q.Exec(ctx, `DELETE FROM tsprov_apart_values WHERE class = $1 AND key = $2`, fold(t.class.Name), key)
	if err != nil {
		return fmt.Errorf("delete apart values of %s %q: %w", t.class.Name, key, err)
	}
	return nil
}

// fillApart sets every apart property of in from the stored values of key
// (folded; nil where none is stored), in one query. Stored values of
// properties the schema no longer declares are ignored.
func (x *txn) fillApart(ctx context.Context, t *table, key string, in *cim.Instance) error {
	byName := make(map[string]*cim.Property, len(t.apart))
	for _, p := range t.apart {
		byName[fold(p.Name)] = p
		in.Values[p.Name] = nil
	}
	if len(byName) == 0 {
		return nil
	}
	rows, err := x.q.Query(ctx,
		`SELECT property, value FROM tsprov_apart_values WHERE class = $1 AND key = $2`, fold(t.class.Name), key)
	if err != nil {
		return fmt.Errorf("read apart values of %s %q: %w", t.class.Name, key, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			return fmt.Errorf("read apart values of %s %q: %w", t.class.Name, key, err)
		}
		p, ok := byName[name]
		if !ok {
			continue
		}
		v, err := x.s.fromJSON(t.class, p, text)
		if err != nil {
			return err
		}
		in.Values[p.Name] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read apart values of %s %q: %w", t.class.Name, key, err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// AddRevision implements store.Tx.AddRevision. The one writer connection
// serialises writers, so the next number read is the one stored.
func (x *txn) AddRevision(ctx context.Context, rev *store.Revision) error {
	if err := x.mustWrite("add revision"); err != nil {
		return err
	}
	if err := store.CheckRevision(rev); err != nil {
		return err
	}
	data, err := store.EncodeRevision(rev.Instance)
	if err != nil {
		return err
	}
	c := rev.Instance.Class
	rev.Class, rev.Key, rev.Time, rev.Size = c.Name, rev.Instance.Key(), time.Now().UTC(), int64(len(data))
	err = x.queryRow(ctx, `INSERT INTO tsprov_revisions (class, key, rev, at, op, method, user_name, server, comment, restored_from, size, instance)
SELECT ?, ?, COALESCE(MAX(rev), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM tsprov_revisions WHERE class = ? AND key = ? RETURNING rev`,
		rev.Class, rev.Key, rev.Time.UnixMicro(), string(rev.Op), rev.Method, rev.User, rev.Server, rev.Comment,
		rev.RestoredFrom, rev.Size, data, rev.Class, rev.Key).Scan(&rev.Rev)
	if err != nil {
		return fmt.Errorf("add a revision of %s %q: %w", rev.Class, rev.Key, err)
	}
	return nil
}

// TrimRevisions implements store.Tx.TrimRevisions.
func (x *txn) TrimRevisions(ctx context.Context, c *cim.Class, key string, keep int64) (int64, error) {
	if err := x.mustWrite("trim revisions"); err != nil {
		return 0, err
	}
	if keep < 1 {
		return 0, nil
	}
	res, err := x.exec(ctx, `DELETE FROM tsprov_revisions WHERE class = ? AND key = ? AND rev <= (SELECT MAX(rev) FROM tsprov_revisions WHERE class = ? AND key = ?) - ?`,
		c.Name, key, c.Name, key, keep)
	if err != nil {
		return 0, fmt.Errorf("trim the revisions of %s %q: %w", c.Name, key, err)
	}
	return res.RowsAffected()
}

// PurgeRevisions implements store.Tx.PurgeRevisions.
func (x *txn) PurgeRevisions(ctx context.Context, c *cim.Class, key string) (int64, error) {
	if err := x.mustWrite("purge revisions"); err != nil {
		return 0, err
	}
	res, err := x.exec(ctx, `DELETE FROM tsprov_revisions WHERE class = ? AND key = ?`, c.Name, key)
	if err != nil {
		return 0, fmt.Errorf("purge the revisions of %s %q: %w", c.Name, key, err)
	}
	return res.RowsAffected()
}

// Revisions implements store.ReadTx.Revisions.
func (x *txn) Revisions(ctx context.Context, c *cim.Class, key string, after int64, limit int) ([]store.Revision, error) {
	limit, err := store.RevisionsLimit(after, limit)
	if err != nil {
		return nil, err
	}
	if store.CheckKey(c, key) != nil {
		return nil, nil
	}
	rows, err := x.queryRows(ctx, `SELECT `+sqlstore.RevisionColumns+` FROM tsprov_revisions WHERE class = ? AND key = ? AND rev > ? ORDER BY rev LIMIT ?`,
		c.Name, key, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read the revisions of %s %q: %w", c.Name, key, err)
	}
	defer rows.Close()
	var out []store.Revision
	for rows.Next() {
		r, err := sqlstore.ScanRevision(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("read the revisions of %s %q: %w", c.Name, key, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Revision implements store.ReadTx.Revision.
func (x *txn) Revision(ctx context.Context, c *cim.Class, key string, rev int64) (*store.Revision, error) {
	if store.CheckKey(c, key) != nil {
		return nil, store.RevisionNotFound(c, key, rev)
	}
	row := x.queryRow(ctx, `SELECT `+sqlstore.RevisionColumns+`, instance FROM tsprov_revisions WHERE class = ? AND key = ? AND rev = ?`, c.Name, key, rev)
	return sqlstore.ReadRevision(row, sql.ErrNoRows, x.s.reg, c, key, rev)
}

// ScanRevisions implements store.ReadTx.ScanRevisions.
func (x *txn) ScanRevisions(ctx context.Context, c *cim.Class, after *store.RevisionPosition, limit int) ([]store.Revision, error) {
	if limit < 1 {
		return nil, errs.Target(errs.Invalid, "limit", "scan revisions: limit %d is not above 0", limit)
	}
	q := `SELECT ` + sqlstore.RevisionColumns + `, instance FROM tsprov_revisions WHERE class = ?`
	args := []any{c.Name}
	if after != nil {
		q += ` AND (key > ? OR (key = ? AND rev > ?))`
		args = append(args, after.Key, after.Key, after.Rev)
	}
	rows, err := x.queryRows(ctx, q+` ORDER BY key, rev LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("scan the revisions of %s: %w", c.Name, err)
	}
	defer rows.Close()
	return sqlstore.ScanRevisions(rows, x.s.reg, c)
}

// RestoreRevisions implements store.Tx.RestoreRevisions.
func (x *txn) RestoreRevisions(ctx context.Context, revs ...*store.Revision) error {
	if err := x.mustWrite("restore revisions"); err != nil {
		return err
	}
	data, err := sqlstore.EncodeRestored(revs)
	if err != nil {
		return err
	}
	for i, r := range revs {
		var n int
		if err := x.queryRow(ctx, `SELECT COUNT(*) FROM tsprov_revisions WHERE class = ? AND key = ? AND rev = ?`, r.Class, r.Key, r.Rev).Scan(&n); err != nil {
			return fmt.Errorf("restore revisions: %w", err)
		}
		if n > 0 {
			return errs.E(errs.Conflict, "%s %q already has revision %d", r.Class, r.Key, r.Rev)
		}
		if _, err := x.exec(ctx, `INSERT INTO tsprov_revisions (class, key, rev, at, op, method, user_name, server, comment, restored_from, size, instance)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Class, r.Key, r.Rev, r.Time.UnixMicro(), string(r.Op), r.Method, r.User, r.Server, r.Comment,
			r.RestoredFrom, r.Size, data[i]); err != nil {
			return fmt.Errorf("restore revision %d of %s %q: %w", r.Rev, r.Class, r.Key, err)
		}
	}
	return nil
}

// ReplaceRevision implements store.Tx.ReplaceRevision.
func (x *txn) ReplaceRevision(ctx context.Context, rev *store.Revision) error {
	if err := x.mustWrite("replace revision"); err != nil {
		return err
	}
	data, err := sqlstore.EncodeRestored([]*store.Revision{rev})
	if err != nil {
		return err
	}
	res, err := x.exec(ctx, `UPDATE tsprov_revisions SET instance = ?, size = ? WHERE class = ? AND key = ? AND rev = ?`, data[0], rev.Size, rev.Class, rev.Key, rev.Rev)
	if err != nil {
		return fmt.Errorf("replace revision %d of %s %q: %w", rev.Rev, rev.Class, rev.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return store.RevisionNotFound(rev.Instance.Class, rev.Key, rev.Rev)
	}
	return nil
}

package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// RevisionColumns are the columns of tsprov_revisions ScanRevision reads,
// without the instance.
const RevisionColumns = `class, key, rev, at, op, method, user_name, server, comment, restored_from, size`

// RevisionInstanceColumns are RevisionColumns, then the instance's stored
// form and the number of its values kept in tsprov_revision_values
// (shared.go), as ReadRevision and ScanRevisions read them.
const RevisionInstanceColumns = RevisionColumns + `, instance, apart`

// Scanner is a row to scan (database/sql and pgx rows both are).
type Scanner interface{ Scan(dest ...any) error }

// ScanRevision reads RevisionColumns, then, when data is not nil, the
// instance's stored form into it and the number of its values kept apart
// into apart (RevisionInstanceColumns).
func ScanRevision(row Scanner, data *string, apart *int64) (store.Revision, error) {
	var r store.Revision
	var at int64
	var op string
	dest := []any{&r.Class, &r.Key, &r.Rev, &at, &op, &r.Method, &r.User, &r.Server, &r.Comment, &r.RestoredFrom, &r.Size}
	if data != nil {
		dest = append(dest, data, apart)
	}
	if err := row.Scan(dest...); err != nil {
		return store.Revision{}, err
	}
	r.Time, r.Op = time.UnixMicro(at).UTC(), store.EventOp(op)
	return r, nil
}

// ReadRevision reads one revision: its row (RevisionInstanceColumns)
// decoded; noRows is the driver's error for a missing row; fill reads the
// values kept apart, when the revision has any (FillRevision).
// Outcomes: the revision; the NotFound error of store.RevisionNotFound
// when the row is absent; another error.
func ReadRevision(row Scanner, noRows error, reg *cim.Registry, c *cim.Class, key string, rev int64, fill func(*store.Revision) error) (*store.Revision, error) {
	var data string
	var apart int64
	r, err := ScanRevision(row, &data, &apart)
	if errors.Is(err, noRows) {
		return nil, store.RevisionNotFound(c, key, rev)
	}
	if err != nil {
		return nil, fmt.Errorf("read revision %d of %s %q: %w", rev, c.Name, key, err)
	}
	if r.Instance, err = store.DecodeRevision(reg, c, []byte(data)); err != nil {
		return nil, err
	}
	if apart > 0 {
		if err := fill(&r); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// ScanRevisions reads the rows of a scan (RevisionInstanceColumns), each
// revision with its instance decoded, and closes them (closeRows); then
// fill reads the values kept apart of those that have any (FillRevision).
func ScanRevisions(rows Rows, closeRows func(), reg *cim.Registry, c *cim.Class, fill func(*store.Revision) error) ([]store.Revision, error) {
	var out []store.Revision
	var apart []bool
	for rows.Next() {
		var data string
		var n int64
		r, err := ScanRevision(rows, &data, &n)
		if err != nil {
			closeRows()
			return nil, fmt.Errorf("scan the revisions of %s: %w", c.Name, err)
		}
		if r.Instance, err = store.DecodeRevision(reg, c, []byte(data)); err != nil {
			closeRows()
			return nil, err
		}
		out = append(out, r)
		apart = append(apart, n > 0)
	}
	err := rows.Err()
	closeRows()
	if err != nil {
		return nil, err
	}
	for i := range out {
		if apart[i] {
			if err := fill(&out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// EncodeRestored checks the revisions RestoreRevisions is given, sets
// their Class, Key and Size, and returns their stored forms, before
// anything is written.
func EncodeRestored(revs []*store.Revision) ([]string, error) {
	out := make([]string, len(revs))
	seen := map[string]bool{}
	for i, r := range revs {
		if err := store.CheckRestoredRevision(r); err != nil {
			return nil, err
		}
		data, err := store.EncodeRevision(r.Instance)
		if err != nil {
			return nil, err
		}
		r.Class, r.Key, r.Size = r.Instance.Class.Name, r.Instance.Key(), int64(len(data))
		k := fmt.Sprintf("%s\x00%s\x00%d", r.Class, query.Fold(r.Key), r.Rev)
		if seen[k] {
			return nil, errs.E(errs.Conflict, "revision %d of %s %q is given twice", r.Rev, r.Class, r.Key)
		}
		seen[k] = true
		out[i] = data
	}
	return out, nil
}

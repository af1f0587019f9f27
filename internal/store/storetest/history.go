package storetest

import (
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// addRevision stores in and adds its revision in one Write (op Created
// for a new key, else Modified) and returns the revision.
func (e *env) addRevision(t *testing.T, in *cim.Instance, user, comment string) store.Revision {
	t.Helper()
	var rev store.Revision
	e.write(t, func(tx store.Tx) error {
		op := store.Modified
		rec := &store.Record{Instance: in}
		if _, err := tx.Get(t.Context(), in.Class, in.Key(), false); errs.Is(err, errs.NotFound) {
			op = store.Created
			if err := tx.Insert(t.Context(), rec); err != nil {
				return err
			}
		} else if err := tx.Update(t.Context(), rec); err != nil {
			return err
		}
		rev = store.Revision{Instance: in, Op: op, User: user, Server: "srv1", Comment: comment}
		return tx.AddRevision(t.Context(), &rev)
	})
	return rev
}

func (e *env) revisions(t *testing.T, key string, after int64, limit int) ([]store.Revision, error) {
	t.Helper()
	var out []store.Revision
	var err error
	if rerr := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		out, err = tx.Revisions(t.Context(), e.pkg, key, after, limit)
		return nil
	}); rerr != nil {
		t.Fatalf("Read: %v", rerr)
	}
	return out, err
}

func (e *env) revision(t *testing.T, key string, rev int64) (*store.Revision, error) {
	t.Helper()
	var out *store.Revision
	var err error
	if rerr := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		out, err = tx.Revision(t.Context(), e.pkg, key, rev)
		return nil
	}); rerr != nil {
		t.Fatalf("Read: %v", rerr)
	}
	return out, err
}

// testHistory: revisions are numbered per instance from 1, listed oldest
// first without their instance, and read back whole (lazy, large and
// every kind of value) by number, the key without regard to case; they
// survive a reopen.
func testHistory(t *testing.T, e *env) {
	full := e.fullPkg(t, "PS100001")
	first := e.addRevision(t, full, "alice", "first")
	second := full.Clone()
	second.Set("Name", "second")
	second.Set("Sequence", `<sequence version="3.10"/>`)
	e.addRevision(t, second, "bob", "")
	other := e.addRevision(t, e.newPkg("PS100002", "other"), "carol", "")
	if first.Rev != 1 || other.Rev != 1 {
		t.Errorf("first numbers: %d and %d, want 1 and 1", first.Rev, other.Rev)
	}
	if first.Key != "PS100001" || first.Class != e.pkg.Name || first.Time.IsZero() || first.Size <= 0 {
		t.Errorf("AddRevision left %+v", first)
	}
	e.reopen(t)
	list, err := e.revisions(t, "ps100001", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Rev != 1 || list[1].Rev != 2 {
		t.Fatalf("Revisions: %+v", list)
	}
	for i, want := range []struct{ user, comment string }{{"alice", "first"}, {"bob", ""}} {
		r := list[i]
		if r.User != want.user || r.Comment != want.comment || r.Server != "srv1" || r.Instance != nil || r.Key != "PS100001" {
			t.Errorf("revision %d: %+v", i+1, r)
		}
	}
	if list[0].Op != store.Created || list[1].Op != store.Modified {
		t.Errorf("ops %s, %s", list[0].Op, list[1].Op)
	}
	if list[1].Time.Before(list[0].Time) {
		t.Errorf("times go back: %v then %v", list[0].Time, list[1].Time)
	}
	for _, tc := range []struct {
		rev  int64
		want *cim.Instance
	}{{1, full}, {2, second}} {
		r, err := e.revision(t, "Ps100001", tc.rev)
		if err != nil {
			t.Fatalf("Revision %d: %v", tc.rev, err)
		}
		for _, p := range e.pkg.Properties {
			if !cim.Equal(r.Instance.Values[p.Name], tc.want.Values[p.Name]) {
				t.Errorf("revision %d: %s = %#v, want %#v", tc.rev, p.Name, r.Instance.Values[p.Name], tc.want.Values[p.Name])
			}
		}
	}
	_, err = e.revision(t, "PS100001", 3)
	wantKind(t, "Revision 3", err, errs.NotFound, "")
	if none, err := e.revisions(t, "PS199999", 0, 0); err != nil || len(none) != 0 {
		t.Errorf("Revisions of an unknown key: %v, %v", none, err)
	}
}

// testHistoryPages: after and limit page through the revisions; negative
// arguments are errs.Invalid naming them.
func testHistoryPages(t *testing.T, e *env) {
	in := e.newPkg("PS100001", "v")
	for i := 0; i < 7; i++ {
		in.Set("Name", string(rune('a'+i)))
		e.addRevision(t, in, "u", "")
	}
	var got []int64
	after := int64(0)
	for {
		page, err := e.revisions(t, "PS100001", after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d", len(page))
		}
		for _, r := range page {
			got = append(got, r.Rev)
		}
		after = page[len(page)-1].Rev
	}
	if len(got) != 7 || got[0] != 1 || got[6] != 7 {
		t.Errorf("pages gave %v", got)
	}
	_, err := e.revisions(t, "PS100001", -1, 0)
	wantKind(t, "after -1", err, errs.Invalid, "after")
	_, err = e.revisions(t, "PS100001", 0, -1)
	wantKind(t, "limit -1", err, errs.Invalid, "limit")
}

// testHistoryTransactions: a revision commits with its change; a Write
// that fails keeps neither; a class without History is refused.
func testHistoryTransactions(t *testing.T, e *env) {
	in := e.newPkg("PS100001", "kept")
	e.addRevision(t, in, "u", "")
	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		next := in.Clone()
		next.Set("Name", "lost")
		if err := tx.Update(t.Context(), &store.Record{Instance: next}); err != nil {
			return err
		}
		if err := tx.AddRevision(t.Context(), &store.Revision{Instance: next, Op: store.Modified}); err != nil {
			return err
		}
		return errSentinel
	})
	if err != errSentinel {
		t.Fatalf("Write: %v", err)
	}
	if list, _ := e.revisions(t, "PS100001", 0, 0); len(list) != 1 {
		t.Errorf("after a failed Write: %d revisions, want 1", len(list))
	}
	if got := e.get(t, "PS100001", false).Instance.String("Name"); got != "kept" {
		t.Errorf("Name %q", got)
	}
	site, ok := e.reg.Class("SMS_Site")
	if !ok {
		t.Skip("no SMS_Site class")
	}
	err = e.s.Write(t.Context(), func(tx store.Tx) error {
		s := cim.NewInstance(site)
		s.Set("SiteCode", "PS1")
		return tx.AddRevision(t.Context(), &store.Revision{Instance: s, Op: store.Created})
	})
	wantKind(t, "AddRevision of SMS_Site", err, errs.Invalid, "")
	err = e.s.Write(t.Context(), func(tx store.Tx) error {
		return tx.AddRevision(t.Context(), &store.Revision{Instance: in, Op: "rename"})
	})
	wantKind(t, "AddRevision with op rename", err, errs.Invalid, "")
}

// testHistoryRetention: revisions outlive the instance; TrimRevisions
// keeps the newest and numbering goes on; PurgeRevisions removes them all.
func testHistoryRetention(t *testing.T, e *env) {
	in := e.newPkg("PS100001", "v")
	for i := 0; i < 5; i++ {
		e.addRevision(t, in, "u", "")
	}
	e.write(t, func(tx store.Tx) error {
		if err := tx.Delete(t.Context(), e.pkg, "PS100001"); err != nil {
			return err
		}
		return tx.AddRevision(t.Context(), &store.Revision{Instance: in, Op: store.Deleted})
	})
	if list, _ := e.revisions(t, "PS100001", 0, 0); len(list) != 6 || list[5].Op != store.Deleted {
		t.Fatalf("after Delete: %+v", list)
	}
	var removed int64
	e.write(t, func(tx store.Tx) error {
		var err error
		removed, err = tx.TrimRevisions(t.Context(), e.pkg, "ps100001", 2)
		return err
	})
	list, _ := e.revisions(t, "PS100001", 0, 0)
	if removed != 4 || len(list) != 2 || list[0].Rev != 5 || list[1].Rev != 6 {
		t.Errorf("TrimRevisions(2) removed %d, left %+v", removed, list)
	}
	if r := e.addRevision(t, in, "u", ""); r.Rev != 7 {
		t.Errorf("after a trim the next revision is %d, want 7", r.Rev)
	}
	e.write(t, func(tx store.Tx) error {
		var err error
		removed, err = tx.PurgeRevisions(t.Context(), e.pkg, "PS100001")
		return err
	})
	if list, _ := e.revisions(t, "PS100001", 0, 0); removed != 3 || len(list) != 0 {
		t.Errorf("PurgeRevisions removed %d, left %d", removed, len(list))
	}
}

// testHistoryScanRestore: ScanRevisions reads every history of a class,
// deleted instances' too, by key without regard to case and then number,
// page by page; RestoreRevisions puts revisions back as they were and
// refuses a number the instance has.
func testHistoryScanRestore(t *testing.T, e *env) {
	b := e.newPkg("PS100002", "b")
	e.addRevision(t, b, "u", "b1")
	a := e.newPkg("ps100001", "a")
	e.addRevision(t, a, "u", "a1")
	e.addRevision(t, b, "u", "b2")
	e.addRevision(t, a, "v", "a2")
	e.write(t, func(tx store.Tx) error { return tx.Delete(t.Context(), e.pkg, "PS100002") })
	var all []store.Revision
	var after *store.RevisionPosition
	for pages := 0; ; pages++ {
		var page []store.Revision
		err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
			var err error
			page, err = tx.ScanRevisions(t.Context(), e.pkg, after, 3)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || pages > 5 {
			break
		}
		all = append(all, page...)
		last := page[len(page)-1]
		after = &store.RevisionPosition{Key: last.Key, Rev: last.Rev}
	}
	var got []string
	for _, r := range all {
		got = append(got, r.Comment)
		if r.Instance == nil || r.Instance.String("Name") != r.Comment[:1] {
			t.Errorf("revision %s %d: instance %v", r.Key, r.Rev, r.Instance)
		}
	}
	if strings.Join(got, ",") != "a1,a2,b1,b2" {
		t.Errorf("ScanRevisions order: %v, want a1,a2,b1,b2", got)
	}
	err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		_, err := tx.ScanRevisions(t.Context(), e.pkg, nil, 0)
		return err
	})
	wantKind(t, "ScanRevisions limit 0", err, errs.Invalid, "limit")

	e.write(t, func(tx store.Tx) error {
		for _, k := range []string{"PS100001", "PS100002"} {
			if _, err := tx.PurgeRevisions(t.Context(), e.pkg, k); err != nil {
				return err
			}
		}
		restored := make([]*store.Revision, len(all))
		for i := range all {
			restored[i] = &all[i]
		}
		return tx.RestoreRevisions(t.Context(), restored...)
	})
	list, _ := e.revisions(t, "PS100002", 0, 0)
	if len(list) != 2 || list[1].Comment != "b2" || !list[1].Time.Equal(all[3].Time) || list[1].Rev != 2 {
		t.Errorf("restored history of PS100002: %+v", list)
	}
	err = e.s.Write(t.Context(), func(tx store.Tx) error { return tx.RestoreRevisions(t.Context(), &all[0]) })
	wantKind(t, "RestoreRevisions of a number kept", err, errs.Conflict, "")
	re := all[1]
	re.Instance = re.Instance.Clone()
	re.Instance.Set("Description", "resealed")
	e.write(t, func(tx store.Tx) error { return tx.ReplaceRevision(t.Context(), &re) })
	if r, err := e.revision(t, "PS100001", 2); err != nil || r.Instance.String("Description") != "resealed" || r.Comment != "a2" {
		t.Errorf("after ReplaceRevision: %v %+v", err, r)
	}
	re.Rev = 9
	err = e.s.Write(t.Context(), func(tx store.Tx) error { return tx.ReplaceRevision(t.Context(), &re) })
	wantKind(t, "ReplaceRevision of a revision not kept", err, errs.NotFound, "")
	zero := all[0]
	zero.Rev = 0
	err = e.s.Write(t.Context(), func(tx store.Tx) error { return tx.RestoreRevisions(t.Context(), &zero) })
	wantKind(t, "RestoreRevisions of revision 0", err, errs.Invalid, "Rev")
}

// bigSequence is a Sequence value of about n KiB, different for each mark.
func bigSequence(mark string, n int) string {
	return `<sequence version="3.10">` + strings.Repeat(`<step name="`+mark+`" type="SMS_TaskSequence_RunCommandLineAction"/>`, n*1024/70) + `</sequence>`
}

// testHistorySharedValues: a large value that a revision holds unchanged
// from the instance its Write stored reads back as it was after every
// later change of the instance: a replaced value, an erased one, an
// update without a revision, a Write that failed, the deletion, a trim, a
// purge and a re-creation under the same key; a value changed in memory
// between the write and the revision is the revision's own. A revision's
// Size is the length of its whole instance as stored text, wherever its
// values are kept.
func testHistorySharedValues(t *testing.T, e *env) {
	want := map[int64]string{}
	check := func(when string) {
		t.Helper()
		for rev, seq := range want {
			r, err := e.revision(t, "PS100001", rev)
			if err != nil {
				t.Fatalf("%s: Revision %d: %v", when, rev, err)
			}
			if got := r.Instance.String("Sequence"); got != seq {
				t.Errorf("%s: revision %d holds a Sequence of %d bytes (%.40q), want %d (%.40q)", when, rev, len(got), got, len(seq), seq)
			}
		}
	}
	in := e.newPkg("PS100001", "a")
	in.Set("Sequence", bigSequence("one", 64))
	first := e.addRevision(t, in, "u", "")
	want[1] = in.String("Sequence")
	whole, err := store.EncodeRevision(in)
	if err != nil {
		t.Fatal(err)
	}
	if first.Size != int64(len(whole)) {
		t.Errorf("Size of revision 1: %d, want the whole instance's %d", first.Size, len(whole))
	}
	check("created")

	next := in.Clone()
	next.Set("Sequence", bigSequence("two", 64))
	e.addRevision(t, next, "u", "")
	want[2] = next.String("Sequence")
	check("updated")

	// an update without a revision, then one that erases the value
	e.write(t, func(tx store.Tx) error {
		third := next.Clone()
		third.Set("Sequence", bigSequence("three", 20))
		return tx.Update(t.Context(), &store.Record{Instance: third})
	})
	check("updated without a revision")
	erased := next.Clone()
	erased.Set("Sequence", nil)
	e.addRevision(t, erased, "u", "")
	want[3] = ""
	check("erased")

	// a Write that fails keeps the revisions as they were
	err = e.s.Write(t.Context(), func(tx store.Tx) error {
		lost := next.Clone()
		lost.Set("Sequence", bigSequence("lost", 30))
		if err := tx.Update(t.Context(), &store.Record{Instance: lost}); err != nil {
			return err
		}
		if err := tx.AddRevision(t.Context(), &store.Revision{Instance: lost, Op: store.Modified}); err != nil {
			return err
		}
		return errSentinel
	})
	if err != errSentinel {
		t.Fatalf("Write: %v", err)
	}
	check("after a failed Write")

	// a value changed between the write and the revision
	e.write(t, func(tx store.Tx) error {
		changed := next.Clone()
		changed.Set("Sequence", bigSequence("stored", 40))
		if err := tx.Update(t.Context(), &store.Record{Instance: changed}); err != nil {
			return err
		}
		changed.Set("Sequence", bigSequence("recorded", 40))
		want[4] = changed.String("Sequence")
		return tx.AddRevision(t.Context(), &store.Revision{Instance: changed, Op: store.Modified})
	})
	check("changed after its write")
	if got := e.get(t, "PS100001", true).Instance.String("Sequence"); got != bigSequence("stored", 40) {
		t.Errorf("the instance holds a Sequence of %d bytes (%.40q)", len(got), got)
	}

	// shared again, then the deletion and its revision
	fifth := next.Clone()
	fifth.Set("Sequence", bigSequence("five", 64))
	e.addRevision(t, fifth, "u", "")
	want[5] = fifth.String("Sequence")
	e.write(t, func(tx store.Tx) error {
		if err := tx.Delete(t.Context(), e.pkg, "ps100001"); err != nil {
			return err
		}
		return tx.AddRevision(t.Context(), &store.Revision{Instance: fifth, Op: store.Deleted})
	})
	want[6] = fifth.String("Sequence")
	e.reopen(t)
	check("deleted")

	// re-created under the same key, then trimmed
	again := e.newPkg("ps100001", "again")
	again.Set("Sequence", bigSequence("seven", 64))
	if r := e.addRevision(t, again, "u", ""); r.Rev != 7 {
		t.Fatalf("re-created: revision %d, want 7", r.Rev)
	}
	want[7] = again.String("Sequence")
	check("re-created")
	e.write(t, func(tx store.Tx) error {
		_, err := tx.TrimRevisions(t.Context(), e.pkg, "PS100001", 3)
		return err
	})
	for rev := range want {
		if rev < 5 {
			delete(want, rev)
		}
	}
	check("trimmed")
	var all []store.Revision
	if err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		all, err = tx.ScanRevisions(t.Context(), e.pkg, nil, 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("ScanRevisions: %d revisions, want 3", len(all))
	}
	for _, r := range all {
		if got := r.Instance.String("Sequence"); got != want[r.Rev] {
			t.Errorf("ScanRevisions: revision %d holds a Sequence of %d bytes, want %d", r.Rev, len(got), len(want[r.Rev]))
		}
	}

	// purged with the instance deleted, then created again: nothing is left
	// of the old history
	e.write(t, func(tx store.Tx) error {
		if err := tx.Delete(t.Context(), e.pkg, "PS100001"); err != nil {
			return err
		}
		_, err := tx.PurgeRevisions(t.Context(), e.pkg, "PS100001")
		return err
	})
	clear(want)
	if r := e.addRevision(t, again, "u", ""); r.Rev != 1 {
		t.Fatalf("after a purge: revision %d, want 1", r.Rev)
	}
	want[1] = again.String("Sequence")
	check("purged and created again")
}

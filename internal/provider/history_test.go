package provider_test

import (
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
)

// TestRestoreTakesTheWritePath: a restore is an update like any other: a
// SEDO lock another session holds refuses it (and no revision is added);
// the holder restores, and the revision records the restore.
func TestRestoreTakesTheWritePath(t *testing.T) {
	st := openStore(t)
	clock := &testClock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	p := lockServer(t, st, "PS1", clock)
	id := newPackage(t, p, "v1").String("PackageID")
	a, b := session("A"), session("B")
	if err := renameIn(a, p, id, "v2"); err != nil {
		t.Fatal(err)
	}
	requestLock(t, p, a, `SMS_TaskSequencePackage.PackageID="`+id+`"`)
	_, err := p.RestoreRevision(b, "SMS_TaskSequencePackage", id, 1)
	wantLocked(t, "restore by a non-holder", err, "A")
	if revs, _ := p.History(a, "SMS_TaskSequencePackage", id, 0, 0); len(revs) != 2 {
		t.Fatalf("a refused restore left %d revisions, want 2", len(revs))
	}
	obj, err := p.RestoreRevision(a, "SMS_TaskSequencePackage", id, 1)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Instance.String("Name") != "v1" {
		t.Errorf("restored Name %q, want v1", obj.Instance.String("Name"))
	}
	revs, err := p.History(a, "SMS_TaskSequencePackage", id, 0, 0)
	if err != nil || len(revs) != 3 || revs[2].RestoredFrom != 1 || revs[2].Comment != "restore of revision 1" {
		t.Errorf("history after the restore: %v %+v", err, revs)
	}
	if _, err := p.RestoreRevision(a, "SMS_TaskSequencePackage", id, 9); !errs.Is(err, errs.NotFound) {
		t.Errorf("restore of revision 9: %v, want NotFound", err)
	}
	if _, err := p.History(a, "SMS_Site", "PS1", 0, 0); !errs.Is(err, errs.Invalid) {
		t.Errorf("history of a class without history: %v, want Invalid", err)
	}
	if _, err := provider.WithComment(a, string(make([]byte, 3))); err == nil {
		t.Error("a comment with NUL characters is accepted")
	}
}

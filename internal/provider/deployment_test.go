package provider_test

import (
	"context"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// TestCollectionIDsSkipTakenOnes: an id the counter would hand out next
// but that a collection already holds (restored from another store) is
// passed over.
func TestCollectionIDsSkipTakenOnes(t *testing.T) {
	st := openStore(t)
	p := siteServer(t, st, "PS1", "")
	c, err := p.Class("SMS_Collection")
	if err != nil {
		t.Fatal(err)
	}
	restored := cim.NewInstance(c)
	restored.Set("CollectionID", "PS100001")
	restored.Set("Name", "restored")
	if err := st.Write(context.Background(), func(tx store.Tx) error { return tx.Insert(context.Background(), &store.Record{Instance: restored}) }); err != nil {
		t.Fatal(err)
	}
	in := cim.NewInstance(c)
	in.Set("Name", "new")
	obj, err := p.Create(authtest.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if id := obj.Instance.String("CollectionID"); id != "PS100002" {
		t.Fatalf("new collection got %s, want PS100002 (PS100001 is taken)", id)
	}
}

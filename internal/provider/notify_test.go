package provider_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/schema"
)

// listener records the packages it is told about.
type listener struct {
	mu   sync.Mutex
	seen []string
}

func (l *listener) PackageChanged(ctx context.Context, className, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, className+"/"+id)
}

// AddChangeNotification records a notification in the feed and the audit
// trail, wakes the listeners, and changes nothing in the package.
func TestAddChangeNotification(t *testing.T) {
	st := openStore(t)
	reg, _ := schema.Registry()
	l := &listener{}
	p, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: "PS1", Listeners: []provider.ChangeListener{l},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := authtest.Context()
	id := newPackage(t, p, "notify me").String("PackageID")
	before, err := p.Get(ctx, "SMS_TaskSequencePackage", id)
	if err != nil {
		t.Fatal(err)
	}
	page, err := p.Events(ctx, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Invoke(ctx, "SMS_TaskSequencePackage", id, "AddChangeNotification", nil)
	if err != nil || res.ReturnValue != int64(0) {
		t.Fatalf("AddChangeNotification: %v %v", res, err)
	}
	if len(l.seen) != 1 || l.seen[0] != "SMS_TaskSequencePackage/"+id {
		t.Fatalf("listeners woken for %v, want the package once", l.seen)
	}
	after, err := p.Events(ctx, page.Position, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var notes int
	for _, ev := range after.Events {
		if ev.Method == "AddChangeNotification" && ev.Key == id && ev.Class == "SMS_TaskSequencePackage" {
			notes++
		} else if ev.Class == "SMS_TaskSequencePackage" {
			t.Fatalf("unexpected change of the package: %+v", ev)
		}
	}
	if notes != 1 {
		t.Fatalf("%d notifications in the feed, want 1: %+v", notes, after.Events)
	}
	now, _ := p.Get(ctx, "SMS_TaskSequencePackage", id)
	if now.ETag != before.ETag {
		t.Fatalf("the notification changed the package: ETag %s -> %s", before.ETag, now.ETag)
	}
	audit, err := p.ListAudit(ctx, provider.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var audited int
	for _, o := range audit.Objects {
		if o.Instance.String("Action") == "ChangeNotification" && o.Instance.String("ObjectKey") == id {
			audited++
		}
	}
	if audited != 1 {
		t.Fatalf("%d audit records of the notification, want 1", audited)
	}
	if _, err := p.Invoke(ctx, "SMS_TaskSequencePackage", "PS1FFFFF", "AddChangeNotification", nil); err == nil || len(l.seen) != 1 {
		t.Fatalf("a notification for a missing package: %v, listeners %v", err, l.seen)
	}
}

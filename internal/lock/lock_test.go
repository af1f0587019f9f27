package lock

import (
	"testing"
	"time"
)

func TestRequest(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	ann := Owner{User: "CONTOSO\\ann", Context: "c1", Machine: "PC1", Site: "PS1"}
	annElsewhere := Owner{User: "contoso\\ANN", Context: "C1", Machine: "PC9", Site: "PS1"}
	annOtherConsole := Owner{User: "CONTOSO\\ann", Context: "c2", Machine: "PC1", Site: "PS1"}
	bob := Owner{User: "CONTOSO\\bob", Context: "c1", Machine: "PC2", Site: "PS1"}
	held := &Lock{Object: "X", ID: "L1", Holder: ann, Assigned: t0, Touched: t0}
	for _, tc := range []struct {
		name    string
		cur     *Lock
		who     Owner
		at      time.Duration
		want    RequestState
		holder  string // context@machine of the lock to store, "" for none
		renewed bool
	}{
		{"free object", nil, bob, 0, Granted, "c1@PC2", false},
		{"the holder again, from another machine", held, annElsewhere, time.Minute, Granted, "c1@PC9", true},
		{"same user, another console", held, annOtherConsole, time.Minute, DeniedLockAlreadyAssigned, "", false},
		{"another user", held, bob, 29*time.Minute + 59*time.Second, DeniedLockAlreadyAssigned, "", false},
		{"another user after expiry", held, bob, 30 * time.Minute, GrantedLockWasOrphaned, "c1@PC2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Request(tc.cur, "X", tc.who, t0.Add(tc.at), DefaultTTL, func() string { return "NEW" })
			if d.State != tc.want {
				t.Fatalf("state %d, want %d", d.State, tc.want)
			}
			if tc.holder == "" {
				if d.Lock != nil {
					t.Fatalf("a denied request stores a lock: %+v", d.Lock)
				}
				return
			}
			if got := d.Lock.Holder.Context + "@" + d.Lock.Holder.Machine; got != tc.holder {
				t.Fatalf("lock holder %s, want %s", got, tc.holder)
			}
			if !d.Lock.Touched.Equal(t0.Add(tc.at)) {
				t.Fatalf("last activity %v, want the request's time", d.Lock.Touched)
			}
			if tc.renewed && (d.Lock.ID != "L1" || !d.Lock.Assigned.Equal(t0)) {
				t.Fatalf("a renewal keeps the lock's ID and grant time: %+v", d.Lock)
			}
			if !tc.renewed && d.Lock.ID != "NEW" {
				t.Fatalf("a new grant has a new ID: %+v", d.Lock)
			}
		})
	}
}

func TestStateAt(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	l := &Lock{Touched: t0}
	if StateAt(nil, t0, DefaultTTL) != Unassigned || StateAt(l, t0.Add(29*time.Minute), DefaultTTL) != Assigned || StateAt(l, t0.Add(30*time.Minute), DefaultTTL) != TimedOut {
		t.Fatal("LockState: want Unassigned without a lock, Assigned before the timeout, TimedOut from it on")
	}
}

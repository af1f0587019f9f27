package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/client"
)

// TestAcknowledgedCreatesSurviveSIGKILL runs a write storm against a real
// server process, kills it with SIGKILL in the middle, restarts it on the
// same data folder and checks that every create the server acknowledged
// (201) is there, with the name it was given.
func TestAcknowledgedCreatesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	srv := startServerProcess(t, dir)
	c := client.New(srv.url)
	c.Token = srv.token

	type ack struct{ id, name string }
	var (
		mu    sync.Mutex
		acked []ack
		wg    sync.WaitGroup
	)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("storm-%d-%d", w, i)
				e, err := c.Create(ctx, "SMS_TaskSequencePackage", client.Entity{"Name": name})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, ack{e["PackageID"].(string), name})
				mu.Unlock()
			}
		}(w)
	}
	// let the storm run until a good number of writes are acknowledged
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.kill() // SIGKILL, writes in flight
	stop()
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d creates acknowledged before the kill", len(acked))
	}

	again := startServerProcess(t, dir)
	c2 := client.New(again.url)
	c2.Token = again.token
	seen := map[string]bool{}
	for _, a := range acked {
		if seen[a.id] {
			t.Errorf("PackageID %s acknowledged twice", a.id)
		}
		seen[a.id] = true
		e, err := c2.Get(context.Background(), "SMS_TaskSequencePackage", a.id)
		if err != nil {
			t.Errorf("acknowledged %s (%s) lost: %v", a.id, a.name, err)
			continue
		}
		if e["Name"] != a.name {
			t.Errorf("%s: name %v, want %s", a.id, e["Name"], a.name)
		}
	}
	t.Logf("%d acknowledged creates checked after SIGKILL", len(acked))
}

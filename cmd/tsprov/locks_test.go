package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// callAs sends one request with the test token in the lock context ctx on
// machine machine (the ObjectLockContext and MachineName headers).
func callAs(t *testing.T, method, url string, body any, ctx, machine string) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ObjectLockContext", ctx)
	req.Header.Set("MachineName", machine)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &a.body)
	return a
}

// A SEDO lock taken through one server holds on the other server of the
// same database: another lock context's write is refused with 423 naming
// the holder, the holder's write goes through, and after the release the
// other context writes.
func TestLocksHoldAcrossServers(t *testing.T) {
	srv := twoServers(t)
	a, err := call(t, "POST", srv[0].url+pkgPath, map[string]any{"Name": "locked"}, "")
	if err != nil || a.status != http.StatusCreated {
		t.Fatalf("create: %v %v", a, err)
	}
	id := a.body["PackageID"].(string)
	path := `SMS_TaskSequencePackage.PackageID="` + id + `"`
	lockURL := "/AdminService/wmi/SMS_ObjectLock."
	got := callAs(t, "POST", srv[0].url+lockURL+"RequestLock", map[string]any{"ObjectRelPath": path}, "console-1", "ADMIN-PC")
	if got.status != http.StatusOK || got.body["RequestState"] != float64(10) || got.body["LockState"] != float64(1) || got.body["AssignedMachine"] != "ADMIN-PC" {
		t.Fatalf("RequestLock: %d %v", got.status, got.body)
	}
	item := srv[1].url + pkgPath + "('" + id + "')"
	got = callAs(t, "PATCH", item, map[string]any{"Description": "other"}, "console-2", "OTHER-PC")
	if got.status != http.StatusLocked || !strings.Contains(errorMessage(got), "console-1") || !strings.Contains(errorMessage(got), "ADMIN-PC") {
		t.Fatalf("write by another lock context: %d %v, want 423 naming console-1 on ADMIN-PC", got.status, got.body)
	}
	if got = callAs(t, "PATCH", item, map[string]any{"Description": "holder"}, "console-1", "ADMIN-PC"); got.status != http.StatusOK {
		t.Fatalf("write by the holder: %d %v", got.status, got.body)
	}
	if got = callAs(t, "POST", srv[1].url+lockURL+"ReleaseLock", map[string]any{"ObjectRelPath": path}, "console-1", "ADMIN-PC"); got.status != http.StatusOK {
		t.Fatalf("ReleaseLock by the holder: %d %v", got.status, got.body)
	}
	if got = callAs(t, "PATCH", item, map[string]any{"Description": "other"}, "console-2", "OTHER-PC"); got.status != http.StatusOK {
		t.Fatalf("write after the release: %d %v", got.status, got.body)
	}

	// tsprov lock ls shows a lock held through the other server; tsprov
	// lock release frees it (an administrator's force release, audited)
	callAs(t, "POST", srv[0].url+lockURL+"RequestLock", map[string]any{"ObjectRelPath": path}, "console-1", "ADMIN-PC")
	code, out, errOut := runCLI("lock", "ls", "--server="+srv[1].url)
	if code != 0 || !strings.Contains(out, path) || !strings.Contains(out, "console-1") || !strings.Contains(out, "ADMIN-PC") {
		t.Fatalf("lock ls: %d %q %q", code, out, errOut)
	}
	if code, out, errOut = runCLI("lock", "release", "--server="+srv[1].url, path); code != 0 {
		t.Fatalf("lock release: %d %q %q", code, out, errOut)
	}
	if got = callAs(t, "PATCH", item, map[string]any{"Description": "after force"}, "console-2", "OTHER-PC"); got.status != http.StatusOK {
		t.Fatalf("write after the forced release: %d %v", got.status, got.body)
	}
	code, out, _ = runCLI("audit", "--server="+srv[0].url, "--filter", "Action eq 'ForceReleaseLock'", "--output", "json")
	if code != 0 || !strings.Contains(out, "console-1") {
		t.Fatalf("the forced release is not in the audit trail: %q", out)
	}
	if code, _, _ = runCLI("lock", "release", "--server="+srv[1].url, "not a path"); code == 0 {
		t.Fatal("lock release of a malformed path succeeded")
	}
}

// Sessions racing for one free lock through two servers: exactly one is
// granted, every other is denied with the winner named, none fails.
func TestLockRaceAcrossServers(t *testing.T) {
	srv := twoServers(t)
	a, err := call(t, "POST", srv[0].url+pkgPath, map[string]any{"Name": "raced"}, "")
	if err != nil || a.status != http.StatusCreated {
		t.Fatalf("create: %v %v", a, err)
	}
	path := `SMS_TaskSequencePackage.PackageID="` + a.body["PackageID"].(string) + `"`
	const racers = 8
	answers := make(chan answer, racers)
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			answers <- callAs(t, "POST", srv[i%2].url+"/AdminService/wmi/SMS_ObjectLock.RequestLock", map[string]any{"ObjectRelPath": path}, fmt.Sprintf("console-%d", i), "PC")
		}(i)
	}
	wg.Wait()
	close(answers)
	granted, denied := 0, 0
	winners := map[any]bool{}
	for got := range answers {
		if got.status != http.StatusOK {
			t.Fatalf("RequestLock failed: %d %v", got.status, got.body)
		}
		switch got.body["RequestState"] {
		case float64(10):
			granted++
		case float64(20):
			denied++
		default:
			t.Fatalf("RequestState %v", got.body["RequestState"])
		}
		winners[got.body["AssignedObjectLockContext"]] = true
	}
	if granted != 1 || denied != racers-1 || len(winners) != 1 {
		t.Fatalf("%d granted, %d denied, holders named %v: want one holder", granted, denied, winners)
	}
}

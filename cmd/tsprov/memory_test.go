package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// importBudget is the peak resident memory that docs/security.md promises
// for a server (default settings) answering 16 maximum-size ImportSequence
// calls at once.
const importBudget = 256 << 20

// Sixteen ImportSequence calls of a maximum-size (2 MB) task sequence at
// once all succeed (a call refused for a turn is sent again after its
// Retry-After, as the command line does), and the server process's peak
// resident memory (VmHWM, from /proc) stays under the documented budget.
func TestSixteenMaximumImportsStayUnderTheMemoryBudget(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read a process's peak resident memory")
	}
	xml := apitest.BigSequence(t, "../../testdata/ts-corpus/gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml",
		taskseq.MaxSequenceBytes-100_000, taskseq.MaxSequenceBytes)
	body, err := json.Marshal(map[string]string{"SequenceXML": string(xml)})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerProcess(t, t.TempDir(), "--rate-limit", "-1", "--method-calls", "2")
	before := peakRSS(t, srv.cmd.Process.Pid)

	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- importUntilServed(srv, body)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	peak := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("server peak RSS: %d MiB before, %d MiB after 16 parallel imports of %d bytes", before>>20, peak>>20, len(xml))
	if peak > importBudget {
		t.Errorf("peak RSS %d MiB, above the documented budget of %d MiB", peak>>20, importBudget>>20)
	}
}

// importUntilServed posts one ImportSequence, sending it again after the
// Retry-After of a 503, and checks the answer holds the task sequence.
func importUntilServed(srv *serverProcess, body []byte) error {
	for attempt := 0; attempt < 20; attempt++ {
		req, err := http.NewRequest("POST", srv.url+"/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+srv.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			if !bytes.Contains(out, []byte(`"TaskSequence":{"@odata.type":"#AdminService.SMS_TaskSequence"`)) {
				return fmt.Errorf("ImportSequence answered 200 without a task sequence: %.200s", out)
			}
			return nil
		case http.StatusServiceUnavailable:
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil {
				return fmt.Errorf("503 without Retry-After: %.200s", out)
			}
			time.Sleep(time.Duration(secs) * time.Second)
		default:
			return fmt.Errorf("ImportSequence: %d %.300s", resp.StatusCode, out)
		}
	}
	return fmt.Errorf("ImportSequence still refused after 20 attempts")
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/pid/status")
	return 0
}

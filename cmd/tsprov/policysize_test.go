package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTSPolicySize: the size of a corpus sequence's policy with its
// heaviest steps, heaviest first; a sequence whose policy is over 32 MB
// fails naming the limit and still lists what weighs.
func TestTSPolicySize(t *testing.T) {
	file := "../../testdata/ts-corpus/keithga__DeployShared__Source_MDT.8443_SCCM_SCCM_Server.xml"
	code, out, errOut := runCLI("ts", "policy-size", "--top", "4", file)
	if code != 0 || !strings.Contains(out, "task sequence policy of ") || !strings.Contains(out, "56 steps") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3+4 || !strings.HasPrefix(lines[2], "BYTES") {
		t.Fatalf("want 2 lines, a header and 4 steps:\n%s", out)
	}
	prev := int64(1 << 62)
	for _, l := range lines[3:] {
		n, err := strconv.ParseInt(strings.Fields(l)[0], 10, 64)
		if err != nil || n > prev || n <= 0 {
			t.Fatalf("steps not heaviest first:\n%s", out)
		}
		prev = n
	}
	if !strings.Contains(lines[3], "Format and Partition Disk (UEFI)") {
		t.Errorf("heaviest step: %s", lines[3])
	}

	big := filepath.Join(t.TempDir(), "big.xml")
	seq := `<sequence version="3.10"><group name="Apps"><step type="SMS_TaskSequence_RunCommandLineAction" name="Huge script"><action>cmd /c ` +
		strings.Repeat("x", 4_300_000) + `</action></step></group></sequence>`
	if err := os.WriteFile(big, []byte(seq), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI("ts", "policy-size", big)
	if code == 0 || !strings.Contains(errOut, "over the client's limit of 33554432 bytes") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 ||
		!strings.Contains(out, "Apps / Huge script") {
		t.Fatalf("over the budget: exit %d\n%s%s", code, out, errOut)
	}
}

// TestTSPolicySizeOfAPackage reads the sequence of a package on a server.
func TestTSPolicySizeOfAPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	srv := startServerProcess(t, t.TempDir())
	code, out, errOut := runCLI("create", "--server="+srv.url, "Name=Empty")
	if code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	id := strings.TrimSpace(out)
	code, out, errOut = runCLI("ts", "policy-size", "--server="+srv.url, id)
	if code != 0 || !strings.HasPrefix(out, id+": task sequence policy of ") || !strings.Contains(out, "0 steps") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI("ts", "policy-size", "--server="+srv.url, "PS1FFFFF")
	if code == 0 || !strings.Contains(errOut, "PS1FFFFF") {
		t.Fatalf("unknown package: exit %d %s", code, errOut)
	}
}

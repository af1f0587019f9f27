package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/policy"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// BenchmarkGetTsPolicies2MB100Refs: GetTsPolicies of a stored task
// sequence of about 1.9 MB (the steps of a real ConfigMgr export,
// repeated) with 100 steps that each refer to a package of their own,
// through a `tsprov serve` process, in turn with `xmllint --noout` over
// the 101 policies it answered (parsing what tsprov wrote). Besides the
// times and their ratio it reports the answer's size (policy-MB: the
// policies in UTF-8 as sent; ts-policy-MB: the task sequence's policy in
// UTF-16 as a client counts it) and the server's peak resident memory
// over the calls (peak-MiB, idle-MiB before them).
//
//	go test -run '^$' -bench GetTsPolicies2MB100Refs -benchtime 10x ./bench/
func BenchmarkGetTsPolicies2MB100Refs(b *testing.B) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		b.Skip("xmllint not installed (Debian package libxml2-utils)")
	}
	s := startRSSServer(b)
	t := target{url: s.url, token: s.token}
	var ids []string
	for i := 0; i < 100; i++ {
		var e struct{ PackageID string }
		out := t.post(b, "/AdminService/wmi/SMS_Package", map[string]any{"Name": fmt.Sprintf("Package %03d", i), "PkgSourcePath": b.TempDir()}, http.StatusCreated)
		if err := json.Unmarshal(out, &e); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, e.PackageID)
	}
	var steps strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&steps, `<step type="SMS_TaskSequence_RunCommandLineAction" name="Run from package %03d" description="" runIn="WinPEandFullOS" successCodeList="0 3010" retryCount="0" runFromNet="false">`+
			`<action>smsswd.exe /run:%s cmd.exe /c setup.cmd</action><defaultVarList>`+
			`<variable name="CommandLine" property="CommandLine">cmd.exe /c setup.cmd</variable>`+
			`<variable name="PackageID" property="PackageID">%s</variable></defaultVarList></step>`, i, id, id)
	}
	filler := apitest.BigSequence(b, "../testdata/ts-corpus/gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml",
		taskseq.MaxSequenceBytes-200_000, taskseq.MaxSequenceBytes-100_000)
	seq := strings.ReplaceAll(string(filler), "MEM00004", ids[0])
	end := strings.LastIndex(seq, "</sequence>")
	seq = seq[:end] + steps.String() + seq[end:]
	if len(seq) > taskseq.MaxSequenceBytes {
		b.Fatalf("the sequence is %d bytes", len(seq))
	}
	ts := t.setSequence(b, "", "big", t.importSequence(b, []byte(seq)))

	call := []byte(`{"AdvertisementID":"PS1F0001","PackageID":"` + ts + `"}`)
	var answer struct {
		PolicyXmls []string
	}
	if err := json.Unmarshal(t.postRaw(b, packagesPath+".GetTsPolicies", call, http.StatusOK), &answer); err != nil {
		b.Fatal(err)
	}
	if len(answer.PolicyXmls) != 1+100 {
		b.Fatalf("%d policies, want 101 (the task sequence and its 100 packages)", len(answer.PolicyXmls))
	}
	dir := b.TempDir()
	args := []string{"--noout"}
	var size int64
	for i, p := range answer.PolicyXmls {
		f := filepath.Join(dir, fmt.Sprintf("policy%03d.xml", i))
		if err := os.WriteFile(f, []byte(p), 0o600); err != nil {
			b.Fatal(err)
		}
		args = append(args, f)
		size += int64(len(p))
	}
	tsPolicy := policy.UTF16Bytes(answer.PolicyXmls[0])
	ref := func(int) {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			b.Fatalf("xmllint: %v %s", err, out)
		}
	}
	idle, _ := s.rss(b)
	s.resetPeak(b)
	b.SetBytes(int64(len(seq)))
	b.ResetTimer()
	tt, tr := abab(b.N, func(int) { t.postRaw(b, packagesPath+".GetTsPolicies", call, http.StatusOK) }, ref)
	b.StopTimer()
	_, peak := s.rss(b)
	report(b, tt, tr)
	b.ReportMetric(float64(size)/1e6, "policy-MB")
	b.ReportMetric(float64(tsPolicy)/1e6, "ts-policy-MB")
	b.ReportMetric(float64(idle)/(1<<20), "idle-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}

package bench

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// sourceExport is the real ConfigMgr export whose steps the 2 MB
// sequences of the benchmarks are made of.
const sourceExport = "../testdata/ts-corpus/gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml"

// sourceSequence returns the <sequence> of sourceExport, parsed (the
// benchmark is skipped when the corpus file is missing).
func sourceSequence(b *testing.B) *taskseq.Element {
	b.Helper()
	src, err := os.ReadFile(sourceExport)
	if err != nil {
		b.Skip("corpus file missing:", err)
	}
	doc, err := taskseq.ReadDocument(src, taskseq.DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	return doc.Sequence
}

// bigSequence assembles a task sequence of about 1.9 MB (under ConfigMgr's
// 2 MB limit) from the steps of a real ConfigMgr export, and returns it
// written to a file.
func bigSequence(b *testing.B) (string, []byte) {
	b.Helper()
	seq := sourceSequence(b)
	var steps []taskseq.Node
	for _, c := range seq.Children {
		if e, ok := c.(*taskseq.Element); ok && (e.Name == "group" || e.Name == "step") {
			steps = append(steps, e)
		}
	}
	out := &taskseq.Element{Name: "sequence", Attrs: seq.Attrs}
	for len(out.String()) < 1900_000 {
		out.Children = append(out.Children, steps...)
	}
	data := []byte(out.String())
	path := filepath.Join(b.TempDir(), "big.xml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path, data
}

// xmllint returns a function that runs `xmllint --noout` on path once
// (Debian's libxml2-utils); it skips the benchmark when xmllint is not
// installed.
func xmllint(b *testing.B, path string) func(int) {
	b.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		b.Skip("xmllint not installed (Debian package libxml2-utils)")
	}
	return func(int) {
		if out, err := exec.Command(bin, "--noout", path).CombinedOutput(); err != nil {
			b.Fatalf("xmllint: %v %s", err, out)
		}
	}
}

// cpuTimes is the CPU time (user and system) this process has used, and
// that of its children it waited for.
func cpuTimes() (self, children time.Duration) {
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	var s, c syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &s) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c) != nil {
		return 0, 0
	}
	return tv(s.Utime) + tv(s.Stime), tv(c.Utime) + tv(c.Stime)
}

// ababCPU is abab, and also reports the CPU time of a call of each, which
// a loaded machine bends far less than the time: tsprov's is all the CPU
// this process used over the run (its calls, the server's goroutines and
// garbage collector, and the starting and waiting for the reference's
// processes) and that of the processes a started; the reference's is that
// of the processes ref started.
func ababCPU(b *testing.B, n int, a, ref func(i int)) {
	var ca, cref time.Duration
	self0, _ := cpuTimes()
	t, r := abab(n, func(i int) {
		_, c0 := cpuTimes()
		a(i)
		_, c1 := cpuTimes()
		ca += c1 - c0
	}, func(i int) {
		_, c0 := cpuTimes()
		ref(i)
		_, c1 := cpuTimes()
		cref += c1 - c0
	})
	self1, _ := cpuTimes()
	b.StopTimer()
	report(b, t, r)
	n = max(n, 1)
	ca = (ca + self1 - self0) / time.Duration(n)
	cref /= time.Duration(n)
	b.ReportMetric(float64(ca.Microseconds()), "tsprov-cpu-µs/op")
	b.ReportMetric(float64(cref.Microseconds()), "ref-cpu-µs/op")
	if cref > 0 {
		b.ReportMetric(float64(ca)/float64(cref), "x-ref-cpu")
	}
}

// BenchmarkParseSerialise2MB: parse a 1.9 MB sequence into the object model
// and write it back, in turn with `xmllint --noout` on the same file.
func BenchmarkParseSerialise2MB(b *testing.B) {
	path, data := bigSequence(b)
	ref := xmllint(b, path)
	reg, err := schema.Registry()
	if err != nil {
		b.Fatal(err)
	}
	c, err := taskseq.NewCodec(reg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	ababCPU(b, b.N, func(int) {
		ts, _, err := c.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Marshal(ts, taskseq.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}, ref)
}

// BenchmarkSetSequence2MB: ImportSequence once, then SetSequence of the
// 1.9 MB sequence through the real server stack (validate, references,
// XML, one durable transaction), in turn with `xmllint --noout` on the
// same file.
func BenchmarkSetSequence2MB(b *testing.B) {
	path, data := bigSequence(b)
	ref := xmllint(b, path)
	ts := tsprovServer(b)
	body := setSequenceBody("", "big", ts.importSequence(b, data))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	ababCPU(b, b.N, func(int) {
		resp := ts.postRaw(b, packagesPath+".SetSequence", body, http.StatusOK)
		if !bytes.Contains(resp, []byte(`"ReturnValue":0`)) {
			b.Fatalf("SetSequence: %.300s", resp)
		}
	}, ref)
}

// BenchmarkSetSequenceUpdate2MB: SetSequence of the 1.9 MB sequence into
// a package that holds it already (the package and its revision are
// rewritten: the revision before gets its own copy of the sequence it
// shared with the package), in turn with `xmllint --noout` on the same
// file.
func BenchmarkSetSequenceUpdate2MB(b *testing.B) {
	path, data := bigSequence(b)
	ref := xmllint(b, path)
	ts := tsprovServer(b)
	seq := ts.importSequence(b, data)
	body := setSequenceBody(ts.setSequence(b, "", "big", seq), "", seq)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	ababCPU(b, b.N, func(int) {
		resp := ts.postRaw(b, packagesPath+".SetSequence", body, http.StatusOK)
		if !bytes.Contains(resp, []byte(`"ReturnValue":0`)) {
			b.Fatalf("SetSequence: %.300s", resp)
		}
	}, ref)
}

// BenchmarkTSFmt2MB: `tsprov ts fmt` of the 1.9 MB sequence, the whole
// process (start, schema, parse, write to a file), next to `xmllint
// --noout` on the same file, in turn.
func BenchmarkTSFmt2MB(b *testing.B) {
	path, data := bigSequence(b)
	dir := b.TempDir()
	tsprov := build(b, dir, "./cmd/tsprov")
	ref := xmllint(b, path)
	out, err := os.Create(filepath.Join(dir, "out.xml"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	ababCPU(b, b.N, func(int) {
		var stderr bytes.Buffer
		cmd := exec.Command(tsprov, "ts", "fmt", path)
		cmd.Stdout, cmd.Stderr = out, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("tsprov ts fmt: %v %s", err, stderr.Bytes())
		}
	}, ref)
}

package policy

import (
	"fmt"
	"strings"
	"testing"
)

// TestSizeIsTheBuiltSize: Size agrees with the policy Build writes, within
// the few bytes the deployment's values may add.
func TestSizeIsTheBuiltSize(t *testing.T) {
	for _, tc := range policyCases(t) {
		set, err := Build(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		size, err := Size(tc.in.TaskSequence)
		if err != nil {
			t.Fatal(err)
		}
		built := UTF16Bytes(set[0].Body)
		if d := built - size; d < -2000 || d > 2000 {
			t.Errorf("%s: Size %d, built %d", tc.name, size, built)
		}
	}
}

// TestWeigh: each step costs 8 bytes per character of its XML; the
// heaviest comes first with its group path.
func TestWeigh(t *testing.T) {
	step := func(name string, n int) string {
		return fmt.Sprintf(`<step type="SMS_TaskSequence_RunCommandLineAction" name="%s"><action>%s</action></step>`, name, strings.Repeat("x", n))
	}
	heavy := step("Heavy", 5000)
	seq := `<sequence version="3.10"><group name="Setup">` + step("Light", 10) + `<group name="Inner">` + heavy + `</group></group>` + step("Middle", 100) + `</sequence>`
	ws, err := Weigh(seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 3 || ws[0].Path != "Setup / Inner / Heavy" || ws[1].Path != "Middle" || ws[2].Path != "Setup / Light" {
		t.Fatalf("weights %+v", ws)
	}
	if ws[0].Bytes != int64(8*len(heavy)) {
		t.Errorf("Heavy weighs %d, want %d", ws[0].Bytes, 8*len(heavy))
	}
	// The sequence's growth by the heavy step is what the policy grows by.
	base, _ := Size(TaskSequence{Package: Package{PackageID: "PS100001"}, Sequence: strings.Replace(seq, heavy, "", 1)})
	full, _ := Size(TaskSequence{Package: Package{PackageID: "PS100001"}, Sequence: seq})
	if d := full - base - ws[0].Bytes; d < -64 || d > 64 {
		t.Errorf("the policy grows by %d with the step, its weight says %d", full-base, ws[0].Bytes)
	}
	if _, err := Weigh(`<sequence><step>`); err == nil {
		t.Error("truncated XML weighed")
	}
}

package taskseq_test

import (
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
	"github.com/tsprov/tsprov/schema"
)

// TestSwitchesTo: the steps that move the machine between Windows PE and
// the full OS, and where to; any other step decides nothing.
func TestSwitchesTo(t *testing.T) {
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		class, target string
		want          taskseq.Environment
	}{
		{"SMS_TaskSequence_RebootAction", "HD", taskseq.FullOS},
		{"SMS_TaskSequence_RebootAction", "winpe", taskseq.WinPE},
		{"SMS_TaskSequence_RebootAction", "", taskseq.EnvironmentUnknown},
		{"SMS_TaskSequence_SetupWindowsAndSMSAction", "", taskseq.FullOS},
		{"SMS_TaskSequence_PrepareOSAction", "", taskseq.WinPE},
		{"SMS_TaskSequence_RunCommandLineAction", "", taskseq.EnvironmentUnknown},
		{"SMS_TaskSequence_Group", "", taskseq.EnvironmentUnknown},
	} {
		class, ok := reg.Class(c.class)
		if !ok {
			t.Fatalf("no class %s", c.class)
		}
		step := cim.NewInstance(class)
		if c.target != "" {
			step.Set("Target", c.target)
		}
		if got := taskseq.SwitchesTo(step); got != c.want {
			t.Errorf("%s %q: %v, want %v", c.class, c.target, got, c.want)
		}
	}
}

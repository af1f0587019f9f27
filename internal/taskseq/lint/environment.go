package lint

import (
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/taskseq"
)

// checkEnvironment follows the sequence from the top: an enabled restart
// (or Setup Windows and ConfigMgr) that runs on every machine, with no
// condition on it or its groups, decides where the steps after it run; one
// that may not run leaves it unknown, unless it goes where the machine
// already is. A step pinned to the other environment is then reported.
// It runs once for each of the two rules, reporting that rule's steps.
func checkEnvironment(l *linter, id string) {
	inFull, inPE := rule("winpe-step-in-full-os"), rule("full-os-step-in-winpe")
	where, by := taskseq.EnvironmentUnknown, (*step)(nil)
	for _, s := range l.steps {
		if !s.enabled || s.isGroup() {
			continue
		}
		need := strings.ToLower(s.in.String("SupportedEnvironment"))
		switch {
		case need == "winpe" && where == taskseq.FullOS && id == inFull.ID:
			l.report(inFull, s, "it runs only in Windows PE, but %s restarted into the full operating system and no step after it goes back to Windows PE", describeStep(by))
		case need == "fullos" && where == taskseq.WinPE && id == inPE.ID:
			l.report(inPE, s, "it runs only in the full operating system, but %s restarted into Windows PE and no step after it goes back to the installed OS", describeStep(by))
		}
		to := taskseq.SwitchesTo(s.in)
		if to == taskseq.EnvironmentUnknown || to == where {
			continue
		}
		if len(s.conditions()) > 0 {
			where, by = taskseq.EnvironmentUnknown, nil
			continue
		}
		where, by = to, s
	}
}

func describeStep(s *step) string {
	return fmt.Sprintf("step %s %q", s.path, s.name)
}

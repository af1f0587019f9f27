package lint

import (
	"fmt"
	"strings"
)

// env is where a running sequence is, as far as the steps before tell.
type env int

const (
	envUnknown env = iota
	envWinPE
	envFullOS
)

// switchTo says where a step leaves the machine when it runs: a restart
// into the installed OS or into the boot image, Setup Windows and
// ConfigMgr (which restarts into the new OS), Prepare Windows for Capture
// (after which the sequence goes on in Windows PE); envUnknown for any
// other.
func switchTo(s *step) env {
	switch c := s.in.Class; {
	case c.IsA("SMS_TaskSequence_RebootAction"):
		switch strings.ToLower(s.in.String("Target")) {
		case "hd":
			return envFullOS
		case "winpe":
			return envWinPE
		}
	case c.IsA("SMS_TaskSequence_SetupWindowsAndSMSAction"):
		return envFullOS
	case c.IsA("SMS_TaskSequence_PrepareOSAction"):
		// Sysprep shuts Windows down and the engine goes on in the boot
		// image: Capture Operating System Image (WinPE only) follows
		// Prepare Windows for Capture with no restart step between, in
		// Microsoft's build-and-capture templates.
		return envWinPE
	}
	return envUnknown
}

// checkEnvironment follows the sequence from the top: an enabled restart
// (or Setup Windows and ConfigMgr) that runs on every machine, with no
// condition on it or its groups, decides where the steps after it run; one
// that may not run leaves it unknown, unless it goes where the machine
// already is. A step pinned to the other environment is then reported.
// It runs once for each of the two rules, reporting that rule's steps.
func checkEnvironment(l *linter, id string) {
	inFull, inPE := rule("winpe-step-in-full-os"), rule("full-os-step-in-winpe")
	where, by := envUnknown, (*step)(nil)
	for _, s := range l.steps {
		if !s.enabled || s.isGroup() {
			continue
		}
		need := strings.ToLower(s.in.String("SupportedEnvironment"))
		switch {
		case need == "winpe" && where == envFullOS && id == inFull.ID:
			l.report(inFull, s, "it runs only in Windows PE, but %s restarted into the full operating system and no step after it goes back to Windows PE", describeStep(by))
		case need == "fullos" && where == envWinPE && id == inPE.ID:
			l.report(inPE, s, "it runs only in the full operating system, but %s restarted into Windows PE and no step after it goes back to the installed OS", describeStep(by))
		}
		to := switchTo(s)
		if to == envUnknown || to == where {
			continue
		}
		if len(s.conditions()) > 0 {
			where, by = envUnknown, nil
			continue
		}
		where, by = to, s
	}
}

func describeStep(s *step) string {
	return fmt.Sprintf("step %s %q", s.path, s.name)
}

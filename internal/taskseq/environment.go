package taskseq

import (
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Environment is where a running task sequence is: Windows PE (the boot
// image) or the full operating system.
type Environment uint8

const (
	// EnvironmentUnknown: not known, or not decided by the step asked about.
	EnvironmentUnknown Environment = iota
	WinPE
	FullOS
)

// SwitchesTo says where a step leaves the machine when it runs, as the
// task sequence engine moves it: a restart into the installed OS or into
// the boot image (Restart Computer's Target), Setup Windows and ConfigMgr
// (which restarts into the new OS), Prepare Windows for Capture (Sysprep
// shuts Windows down and the engine goes on in the boot image: Capture
// Operating System Image, WinPE only, follows it with no restart step
// between in Microsoft's build-and-capture templates). It is
// EnvironmentUnknown for any other step.
func SwitchesTo(step *cim.Instance) Environment {
	switch c := step.Class; {
	case c.IsA("SMS_TaskSequence_RebootAction"):
		switch strings.ToLower(step.String("Target")) {
		case "hd":
			return FullOS
		case "winpe":
			return WinPE
		}
	case c.IsA("SMS_TaskSequence_SetupWindowsAndSMSAction"):
		return FullOS
	case c.IsA("SMS_TaskSequence_PrepareOSAction"):
		return WinPE
	}
	return EnvironmentUnknown
}

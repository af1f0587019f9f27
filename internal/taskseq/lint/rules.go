package lint

import (
	"strings"

	"github.com/tsprov/tsprov/internal/taskseq"
)

// Rule is one check: its id (what a config file and SARIF name), its
// default severity, a one-line summary and a fix hint.
type Rule struct {
	ID       string
	Severity Severity
	Summary  string
	Hint     string
	check    func(l *linter)
}

// rules is the one table of rules, in the order they run and are listed.
var rules []*Rule

func init() {
	rules = []*Rule{
		{ID: "disabled-step", Severity: Warning,
			Summary: "A step or group is disabled: it never runs, and disabled steps are how broken sequences hide old work.",
			Hint:    "Delete the step (its history keeps it) or enable it.",
			check:   checkDisabled},
		{ID: "empty-group", Severity: Warning,
			Summary: "A group holds no steps.",
			Hint:    "Delete the group, or move the steps it was meant to hold into it.",
			check:   checkEmptyGroup},
		{ID: "continue-on-error-critical", Severity: Error,
			Summary: "A step whose failure leaves the machine unusable (Partition Disk, Apply Operating System, Setup Windows and ConfigMgr) has continue on error, itself or through a group: the sequence goes on with a broken disk or no operating system.",
			Hint:    "Clear continue on error on the step and on its groups, so that the sequence stops where the machine broke.",
			check:   checkContinueOnErrorCritical},
		{ID: "secret-in-command-line", Severity: Error,
			Summary: "A command line holds a password, secret or product key in clear text: it is logged in smsts.log and readable in the policy.",
			Hint:    "Use the step's run-as account fields (stored encrypted) or a hidden task sequence variable (Set Task Sequence Variable with \"Do not display this value\"), and reference it as %Variable%.",
			check:   checkSecretCommandLine},
		{ID: "secret-in-variable", Severity: Error,
			Summary: "A plain (not hidden, not secret) task sequence variable holds what looks like a password, secret or product key.",
			Hint:    "Tick \"Do not display this value\" on Set Task Sequence Variable, or mark the dynamic variable secret.",
			check:   checkSecretVariable},
		{ID: "missing-package", Severity: Error,
			Summary: "A step refers to a package or application that does not exist on the site.",
			Hint:    "Point the step at an existing package, or import the missing one; \"tsprov ts refs\" lists what the sequence refers to.",
			check:   checkMissingPackage},
		{ID: "package-without-content", Severity: Error,
			Summary: "A step refers to a package whose content is on no distribution point: the step fails to download it.",
			Hint:    "Distribute the package's content to the distribution points of the deployment's boundary groups.",
			check:   checkPackageContent},
		{ID: "reference-only-disabled", Severity: Note,
			Summary: "A package or application is named only by disabled steps: it is not a reference of the sequence, is not checked at deployment, and breaks the step the day it is enabled if it has gone.",
			Hint:    "Delete the disabled steps, or keep the package distributed if they are to come back.",
			check:   checkDisabledOnlyReferences},
		{ID: "contradictory-condition", Severity: Error,
			Summary: "A step's conditions (with those of its groups) can never all hold, so the step never runs.",
			Hint:    "Fix the condition: the same variable is required to have two values, or to exist and not exist.",
			check:   checkContradictions},
		{ID: "winpe-step-in-full-os", Severity: Error,
			Summary: "A step that runs only in Windows PE comes after the last restart into the full operating system, with no restart back into Windows PE: it can never run.",
			Hint:    "Add a Restart Computer step into the boot image before it, or move it before the restart into the installed OS.",
			check:   func(l *linter) { checkEnvironment(l, "winpe-step-in-full-os") }},
		{ID: "full-os-step-in-winpe", Severity: Error,
			Summary: "A step that runs only in the full operating system comes after a restart into Windows PE, with no restart back into the installed OS or Setup Windows and ConfigMgr: it can never run.",
			Hint:    "Move it after Setup Windows and ConfigMgr, or add a Restart Computer step into the installed OS before it.",
			check:   func(l *linter) { checkEnvironment(l, "full-os-step-in-winpe") }},
		{ID: "duplicate-step-name", Severity: Warning,
			Summary: "Two steps of one group have the same name: logs, status messages and reports cannot tell them apart.",
			Hint:    "Give each step of the group its own name.",
			check:   checkDuplicateNames},
		{ID: "sequence-too-large", Severity: Error,
			Summary: "The sequence XML is over 2 MB: the site refuses to save it (since ConfigMgr 2010).",
			Hint:    "Move parts into child task sequences (Run Task Sequence step) or remove embedded scripts.",
			check:   checkSequenceSize},
		{ID: "policy-too-large", Severity: Error,
			Summary: "The task sequence policy would be over 32 MB (its expanded, UTF-16 size, estimated from the sequence): the client fails to process it.",
			Hint:    "Split the sequence into child task sequences; each has its own 32 MB policy budget.",
			check:   checkPolicySize},
		{ID: "invalid-wql", Severity: Error,
			Summary: "A WMI condition's query is not valid WQL: the condition fails (or, with ignoreQueryFailure, is silently skipped) on every machine.",
			Hint:    "Fix the query; test it with \"tsprov query\" or wbemtest.",
			check:   checkWQL},
		{ID: "variable-read-before-set", Severity: Warning,
			Summary: "A condition or a step reads a task sequence variable that no earlier step sets and that is not built in.",
			Hint:    "Set it earlier (Set Task Sequence Variable, Set Dynamic Variables), or list it under knownVariables in the lint configuration if a collection or device variable sets it.",
			check:   checkVariablesRead},
	}
}

// Rules returns every rule, in the order they run.
func Rules() []*Rule { return rules }

// rule returns the rule with the given id.
func rule(id string) *Rule {
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	panic("lint: no rule " + id)
}

// checkDisabled reports each disabled step or group whose groups are all
// enabled (the steps inside a disabled group are its finding).
func checkDisabled(l *linter) {
	r := rule("disabled-step")
	for _, s := range l.steps {
		if taskseq.IsEnabled(s.in) || (s.parent != nil && !s.parent.enabled) {
			continue
		}
		what := "step"
		if s.isGroup() {
			what = "group"
			n := 0
			for _, c := range l.steps {
				for p := c.parent; p != nil; p = p.parent {
					if p == s {
						n++
						break
					}
				}
			}
			l.report(r, s, "the %s is disabled, with the %d steps it holds", what, n)
			continue
		}
		l.report(r, s, "the %s is disabled", what)
	}
}

func checkEmptyGroup(l *linter) {
	r := rule("empty-group")
	for _, s := range l.steps {
		if !s.isGroup() {
			continue
		}
		if children, _ := s.in.Values["Steps"].([]any); len(children) == 0 {
			l.report(r, s, "the group holds no steps")
		}
	}
}

// criticalClasses are the steps whose failure leaves a machine without a
// usable disk or operating system.
var criticalClasses = []string{
	"SMS_TaskSequence_PartitionDiskAction",
	"SMS_TaskSequence_ApplyOperatingSystemAction",
	"SMS_TaskSequence_ApplyDataImageAction",
	"SMS_TaskSequence_SetupWindowsAndSMSAction",
	"SMS_TaskSequence_UpgradeOperatingSystemAction",
	"BDD_InstallOS",
}

func isCritical(s *step) bool {
	for _, c := range criticalClasses {
		if s.in.Class.IsA(c) || strings.EqualFold(s.in.String("ActionType"), c) {
			return true
		}
	}
	return false
}

func checkContinueOnErrorCritical(l *linter) {
	r := rule("continue-on-error-critical")
	for _, s := range l.steps {
		if !s.enabled || !isCritical(s) || s.in.Values["ScanOnly"] == true {
			continue // a compatibility scan changes nothing on the machine
		}
		if s.in.Values["ContinueOnError"] == true {
			l.report(r, s, "%s has continue on error: when it fails the sequence goes on", taskseq.StepType(s.in))
			continue
		}
		for p := s.parent; p != nil; p = p.parent {
			if p.in.Values["ContinueOnError"] == true && !l.handledFailure(p) {
				l.report(r, s, "%s is in group %s %q, which has continue on error: when the step fails the group stops and the sequence goes on", taskseq.StepType(s.in), p.path, p.name)
				break
			}
		}
	}
}

// handledFailure reports a group with continue on error whose failure a
// later step of the same group handles: a step (or group) after it tests
// _SMSTSLastActionSucceeded or _SMSTSLastActionRetCode, as MDT's "Gather
// Logs and StateStore on Failure" group does after "Execute Task
// Sequence". That is a try/catch, not a failure ignored.
func (l *linter) handledFailure(g *step) bool {
	for _, t := range l.steps[g.index+1:] {
		if t.depth < g.depth {
			return false
		}
		if t.parent != g.parent || !t.enabled {
			continue
		}
		for _, rd := range reads(t) {
			switch strings.ToUpper(rd.name) {
			case "_SMSTSLASTACTIONSUCCEEDED", "_SMSTSLASTACTIONRETCODE":
				return true
			}
		}
	}
	return false
}

// checkDuplicateNames reports the second and later steps of a group (or of
// the sequence) named like an earlier one, ignoring case.
func checkDuplicateNames(l *linter) {
	r := rule("duplicate-step-name")
	first := map[*step]map[string]*step{}
	for _, s := range l.steps {
		names := first[s.parent]
		if names == nil {
			names = map[string]*step{}
			first[s.parent] = names
		}
		key := strings.ToLower(strings.TrimSpace(s.name))
		if prev, ok := names[key]; ok {
			l.report(r, s, "the name is also that of %s in the same group", prev.path)
			continue
		}
		names[key] = s
	}
}

// Package plan simulates a task sequence on a described machine: it
// evaluates each step's conditions as the task sequence engine would, in
// order, with the variables the earlier steps set, and says which steps
// run, which are skipped and why. It does no I/O: child task sequences
// come through a function the caller passes.
package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// Outcome is what happens to a step.
type Outcome string

const (
	// Run: the step's conditions hold and it runs.
	Run Outcome = "run"
	// Skipped: a condition (its own or its group's) is false.
	Skipped Outcome = "skipped"
	// Disabled: the step (or its group) is disabled.
	Disabled Outcome = "disabled"
	// Unknown: a condition depends on what the machine description does
	// not say, or on a value a script sets at run time.
	Unknown Outcome = "unknown"
	// Failed: the step fails (the machine lists it in failingSteps, it is
	// pinned to the other environment, or its condition cannot be
	// evaluated).
	Failed Outcome = "failed"
	// NotReached: the sequence stopped before it, after a failure.
	NotReached Outcome = "not reached"
)

// Step is one step of the plan.
type Step struct {
	Path string `json:"path"`
	Name string `json:"name"`
	Type string `json:"type"`
	// Environment is where the machine is when the step comes up:
	// "WinPE" or "FullOS".
	Environment string  `json:"environment"`
	Outcome     Outcome `json:"outcome"`
	// Reason says why: the condition that failed with the values it saw,
	// what made the step fail, or what is unknown.
	Reason string `json:"reason,omitempty"`
	// ContinueOnError is set on a failed step whose failure the sequence
	// goes on after (its own setting or a group's).
	ContinueOnError bool `json:"continueOnError,omitempty"`
	// Sets are the variables the step sets, in order.
	Sets []Assignment `json:"sets,omitempty"`
	// Steps are a group's steps, or those of the child task sequence a
	// Run Task Sequence step runs.
	Steps []*Step `json:"steps,omitempty"`
	// Child is the package a Run Task Sequence step runs.
	Child string `json:"child,omitempty"`
}

// Assignment is one variable a step sets. Unknown values are set by
// scripts at run time.
type Assignment struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Unknown bool   `json:"unknown,omitempty"`
}

// Plan is the outcome of a simulation.
type Plan struct {
	Steps []*Step `json:"steps"`
	// Completed is false when a failure stopped the sequence.
	Completed bool `json:"completed"`
	// FailedAt is the path of the step whose failure stopped it.
	FailedAt string `json:"failedAt,omitempty"`
	// Environment is where the machine ends up.
	Environment string `json:"environment"`
	// Variables are the variables at the end (hidden values masked).
	Variables map[string]string `json:"variables"`
	// Counts are how many steps (groups included) had each outcome.
	Counts map[Outcome]int `json:"counts"`
}

// Options are the inputs of a simulation besides the sequence.
type Options struct {
	// Variables are the variables the sequence starts with (collection,
	// device and deployment variables), by name (case-insensitive).
	Variables map[string]string
	// Machine describes the computer; nil: nothing is known of it.
	Machine *Machine
	// Child returns the sequence of the task sequence package id, for Run
	// Task Sequence steps; nil, or an errs.NotFound error, leaves the
	// child unknown.
	Child func(packageID string) (*cim.Instance, error)
}

// maxChildDepth bounds the nesting of child task sequences.
const maxChildDepth = 8

// Simulate runs the sequence's conditions in order.
func Simulate(ts *cim.Instance, opts Options) (*Plan, error) {
	if ts == nil {
		return nil, errs.E(errs.Invalid, "plan: no task sequence")
	}
	s := &sim{opts: opts, vars: newVars(opts.Variables), machine: opts.Machine, stack: map[string]bool{}}
	if s.machine == nil {
		s.machine = &Machine{known: map[string]bool{}, classes: map[string]*machineClass{}}
	}
	s.winPE = strings.EqualFold(s.machine.Environment, "winpe")
	s.syncEnvironment()
	s.machineVariables()
	steps, _ := ts.Values["Steps"].([]any)
	p := &Plan{Counts: map[Outcome]int{}}
	p.Steps = s.list(steps, "", 0, false)
	p.Completed = s.failedAt == ""
	p.FailedAt = s.failedAt
	p.Environment = envName(s.winPE)
	p.Variables = s.vars.export()
	var count func([]*Step)
	count = func(list []*Step) {
		for _, st := range list {
			p.Counts[st.Outcome]++
			count(st.Steps)
		}
	}
	count(p.Steps)
	return p, nil
}

func envName(winPE bool) string {
	if winPE {
		return "WinPE"
	}
	return "FullOS"
}

// sim is the state of a simulation.
type sim struct {
	opts     Options
	machine  *Machine
	vars     *vars
	winPE    bool
	failedAt string          // set when the sequence stopped
	maybe    int             // inside groups that may not run
	stack    map[string]bool // child packages being run (no cycles)
}

// syncEnvironment keeps the engine's read-only variables in step.
func (s *sim) syncEnvironment() {
	v := "false"
	if s.winPE {
		v = "true"
	}
	s.vars.setBuiltin("_SMSTSInWinPE", v)
}

// list simulates a list of steps under a path prefix. ignore is set when
// an enclosing group has continue on error (a failure ends that group,
// not the sequence). It returns the plan's steps; a failure that stops
// the list sets s.failedAt or, under ignore, returns early.
func (s *sim) list(items []any, prefix string, depth int, ignore bool) []*Step {
	var out []*Step
	for i, it := range items {
		in, ok := it.(*cim.Instance)
		if !ok {
			continue
		}
		path := fmt.Sprintf("%sSteps[%d]", prefix, i)
		st := &Step{Path: path, Name: in.String("Name"), Type: taskseq.StepType(in), Environment: envName(s.winPE)}
		out = append(out, st)
		if s.failedAt != "" {
			st.Outcome = NotReached
			s.notReached(st, in)
			continue
		}
		failed := s.step(st, in, depth, ignore)
		if failed && ignore && in.Values["ContinueOnError"] != true {
			// the group ends here; its remaining steps are not reached
			for j := i + 1; j < len(items); j++ {
				if rest, ok := items[j].(*cim.Instance); ok {
					n := &Step{Path: fmt.Sprintf("%sSteps[%d]", prefix, j), Name: rest.String("Name"), Type: taskseq.StepType(rest), Environment: envName(s.winPE), Outcome: NotReached, Reason: "the group stopped at the failure of " + path}
					s.notReached(n, rest)
					out = append(out, n)
				}
			}
			return out
		}
	}
	return out
}

// notReached lists a group's steps as not reached.
func (s *sim) notReached(st *Step, in *cim.Instance) {
	children, _ := in.Values["Steps"].([]any)
	for i, c := range children {
		if ci, ok := c.(*cim.Instance); ok {
			n := &Step{Path: fmt.Sprintf("%s.Steps[%d]", st.Path, i), Name: ci.String("Name"), Type: taskseq.StepType(ci), Environment: st.Environment, Outcome: NotReached}
			s.notReached(n, ci)
			st.Steps = append(st.Steps, n)
		}
	}
}

// step simulates one step; it reports whether the step failed.
func (s *sim) step(st *Step, in *cim.Instance, depth int, ignore bool) bool {
	if !taskseq.IsEnabled(in) {
		st.Outcome, st.Reason = Disabled, "the step is disabled"
		if in.Class.IsA("SMS_TaskSequence_Group") {
			st.Reason = "the group is disabled"
			s.listDisabled(st, in)
		}
		return false
	}
	if cond, ok := in.Values["Condition"].(*cim.Instance); ok {
		r := s.condition(cond)
		switch {
		case r.err != nil:
			return s.fail(st, in, ignore, "its condition cannot be evaluated: "+r.why)
		case r.v == no:
			st.Outcome, st.Reason = Skipped, r.why
			if in.Class.IsA("SMS_TaskSequence_Group") {
				s.listSkipped(st, in)
			}
			return false
		case r.v == unknown:
			st.Outcome, st.Reason = Unknown, r.why
		}
	}
	if st.Outcome == "" {
		st.Outcome = Run
		if s.maybe > 0 {
			st.Outcome, st.Reason = Unknown, "it runs if its group runs"
		}
	}
	if in.Class.IsA("SMS_TaskSequence_Group") {
		children, _ := in.Values["Steps"].([]any)
		coe := in.Values["ContinueOnError"] == true
		if st.Outcome == Unknown {
			s.maybe++
		}
		st.Steps = s.list(children, st.Path+".", depth, ignore || coe)
		if st.Outcome == Unknown {
			s.maybe--
		}
		if !groupFailed(st.Steps) {
			return false
		}
		st.Outcome = Failed
		if coe {
			st.ContinueOnError = true
			st.Reason = joinReason(st.Reason, "a step in it failed; the group has continue on error, so the sequence goes on after it")
			return false
		}
		st.Reason = joinReason(st.Reason, "a step in it failed")
		return true
	}
	if need := strings.ToLower(in.String("SupportedEnvironment")); need == "winpe" && !s.winPE || need == "fullos" && s.winPE {
		return s.fail(st, in, ignore, fmt.Sprintf("it runs only in %s, and the machine is in %s", envLabel(need), envLabel(strings.ToLower(envName(s.winPE)))))
	}
	if s.machineFails(st) {
		return s.fail(st, in, ignore, "the machine description lists it in failingSteps")
	}
	s.effects(st, in, depth, ignore)
	if groupFailed(st.Steps) { // a child task sequence failed
		return s.fail(st, in, ignore, "a step of the child task sequence failed")
	}
	s.vars.setBuiltin("_SMSTSLastActionSucceeded", "true")
	s.vars.setBuiltin("_SMSTSLastActionRetCode", "0")
	return false
}

func envLabel(e string) string {
	if e == "winpe" {
		return "Windows PE"
	}
	return "the full operating system"
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// groupFailed reports a failure inside a group that ended it.
func groupFailed(steps []*Step) bool {
	for _, st := range steps {
		if st.Outcome == Failed && !st.ContinueOnError {
			return true
		}
	}
	return false
}

// fail records a failed step: with continue on error (its own, or a
// group's when ignore) the sequence goes on; otherwise it stops.
func (s *sim) fail(st *Step, in *cim.Instance, ignore bool, why string) bool {
	if s.maybe > 0 { // only if its group runs: not a failure the plan can assert
		st.Outcome, st.Reason = Unknown, "if its group runs, it fails: "+why
		s.vars.setUnknown("_SMSTSLastActionSucceeded")
		s.vars.setUnknown("_SMSTSLastActionRetCode")
		return false
	}
	st.Outcome, st.Reason = Failed, why
	s.vars.setBuiltin("_SMSTSLastActionSucceeded", "false")
	s.vars.setBuiltin("_SMSTSLastActionRetCode", "1")
	if in.Values["ContinueOnError"] == true {
		st.ContinueOnError = true
		return false
	}
	if !ignore && s.failedAt == "" {
		s.failedAt = st.Path
	}
	return true
}

// machineFails reports a step the machine says fails.
func (s *sim) machineFails(st *Step) bool {
	for _, f := range s.machine.FailingSteps {
		if strings.EqualFold(f, st.Name) || f == st.Path {
			return true
		}
	}
	return false
}

func (s *sim) listDisabled(st *Step, in *cim.Instance) {
	s.listAs(st, in, Disabled, "its group is disabled")
}

func (s *sim) listSkipped(st *Step, in *cim.Instance) {
	s.listAs(st, in, Skipped, "its group is skipped")
}

func (s *sim) listAs(st *Step, in *cim.Instance, o Outcome, why string) {
	children, _ := in.Values["Steps"].([]any)
	for i, c := range children {
		if ci, ok := c.(*cim.Instance); ok {
			n := &Step{Path: fmt.Sprintf("%s.Steps[%d]", st.Path, i), Name: ci.String("Name"), Type: taskseq.StepType(ci), Environment: st.Environment, Outcome: o, Reason: why}
			s.listAs(n, ci, o, why)
			st.Steps = append(st.Steps, n)
		}
	}
}

// effects applies what a step that runs changes: variables, the
// environment after a restart, a child sequence's steps.
func (s *sim) effects(st *Step, in *cim.Instance, depth int, ignore bool) {
	c := in.Class
	switch {
	case c.IsA("SMS_TaskSequence_SetVariableAction"):
		v := s.vars.expand(in.String("VariableValue"))
		st.Sets = append(st.Sets, s.set(in.String("VariableName"), v, in.Values["DoNotShowVariableValue"] == true))
	case c.IsA("SMS_TaskSequence_SetDynamicVariablesAction"):
		rules, _ := in.Values["Rules"].([]any)
		held := 0
		for i, r := range rules {
			ri, ok := r.(*cim.Instance)
			if !ok {
				continue
			}
			res := tri{v: yes}
			if cond, ok := ri.Values["Condition"].(*cim.Instance); ok {
				res = s.condition(cond)
			}
			vars, _ := ri.Values["Variables"].([]any)
			for _, v := range vars {
				vi, ok := v.(*cim.Instance)
				if !ok {
					continue
				}
				switch {
				case res.v == yes && res.err == nil:
					st.Sets = append(st.Sets, s.set(vi.String("Name"), s.vars.expand(vi.String("Value")), vi.Class.IsA("SMS_TaskSequence_SecuredVariable")))
				case res.v == unknown && res.err == nil:
					st.Sets = append(st.Sets, s.setUnknown(vi.String("Name")))
				}
			}
			switch {
			case res.err != nil, res.v == unknown:
				st.Reason = joinReason(st.Reason, fmt.Sprintf("rule %d may hold: %s", i+1, res.why))
			case res.v == yes:
				held++
				if res.why != "" {
					st.Reason = joinReason(st.Reason, fmt.Sprintf("rule %d holds: %s", i+1, res.why))
				}
			}
		}
		if held == 0 && st.Reason == "" {
			st.Reason = fmt.Sprintf("none of its %d rules holds", len(rules))
		}
	case c.IsA("SMS_TaskSequence_SubTasksequence"):
		s.child(st, in, depth, ignore)
	case taskseq.RunsMDTGather(in):
		s.vars.open = true
		st.Reason = joinReason(st.Reason, "MDT's Gather sets variables from its rules: from here on a variable not set is unknown")
	}
	if to := taskseq.SwitchesTo(in); to != taskseq.EnvironmentUnknown {
		s.winPE = to == taskseq.WinPE
		s.syncEnvironment()
	}
	if v := in.String("OutputVariableName"); v != "" {
		st.Sets = append(st.Sets, s.setUnknown(v))
	}
}

// child follows a Run Task Sequence step into the child sequence.
func (s *sim) child(st *Step, in *cim.Instance, depth int, ignore bool) {
	id := strings.ToUpper(in.String("TsPackageID"))
	st.Child = id
	switch {
	case id == "" || strings.Contains(id, "%"):
		st.Reason = joinReason(st.Reason, "the child task sequence is chosen at run time ("+in.String("TsPackageID")+")")
		return
	case s.stack[id]:
		st.Reason = joinReason(st.Reason, "child "+id+" is already running above this step (a cycle): not followed")
		return
	case depth >= maxChildDepth:
		st.Reason = joinReason(st.Reason, fmt.Sprintf("child task sequences nest more than %d deep: not followed", maxChildDepth))
		return
	case s.opts.Child == nil:
		st.Reason = joinReason(st.Reason, "child "+id+" not followed: its sequence was not given")
		return
	}
	ts, err := s.opts.Child(id)
	if err != nil || ts == nil {
		why := "not found"
		if err != nil {
			why = errs.Message(err)
		}
		st.Reason = joinReason(st.Reason, "child "+id+" not followed: "+why)
		return
	}
	s.stack[id] = true
	defer delete(s.stack, id)
	steps, _ := ts.Values["Steps"].([]any)
	st.Steps = s.list(steps, st.Path+".", depth+1, ignore || in.Values["ContinueOnError"] == true)
}

// set sets a variable and returns the assignment to show.
func (s *sim) set(name, value string, hidden bool) Assignment {
	if s.maybe > 0 { // the step may not run: the value is not known after it
		s.vars.setUnknown(name)
		if hidden {
			value = hiddenValue
		}
		return Assignment{Name: name, Value: value}
	}
	s.vars.set(name, value, hidden)
	if hidden {
		value = hiddenValue
	}
	return Assignment{Name: name, Value: value}
}

// setUnknown records a variable whose value a script decides.
func (s *sim) setUnknown(name string) Assignment {
	s.vars.setUnknown(name)
	return Assignment{Name: name, Unknown: true}
}

const hiddenValue = "********"

// vars is the task sequence environment: names compare without regard
// to case; a value may be unknown (set by a script).
type vars struct {
	values  map[string]string // upper-case name → value
	names   map[string]string // upper-case name → name as first set
	unknown map[string]bool
	hidden  map[string]bool
	// open is set once MDT's Gather ran: a variable not set may have been
	// set by its rules (CustomSettings.ini, the MDT database).
	open bool
}

func newVars(init map[string]string) *vars {
	v := &vars{values: map[string]string{}, names: map[string]string{}, unknown: map[string]bool{}, hidden: map[string]bool{}}
	keys := make([]string, 0, len(init))
	for k := range init {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.set(k, init[k], false)
	}
	return v
}

func (v *vars) set(name, value string, hidden bool) {
	k := strings.ToUpper(name)
	if _, ok := v.names[k]; !ok {
		v.names[k] = name
	}
	v.values[k] = value
	delete(v.unknown, k)
	v.hidden[k] = hidden
	if value == "" { // the engine drops a variable set to nothing
		delete(v.values, k)
	}
}

func (v *vars) setBuiltin(name, value string) { v.set(name, value, false) }

func (v *vars) setUnknown(name string) {
	k := strings.ToUpper(name)
	if _, ok := v.names[k]; !ok {
		v.names[k] = name
	}
	delete(v.values, k)
	v.unknown[k] = true
}

// get returns a variable's value, whether it exists and whether its value
// is known.
func (v *vars) get(name string) (value string, exists, known bool) {
	k := strings.ToUpper(name)
	if v.unknown[k] {
		return "", false, false
	}
	value, exists = v.values[k]
	if !exists && v.open && !strings.HasPrefix(name, "_") {
		return "", false, false
	}
	return value, exists, true
}

// expand replaces %Name% with the variable's value, as the engine does
// when a step sets a variable; unknown or unset names stay as written.
func (v *vars) expand(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	parts := strings.Split(s, "%")
	var b strings.Builder
	b.WriteString(parts[0])
	for i := 1; i < len(parts); i++ {
		if i+1 < len(parts) {
			if val, ok, known := v.get(parts[i]); ok && known && parts[i] != "" {
				b.WriteString(val)
				b.WriteString(parts[i+1])
				i++
				continue
			}
		}
		b.WriteString("%")
		b.WriteString(parts[i])
	}
	return b.String()
}

// export returns the variables by the names they were first set under,
// hidden values masked, unknown ones marked.
func (v *vars) export() map[string]string {
	out := map[string]string{}
	for k, name := range v.names {
		switch {
		case v.unknown[k]:
			out[name] = "(set at run time)"
		case v.hidden[k]:
			if _, ok := v.values[k]; ok {
				out[name] = hiddenValue
			}
		default:
			if val, ok := v.values[k]; ok {
				out[name] = val
			}
		}
	}
	return out
}

// machineVariables sets the read-only variables the engine takes from the
// machine, where the description gives them.
func (s *sim) machineVariables() {
	m := s.machine
	mk, md := m.makeModel()
	for _, v := range [][2]string{
		{"_SMSTSMake", mk}, {"_SMSTSModel", md}, {"_SMSTSSerialNumber", m.SerialNumber},
		{"_SMSTSAssetTag", m.AssetTag}, {"_SMSTSUUID", m.UUID},
		{"_SMSTSMacAddresses", strings.Join(m.MACAddresses, ",")},
		{"_SMSTSDefaultGateways", strings.Join(m.DefaultGateways, ",")},
	} {
		if v[1] != "" {
			s.vars.setBuiltin(v[0], v[1])
		}
	}
}

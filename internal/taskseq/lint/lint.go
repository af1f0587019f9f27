// Package lint checks a task sequence for mistakes that break deployments:
// rules over the object model, each with an id, a severity and a fix hint,
// and the facts about the site that the caller passes in (which packages
// exist, which have content on a distribution point). It does no I/O.
package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// Severity is how much a finding matters. Off turns a rule off.
type Severity int

const (
	Off Severity = iota
	Note
	Warning
	Error
)

var severityNames = [...]string{Off: "off", Note: "note", Warning: "warning", Error: "error"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity reads "off", "note", "warning" or "error" (any case;
// "info" is taken for note).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "none", "disable", "disabled":
		return Off, nil
	case "note", "info":
		return Note, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return Off, errs.E(errs.Invalid, "unknown severity %q: use off, note, warning or error", s)
}

// MarshalText writes the severity's name (JSON output).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Finding is one problem a rule found.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Step is the step's position, e.g. "Steps[2].Steps[0]"; empty for the
	// sequence as a whole.
	Step string `json:"step,omitempty"`
	// StepName is the step's (or group's) name.
	StepName string `json:"stepName,omitempty"`
	// Line is the 1-based line of the step's start tag in the source, when
	// the caller gave the source and the line is known; 0 otherwise.
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

// Where names the finding's place as a user reads it.
func (f Finding) Where() string {
	if f.Step == "" {
		return "sequence"
	}
	return fmt.Sprintf("%s %q", f.Step, f.StepName)
}

// Input is what a lint run looks at.
type Input struct {
	// Sequence is the task sequence object model (required).
	Sequence *cim.Instance
	// Source is the file or stored XML the sequence was read from, when
	// there is one: it gives findings their line numbers.
	Source []byte
	// SequenceXML is the sequence as ConfigMgr stores it (compact, as the
	// codec writes it): the size rules measure it. Nil when the caller did
	// not write it, and the size rules then say nothing.
	SequenceXML []byte
	// BootImageID is the package's boot image (a reference the sequence
	// itself does not hold).
	BootImageID string
	// Packages answers what the site knows of the packages and
	// applications the sequence refers to; nil when nothing is known, and
	// the rules that need it then say nothing.
	Packages Packages
}

// Packages is what the caller knows about the objects a sequence refers
// to. A server answers from its store and its distribution records; a file
// linted offline has no answer (nil).
type Packages interface {
	// Lookup returns what is known of the package or application that r
	// names; ok is false when the caller cannot tell (the reference rules
	// then report nothing for r).
	Lookup(r taskseq.Reference) (state PackageState, ok bool)
}

// PackageState is what the site knows of one referenced object.
type PackageState struct {
	// Exists: the package (or application) is on the site.
	Exists bool
	// Content is what is known of its content on distribution points.
	Content Content
}

// Content is what is known of a package's content on distribution points.
type Content int

const (
	// ContentUnknown: the caller does not know (the content rule then
	// reports nothing).
	ContentUnknown Content = iota
	// ContentNone: no distribution point holds the content.
	ContentNone
	// ContentOnDP: at least one distribution point holds it.
	ContentOnDP
)

// PackageTable is a Packages answered from a table by upper-case id; ids
// absent from it are unknown.
type PackageTable map[string]PackageState

// Lookup answers from the table.
func (t PackageTable) Lookup(r taskseq.Reference) (PackageState, bool) {
	s, ok := t[strings.ToUpper(r.Package)]
	return s, ok
}

// Result is the outcome of a lint run.
type Result struct {
	Findings []Finding `json:"findings"`
	// Unknown names the facts that were missing, so that the rules needing
	// them said nothing (e.g. "packages").
	Unknown []string `json:"unknown,omitempty"`
}

// Worst returns the highest severity among the findings (Off when none).
func (r *Result) Worst() Severity {
	w := Off
	for _, f := range r.Findings {
		w = max(w, f.Severity)
	}
	return w
}

// Counts returns how many findings each severity has.
func (r *Result) Counts() map[Severity]int {
	c := map[Severity]int{}
	for _, f := range r.Findings {
		c[f.Severity]++
	}
	return c
}

// Run applies every rule that cfg leaves on to in and returns the
// findings in document order (sequence-wide findings first).
func Run(in Input, cfg *Config) (*Result, error) {
	if in.Sequence == nil {
		return nil, errs.E(errs.Invalid, "lint: no task sequence")
	}
	if cfg == nil {
		cfg = &Config{}
	}
	l := newLinter(in, cfg)
	for _, r := range Rules() {
		if cfg.severity(r) == Off {
			continue
		}
		r.check(l)
	}
	res := &Result{Findings: l.findings, Unknown: l.unknown()}
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	order := map[string]int{}
	for i, s := range l.steps {
		order[s.path] = i + 1
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		return order[res.Findings[i].Step] < order[res.Findings[j].Step]
	})
	return res, nil
}

// step is one step of the sequence as the rules see it.
type step struct {
	in      *cim.Instance
	path    string // Steps[2].Steps[0]
	name    string
	depth   int
	parent  *step // nil at the top
	enabled bool  // the step and all its groups are enabled
	line    int
	index   int // position in document order
}

// linter holds a run's state.
type linter struct {
	in       Input
	cfg      *Config
	steps    []*step
	findings []Finding
	missing  map[string]bool
	stepRefs [][]taskseq.Reference
}

func newLinter(in Input, cfg *Config) *linter {
	l := &linter{in: in, cfg: cfg, missing: map[string]bool{}}
	byPath := map[string]*step{}
	taskseq.Walk(in.Sequence, func(s *cim.Instance, path []int) bool {
		st := &step{in: s, path: pathLabel(path), name: s.String("Name"), depth: len(path), index: len(l.steps)}
		if len(path) > 1 {
			st.parent = byPath[pathLabel(path[:len(path)-1])]
		}
		st.enabled = taskseq.IsEnabled(s) && (st.parent == nil || st.parent.enabled)
		byPath[st.path] = st
		l.steps = append(l.steps, st)
		return true
	})
	if lines := stepLines(in.Source); len(lines) == len(l.steps) {
		for i, s := range l.steps {
			s.line = lines[i]
		}
	}
	return l
}

func pathLabel(path []int) string {
	var b strings.Builder
	for i, n := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprintf(&b, "Steps[%d]", n)
	}
	return b.String()
}

// report adds a finding of rule r at step s (nil: the sequence).
func (l *linter) report(r *Rule, s *step, format string, args ...any) {
	f := Finding{Rule: r.ID, Severity: l.cfg.severity(r), Message: fmt.Sprintf(format, args...), Hint: r.Hint}
	if s != nil {
		f.Step, f.StepName, f.Line = s.path, s.name, s.line
	}
	l.findings = append(l.findings, f)
}

// lacks records that a rule could not run for want of a fact.
func (l *linter) lacks(fact string) { l.missing[fact] = true }

func (l *linter) unknown() []string {
	var out []string
	for k := range l.missing {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// conditions returns the conditions that must all hold for s to run: its
// groups' (outermost first) and its own.
func (s *step) conditions() []*cim.Instance {
	var out []*cim.Instance
	for p := s; p != nil; p = p.parent {
		if c, ok := p.in.Values["Condition"].(*cim.Instance); ok {
			out = append([]*cim.Instance{c}, out...)
		}
	}
	return out
}

// isGroup reports a group.
func (s *step) isGroup() bool { return s.in.Class.IsA("SMS_TaskSequence_Group") }

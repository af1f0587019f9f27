// Package diff compares two task sequences on the object model: which
// steps and groups were added, removed, moved, renamed, enabled or
// disabled, which of their properties, conditions and variables changed,
// and which references the sequence gained and lost. It reads no text, so
// attribute order, white space and the <action> line a template derives
// make no difference. It is pure: no I/O, no storage.
//
// Steps have no ids. The matching (docs/history-diff-lint-plan.md, "How
// steps are matched") identifies a step by its type and name and aligns
// the children of each pair of matched groups by their longest common
// subsequence; the steps left over are then paired, in rounds, as renamed
// in place (same type, same place between matched neighbours, mostly the
// same content), as moved (same type and name elsewhere), and as renamed
// and moved (same type and same content elsewhere). What is still left is
// added or removed.
package diff

import (
	"maps"
	"slices"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// Kind says what a change is.
type Kind string

// The kinds of change, in the order a summary lists them.
const (
	Added            Kind = "added"
	Removed          Kind = "removed"
	Moved            Kind = "moved"
	Renamed          Kind = "renamed"
	Enabled          Kind = "enabled"
	Disabled         Kind = "disabled"
	PropertyChanged  Kind = "property"
	ConditionChanged Kind = "condition"
	VariableChanged  Kind = "variable"
	ReferenceGained  Kind = "reference-gained"
	ReferenceLost    Kind = "reference-lost"
	PackageChanged   Kind = "package-property"
)

// Kinds lists every kind of change.
var Kinds = []Kind{Added, Removed, Moved, Renamed, Enabled, Disabled, PropertyChanged,
	ConditionChanged, VariableChanged, ReferenceGained, ReferenceLost, PackageChanged}

// Change is one difference. Path and Index place the step in the sequence
// the change leads to (in the one it came from for Removed): the names of
// its groups and its own, and its 1-based position at each level ("2.3").
// An empty Path is the sequence (variables, references) or the package.
type Change struct {
	Kind  Kind     `json:"kind"`
	Path  []string `json:"path,omitempty"`
	Index string   `json:"index,omitempty"`
	// Type is the step's type (StepType); Group is true for a group.
	Type  string `json:"type,omitempty"`
	Group bool   `json:"group,omitempty"`
	// Steps counts the steps inside an added or removed group.
	Steps int `json:"steps,omitempty"`
	// FromPath and FromIndex are where a moved step was.
	FromPath  []string `json:"fromPath,omitempty"`
	FromIndex string   `json:"fromIndex,omitempty"`
	// Property names the property, attribute or variable that changed.
	Property string `json:"property,omitempty"`
	// Old and New are the values before and after, as text; absent when
	// there was none (a variable added or removed). Secret values read
	// "(secret)".
	Old *string `json:"old,omitempty"`
	New *string `json:"new,omitempty"`
	// Reference is the reference gained or lost.
	Reference *taskseq.Reference `json:"reference,omitempty"`
}

// Input is one side of a comparison: a task sequence (SMS_TaskSequence)
// and, when it is a stored package or a revision of one, the package
// (SMS_TaskSequencePackage) whose properties are compared too.
type Input struct {
	Sequence *cim.Instance
	Package  *cim.Instance
	// Label names the side in the output (a file name, "PS100012@3").
	Label string
}

// Result is the difference between two inputs, in the order of the
// sequence it leads to.
type Result struct {
	From    string       `json:"from"`
	To      string       `json:"to"`
	Changes []Change     `json:"changes"`
	Summary map[Kind]int `json:"summary"`
}

// Same reports whether the two sides do not differ.
func (r *Result) Same() bool { return len(r.Changes) == 0 }

// Compare returns the changes that lead from from to to.
func Compare(from, to Input) *Result {
	res := &Result{From: from.Label, To: to.Label, Changes: []Change{}, Summary: map[Kind]int{}}
	add := func(c Change) {
		res.Changes = append(res.Changes, c)
		res.Summary[c.Kind]++
	}
	if from.Package != nil && to.Package != nil {
		comparePackages(from.Package, to.Package, add)
	}
	if from.Sequence != nil && to.Sequence != nil {
		compareSequences(from.Sequence, to.Sequence, add)
	}
	return res
}

// comparePackages reports the package properties a user writes (not the
// read-only ones the provider derives, nor the sequence itself).
func comparePackages(a, b *cim.Instance, add func(Change)) {
	for _, p := range b.Class.Properties {
		if p.IsReadOnly() || strings.EqualFold(p.Name, "Sequence") {
			continue
		}
		va, vb := a.Values[p.Name], b.Values[p.Name]
		if cim.Equal(va, vb) {
			continue
		}
		add(Change{Kind: PackageChanged, Property: p.Name, Old: text(render(p, va)), New: text(render(p, vb))})
	}
}

func compareSequences(a, b *cim.Instance, add func(Change)) {
	m := newMatcher(a, b)
	m.match()
	compareVariables(m.rootB, taskseq.ListedVariables(a), taskseq.ListedVariables(b), add)
	m.emit(m.rootB, add)
	compareReferences(taskseq.References(a), taskseq.References(b), add)
}

func text(s string) *string { return &s }

// compareVariables reports variables added, removed and changed, by name
// (names compare without regard to case, as the engine reads them).
func compareVariables(at *node, a, b []taskseq.Variable, add func(Change)) {
	old := map[string]taskseq.Variable{}
	for _, v := range a {
		old[strings.ToLower(v.Name)] = v
	}
	seen := map[string]bool{}
	for _, v := range b {
		k := strings.ToLower(v.Name)
		seen[k] = true
		c := at.change(VariableChanged)
		c.Property = v.Name
		c.New = text(v.Value)
		if o, ok := old[k]; ok {
			if o.Value == v.Value {
				continue
			}
			c.Old = text(o.Value)
		}
		add(c)
	}
	for _, v := range a {
		if !seen[strings.ToLower(v.Name)] {
			c := at.change(VariableChanged)
			c.Property = v.Name
			c.Old = text(v.Value)
			add(c)
		}
	}
}

// compareReferences reports the references gained and lost.
func compareReferences(a, b []taskseq.Reference, add func(Change)) {
	key := func(r taskseq.Reference) taskseq.Reference {
		return taskseq.Reference{Package: strings.ToUpper(r.Package), Program: strings.ToUpper(r.Program), Type: r.Type}
	}
	in := func(list []taskseq.Reference) map[taskseq.Reference]bool {
		m := map[taskseq.Reference]bool{}
		for _, r := range list {
			m[key(r)] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	for _, r := range b {
		if !ina[key(r)] {
			r := r
			add(Change{Kind: ReferenceGained, Reference: &r})
		}
	}
	for _, r := range a {
		if !inb[key(r)] {
			r := r
			add(Change{Kind: ReferenceLost, Reference: &r})
		}
	}
}

// SortedKinds returns the kinds the summary counts, in the order of Kinds.
func (r *Result) SortedKinds() []Kind {
	var out []Kind
	for _, k := range Kinds {
		if r.Summary[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}

// sortedKeys is m's keys in order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

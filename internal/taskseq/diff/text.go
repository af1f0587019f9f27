package diff

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ANSI colours of the text output on a terminal.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// WriteText writes the result for people: a header naming the two sides,
// one line a change (its mark, kind, step and what changed), and a
// summary. With colour, marks and values are coloured with ANSI escapes.
func (r *Result) WriteText(w io.Writer, colour bool) error {
	bw := bufio.NewWriter(w)
	paint := func(c, s string) string {
		if !colour {
			return s
		}
		return c + s + reset
	}
	fmt.Fprintf(bw, "%s\n%s\n", paint(bold, "--- "+r.From), paint(bold, "+++ "+r.To))
	for _, c := range r.Changes {
		mark, col := markOf(c.Kind)
		fmt.Fprintf(bw, "%s %-9s %s", paint(col, mark), c.Kind, c.subject())
		switch c.Kind {
		case Moved:
			fmt.Fprintf(bw, " %s %s", paint(cyan, "from"), where(c.FromPath, c.FromIndex))
		case Renamed, PropertyChanged, ConditionChanged, VariableChanged, PackageChanged:
			if c.Kind != Renamed && c.Kind != ConditionChanged {
				fmt.Fprintf(bw, " %s", c.Property)
			}
			fmt.Fprintf(bw, ": %s → %s", paint(red, value(c.Old, c.Kind)), paint(green, value(c.New, c.Kind)))
		}
		bw.WriteByte('\n')
	}
	if len(r.Changes) == 0 {
		bw.WriteString("no differences\n")
	} else {
		var parts []string
		for _, k := range r.SortedKinds() {
			parts = append(parts, fmt.Sprintf("%d %s", r.Summary[k], k))
		}
		noun := "changes"
		if len(r.Changes) == 1 {
			noun = "change"
		}
		fmt.Fprintf(bw, "%d %s: %s\n", len(r.Changes), noun, strings.Join(parts, ", "))
	}
	return bw.Flush()
}

func markOf(k Kind) (string, string) {
	switch k {
	case Added, ReferenceGained, Enabled:
		return "+", green
	case Removed, ReferenceLost, Disabled:
		return "-", red
	case Moved:
		return ">", cyan
	}
	return "~", yellow
}

// subject names what changed: the step (kind of element, place, type),
// the sequence, the package or the reference.
func (c Change) subject() string {
	switch {
	case c.Reference != nil:
		s := c.Reference.Package
		if c.Reference.Type == 1 {
			return "application " + s
		}
		if p := c.Reference.Program; p != "" {
			s += fmt.Sprintf(" (program %q)", p)
		}
		return "package " + s
	case c.Kind == PackageChanged:
		return "package"
	case len(c.Path) == 0:
		return "sequence"
	}
	what := "step"
	if c.Group {
		what = "group"
	}
	s := fmt.Sprintf("%s %s <%s>", what, where(c.Path, c.Index), c.Type)
	if c.Group && (c.Kind == Added || c.Kind == Removed) {
		s += fmt.Sprintf(" with %d steps", c.Steps)
	}
	return s
}

// where writes a place: the names from the top joined by " / ", then the
// positions.
func where(path []string, index string) string {
	quoted := make([]string, len(path))
	for i, p := range path {
		quoted[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(quoted, " / ") + " (" + index + ")"
}

func value(v *string, k Kind) string {
	switch {
	case v == nil && k == ConditionChanged:
		return "(none)"
	case v == nil:
		return "(absent)"
	case k == VariableChanged || k == Renamed || k == ConditionChanged:
		return fmt.Sprintf("%q", *v)
	}
	return *v
}

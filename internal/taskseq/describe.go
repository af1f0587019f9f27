package taskseq

import (
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// DescribeCondition renders a condition as one readable line, e.g.
// `_SMSTSInWinPE equals "false" and (WMI "SELECT …" or not file exists "C:\x")`.
func DescribeCondition(cond *cim.Instance) string {
	if cond == nil {
		return ""
	}
	ops, _ := cond.Values["Operands"].([]any)
	return describeOperands(ops, "and")
}

func describeOperands(ops []any, join string) string {
	parts := make([]string, 0, len(ops))
	for _, o := range ops {
		in, ok := o.(*cim.Instance)
		if !ok {
			continue
		}
		s := describeOperand(in)
		if len(ops) > 1 && in.Class.IsA(classOperator) && !strings.EqualFold(in.String("OperatorType"), "not") {
			s = "(" + s + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "(empty)"
	}
	return strings.Join(parts, " "+join+" ")
}

func describeOperand(in *cim.Instance) string {
	v := func(name string) string { s, _ := in.Values[name].(string); return s }
	c := in.Class
	switch {
	case c.IsA(classOSExprGroup):
		return fmt.Sprintf("OS %q", v("Name"))
	case c.IsA(classOperator):
		ops, _ := in.Values["Operands"].([]any)
		t := strings.ToLower(v("OperatorType"))
		if t == "not" {
			return "not " + describeOperands(ops, "and")
		}
		return describeOperands(ops, t)
	case c.IsA(classGenericExpr):
		var kv []string
		vars, _ := in.Values["Variables"].([]any)
		for _, x := range vars {
			if vi, ok := x.(*cim.Instance); ok {
				kv = append(kv, fmt.Sprintf("%s=%q", vi.String("Name"), vi.String("Value")))
			}
		}
		return fmt.Sprintf("%s(%s)", v("ExpressionType"), strings.Join(kv, ", "))
	}
	name := strings.TrimSuffix(strings.TrimPrefix(c.Name, "SMS_TaskSequence_"), "ConditionExpression")
	switch name {
	case "Variable":
		if val := v("Value"); val != "" || !strings.Contains(strings.ToLower(v("Operator")), "exist") {
			return fmt.Sprintf("%s %s %q", v("Variable"), v("Operator"), val)
		}
		return fmt.Sprintf("%s %s", v("Variable"), v("Operator"))
	case "WMI":
		return fmt.Sprintf("WMI %q", v("Query"))
	case "File", "Folder":
		return fmt.Sprintf("%s exists %q", strings.ToLower(name), v("Path"))
	case "Registry":
		return fmt.Sprintf("registry %s\\%s %s %q", v("KeyPath"), v("Value"), v("Operator"), v("Data"))
	case "Software":
		id := v("ProductCode")
		if id == "" {
			id = v("UpgradeCode")
		}
		return fmt.Sprintf("software %s %s", id, v("Operator"))
	}
	var kv []string
	for _, p := range c.Properties {
		if s, ok := in.Values[p.Name].(string); ok && s != "" {
			kv = append(kv, fmt.Sprintf("%s=%q", p.Name, s))
		}
	}
	return fmt.Sprintf("%s(%s)", name, strings.Join(kv, ", "))
}

// StepType is a step's type as a user reads it: the class without its
// SMS_TaskSequence_ prefix, or the raw type of a generic step.
func StepType(step *cim.Instance) string {
	if step.Class.IsA(classGenericAction) {
		if t := step.String("ActionType"); t != "" {
			return t
		}
		return "(no type)"
	}
	return strings.TrimPrefix(step.Class.Name, "SMS_TaskSequence_")
}

// Tree renders the sequence as an indented tree: groups, steps with their
// types, conditions, and disabled steps marked.
func Tree(ts *cim.Instance) string {
	var b strings.Builder
	steps, count := 0, 0
	Walk(ts, func(*cim.Instance, []int) bool { count++; return true })
	fmt.Fprintf(&b, "sequence %s, %d steps\n", ts.String("SchemaVersion"), count)
	Walk(ts, func(step *cim.Instance, path []int) bool {
		steps++
		indent := strings.Repeat("  ", len(path)-1)
		marker := "-"
		if step.Class.IsA(classGroup) {
			marker = "+"
		}
		name := step.String("Name")
		disabled := ""
		if e, ok := step.Values["Enabled"].(bool); ok && !e {
			disabled = " [disabled]"
		}
		fmt.Fprintf(&b, "%s%s %s%s  <%s>", indent, marker, name, disabled, StepType(step))
		if step.Values["ContinueOnError"] == true {
			b.WriteString(" [continue on error]")
		}
		if cond, ok := step.Values["Condition"].(*cim.Instance); ok {
			fmt.Fprintf(&b, "\n%s    if %s", indent, DescribeCondition(cond))
		}
		b.WriteByte('\n')
		return true
	})
	return b.String()
}

// RunsMDTGather reports MDT's Gather step (BDD_Gather, or a command line
// running ZTIGather.wsf): it sets whatever variables MDT's rules
// (CustomSettings.ini, the MDT database) name, which no sequence shows.
func RunsMDTGather(step *cim.Instance) bool {
	if step.Class.IsA("BDD_Gather") || strings.EqualFold(step.String("ActionType"), "BDD_Gather") {
		return true
	}
	for _, p := range []string{"CommandLine", "Action"} {
		if v, ok := step.Values[p].(string); ok && strings.Contains(strings.ToLower(v), "ztigather.wsf") {
			return true
		}
	}
	return false
}

package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// BuiltinVariables are the variables a task sequence may read without a
// step setting them, by upper-case name. Every variable whose name starts
// with "_" is built in too: the engine sets those and they are read-only.
// docs/history-diff-lint-plan.md says where each group comes from.
var BuiltinVariables = builtinSet(
	// Set by the task sequence engine or the ConfigMgr client without a
	// leading underscore (Microsoft's task sequence variable reference).
	"OSDComputerName", "SMSTSLocalDataDrive", "SMSTSLanguageFolder", "SMSTSPreferredAdvertID",
	"OSArchitecture", "SMSTSRebootRequested", "SMSTSRetryRequested",
	// Windows environment variables, which command lines expand like task
	// sequence variables.
	"ALLUSERSPROFILE", "APPDATA", "CD", "CommonProgramFiles", "CommonProgramFiles(x86)", "CommonProgramW6432",
	"COMPUTERNAME", "ComSpec", "DATE", "ERRORLEVEL", "HOMEDRIVE", "HOMEPATH", "LOCALAPPDATA",
	"NUMBER_OF_PROCESSORS", "OS", "PATH", "PATHEXT", "PROCESSOR_ARCHITECTURE", "ProgramData",
	"ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "PUBLIC", "RANDOM", "SystemDrive",
	"SystemRoot", "TEMP", "TIME", "TMP", "USERDOMAIN", "USERNAME", "USERPROFILE", "windir",
	// Set by MDT's LiteTouch and ZTI scripts before the first step runs.
	"SCRIPTROOT", "DEPLOYROOT", "TOOLROOT", "DEPLOYDRIVE", "RESOURCEROOT",
)

func builtinSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToUpper(n)] = true
	}
	return m
}

// IsBuiltin reports whether a variable needs no step to set it.
func IsBuiltin(name string) bool {
	return strings.HasPrefix(name, "_") || BuiltinVariables[strings.ToUpper(name)]
}

// percentName matches the name inside %…%.
var percentName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.()-]*$`)

// percentVariables returns the names a text references as %Name%, in order.
func percentVariables(s string) []string {
	parts := strings.Split(s, "%")
	var out []string
	for i := 1; i+1 < len(parts); i++ {
		if percentName.MatchString(parts[i]) {
			out = append(out, parts[i])
			i++ // the closing % cannot open another
		}
	}
	return out
}

// read is one variable a step reads.
type read struct {
	name  string
	where string
}

// reads returns the variables a step reads: in its conditions (its own
// and its Set Dynamic Variables rules'), and as %Name% in its string
// values.
func reads(s *step) []read {
	var out []read
	for _, lc := range stepConditions(s) {
		ops, _ := lc.cond.Values["Operands"].([]any)
		eachExpression(ops, func(e *cim.Instance) {
			if e.Class.IsA("SMS_TaskSequence_VariableConditionExpression") {
				out = append(out, read{e.String("Variable"), lc.label})
			}
		})
	}
	eachString(s.in, "", func(prop, v string) {
		for _, n := range percentVariables(v) {
			out = append(out, read{n, prop})
		}
	})
	return out
}

// eachString calls fn for every string value of an instance and of its
// embedded objects other than steps and conditions.
func eachString(in *cim.Instance, prefix string, fn func(prop, v string)) {
	names := make([]string, 0, len(in.Values))
	for k := range in.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "Steps" || k == "Condition" || k == "Name" || k == "Description" {
			continue
		}
		label := k
		if prefix != "" {
			label = prefix + "." + k
		}
		switch v := in.Values[k].(type) {
		case string:
			fn(label, v)
		case *cim.Instance:
			eachString(v, label, fn)
		case []any:
			for i, e := range v {
				switch x := e.(type) {
				case string:
					fn(fmt.Sprintf("%s[%d]", label, i), x)
				case *cim.Instance:
					eachString(x, fmt.Sprintf("%s[%d]", label, i), fn)
				}
			}
		}
	}
}

// sets returns the variables a step sets when it runs: the variable of Set
// Task Sequence Variable, those of Set Dynamic Variables rules, output
// variables (OutputVariableName, a partition's VolumeLetterVariable), and
// the step's own parameters, which the engine puts in the environment
// under their variable names (VariableName qualifiers; the variables of a
// step no class describes).
func sets(s *step) []string {
	in := s.in
	var out []string
	if in.Class.IsA("SMS_TaskSequence_SetVariableAction") {
		out = append(out, in.String("VariableName"))
	}
	rules, _ := in.Values["Rules"].([]any)
	for _, r := range rules {
		if ri, ok := r.(*cim.Instance); ok {
			vars, _ := ri.Values["Variables"].([]any)
			for _, v := range vars {
				if vi, ok := v.(*cim.Instance); ok {
					out = append(out, vi.String("Name"))
				}
			}
		}
	}
	var outputs func(in *cim.Instance)
	outputs = func(in *cim.Instance) {
		for _, p := range in.Class.Properties {
			v, ok := in.Values[p.Name]
			if !ok || v == nil || p.Name == "Steps" || p.Name == "Condition" {
				continue
			}
			switch x := v.(type) {
			case string:
				if (p.Name == "OutputVariableName" || p.Name == "VolumeLetterVariable") && x != "" {
					out = append(out, x)
				}
			case []any:
				for _, e := range x {
					if sub, ok := e.(*cim.Instance); ok && !sub.Class.IsA("SMS_TaskSequence_Rule") {
						outputs(sub)
					}
				}
			}
			if n := p.Qualifiers.String("VariableName"); n != "" {
				out = append(out, n)
			}
		}
	}
	outputs(in)
	if in.Class.IsA("TSPROV_GenericAction") {
		vars, _ := in.Values["Variables"].([]any)
		for _, v := range vars {
			if vi, ok := v.(*cim.Instance); ok {
				out = append(out, vi.String("Name"))
			}
		}
	}
	return out
}

func checkVariablesRead(l *linter) {
	r := rule("variable-read-before-set")
	set := map[string]bool{}
	for _, n := range l.cfg.KnownVariables {
		set[strings.ToUpper(n)] = true
	}
	for _, s := range l.steps {
		if !s.enabled {
			continue
		}
		seen := map[string]bool{}
		for _, rd := range reads(s) {
			key := strings.ToUpper(rd.name)
			if rd.name == "" || set[key] || seen[key] || IsBuiltin(rd.name) {
				continue
			}
			seen[key] = true
			l.report(r, s, "%s reads variable %s, which no earlier step sets", rd.where, rd.name)
		}
		if taskseq.RunsMDTGather(s.in) {
			return // from here on, MDT's rules may set anything
		}
		for _, n := range sets(s) {
			set[strings.ToUpper(n)] = true
		}
	}
}

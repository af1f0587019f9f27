package plan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// truth is a condition's value: true, false, or unknown.
type truth int

const (
	no truth = iota
	yes
	unknown
)

// tri is an evaluated condition: its truth and what was seen, or err for
// one that cannot be evaluated (a WMI query that fails).
type tri struct {
	v   truth
	why string
	err error
}

// condition evaluates a step's condition (an implicit and).
func (s *sim) condition(cond *cim.Instance) tri {
	ops, _ := cond.Values["Operands"].([]any)
	return s.and(ops)
}

func (s *sim) and(ops []any) tri {
	seen, unknowns, decided, ok := s.operands(ops, no)
	switch {
	case ok:
		return decided
	case len(unknowns) > 0:
		return tri{v: unknown, why: strings.Join(unknowns, " and ")}
	}
	return tri{v: yes, why: strings.Join(seen, " and ")}
}

func (s *sim) or(ops []any) tri {
	seen, unknowns, decided, ok := s.operands(ops, yes)
	switch {
	case ok:
		return decided
	case len(unknowns) > 0:
		return tri{v: unknown, why: strings.Join(unknowns, " or ")}
	case len(seen) == 0:
		return tri{v: no, why: "an empty or"}
	}
	return tri{v: no, why: "none holds: " + strings.Join(seen, "; ")}
}

// operands evaluates the operands of an and (decisive no) or an or
// (decisive yes) in order. The first operand that fails, or whose truth is
// decisive, decides: it is returned with ok. Otherwise ok is false and
// seen and unknowns hold what the other operands saw.
func (s *sim) operands(ops []any, decisive truth) (seen, unknowns []string, decided tri, ok bool) {
	for _, o := range ops {
		r := s.operand(o)
		switch {
		case r.err != nil, r.v == decisive:
			return nil, nil, r, true
		case r.v == unknown:
			unknowns = append(unknowns, r.why)
		default:
			seen = append(seen, r.why)
		}
	}
	return seen, unknowns, tri{}, false
}

func (s *sim) operand(o any) tri {
	in, ok := o.(*cim.Instance)
	if !ok {
		return tri{v: unknown, why: "an operand tsprov cannot read"}
	}
	c := in.Class
	ops, _ := in.Values["Operands"].([]any)
	switch {
	case c.IsA("SMS_TaskSequence_OSExpressionGroup"):
		return s.osGroup(in, ops)
	case c.IsA("SMS_TaskSequence_ConditionOperator"):
		switch strings.ToLower(in.String("OperatorType")) {
		case "and":
			return s.and(ops)
		case "or":
			return s.or(ops)
		case "not":
			r := s.and(ops)
			switch r.v {
			case yes:
				r.v = no
			case no:
				r.v = yes
			}
			r.why = "not (" + r.why + ")"
			return r
		}
		return tri{v: unknown, why: fmt.Sprintf("operator %q", in.String("OperatorType"))}
	case c.IsA("SMS_TaskSequence_VariableConditionExpression"):
		return s.variable(in)
	case c.IsA("SMS_TaskSequence_WMIConditionExpression"):
		return s.wmi(in)
	case c.IsA("SMS_TaskSequence_FileConditionExpression"):
		return s.path(in, "file", s.machine.Files, "files")
	case c.IsA("SMS_TaskSequence_FolderConditionExpression"):
		return s.path(in, "folder", s.machine.Folders, "folders")
	case c.IsA("SMS_TaskSequence_RegistryConditionExpression"):
		return s.registry(in)
	case c.IsA("SMS_TaskSequence_SoftwareConditionExpression"):
		return s.software(in)
	case c.IsA("SMS_TaskSequence_OSConditionExpression"):
		return s.osExpression(in)
	case c.IsA("SMS_TaskSequence_MakeModelConditionExpression"):
		return s.makeModel(in)
	case c.IsA("SMS_TaskSequence_ComputerConditionExpression"):
		return s.computer(in)
	case c.IsA("SMS_TaskSequence_LocationConditionExpression"):
		return s.location(in)
	}
	return tri{v: unknown, why: taskseq.DescribeCondition(&cim.Instance{Class: c, Values: map[string]any{"Operands": []any{in}}}) + ": tsprov does not evaluate this kind of condition"}
}

// show renders a variable as seen, hidden values masked.
func (s *sim) show(name string) string {
	v, exists, known := s.vars.get(name)
	switch {
	case !known && s.vars.unknown[strings.ToUpper(name)]:
		return name + " is set at run time by a script"
	case !known:
		return name + " is not set, but MDT's Gather may have set it"
	case !exists:
		return name + " is not set"
	case s.vars.hidden[strings.ToUpper(name)]:
		return name + " is " + hiddenValue
	}
	return fmt.Sprintf("%s is %q", name, v)
}

// variable evaluates a variable test as the engine does: names and
// values without regard to case, numbers as numbers when both sides are
// numbers, like with % and _ wildcards; a variable set to nothing does not
// exist.
func (s *sim) variable(in *cim.Instance) tri {
	name, op, want := in.String("Variable"), strings.ToLower(in.String("Operator")), in.String("Value")
	text := fmt.Sprintf("%s %s %q", name, in.String("Operator"), want)
	if op == "exists" || op == "notexists" {
		text = fmt.Sprintf("%s %s", name, in.String("Operator"))
	}
	v, exists, known := s.vars.get(name)
	why := text + ": " + s.show(name)
	if !known {
		return tri{v: unknown, why: why}
	}
	var ok bool
	switch op {
	case "exists":
		ok = exists
	case "notexists":
		ok = !exists
	case "equals":
		ok = compareText(v, want) == 0
	case "notequals":
		ok = compareText(v, want) != 0
	case "less":
		ok = compareText(v, want) < 0
	case "lessequal":
		ok = compareText(v, want) <= 0
	case "greater":
		ok = compareText(v, want) > 0
	case "greaterequal":
		ok = compareText(v, want) >= 0
	case "like":
		ok = query.MatchLike(want, v)
	default:
		return tri{v: unknown, why: text + ": unknown operator"}
	}
	return tri{v: truthOf(ok), why: why}
}

func truthOf(b bool) truth {
	if b {
		return yes
	}
	return no
}

// compareText compares two values as numbers when both are, else as text
// without regard to case.
func compareText(a, b string) int {
	fa, errA := strconv.ParseFloat(strings.TrimSpace(a), 64)
	fb, errB := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if errA == nil && errB == nil {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// wmi runs a WMI condition's query over the instances the machine lists.
// A query that cannot run makes the condition fail, as on a client,
// unless the expression says ignoreQueryFailure: then it is false.
func (s *sim) wmi(in *cim.Instance) tri {
	q := s.vars.expand(in.String("Query"))
	ns := in.String("Namespace")
	text := fmt.Sprintf("WMI %q", q)
	found, listed, err := s.machine.wql(ns, q)
	switch {
	case err != nil && errs.Is(err, errs.NotImplemented):
		return tri{v: unknown, why: text + ": " + errs.Message(err)}
	case err != nil:
		if ignore, _ := taskseq.XMLAttr(in, "ignoreQueryFailure"); strings.EqualFold(ignore, "true") {
			return tri{v: no, why: text + ": the query fails (" + errs.Message(err) + "), ignored"}
		}
		return tri{v: no, why: text + ": the query fails: " + errs.Message(err), err: errors.New(errs.Message(err))}
	case !listed:
		return tri{v: unknown, why: text + ": the machine description does not list that class"}
	case found:
		return tri{v: yes, why: text + ": selects an instance"}
	}
	return tri{v: no, why: text + ": selects no instance"}
}

// path tests that a file or folder exists.
func (s *sim) path(in *cim.Instance, what string, list []string, member string) tri {
	p := s.vars.expand(in.String("Path"))
	text := fmt.Sprintf("%s exists %q", what, p)
	if !s.machine.knows(member) {
		return tri{v: unknown, why: text + ": the machine description has no " + member}
	}
	if in.String("DateTime") != "" || in.String("Version") != "" {
		return tri{v: unknown, why: text + ": tsprov does not know file dates and versions"}
	}
	for _, f := range list {
		if strings.EqualFold(strings.TrimRight(f, `\`), strings.TrimRight(p, `\`)) {
			return tri{v: yes, why: text + ": it exists"}
		}
	}
	return tri{v: no, why: text + ": it does not exist"}
}

// registryRoots maps the short forms of registry roots to the long ones.
var registryRoots = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
	"HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG",
}

func normalKey(k string) string {
	k = strings.ToUpper(strings.Trim(k, `\`))
	root, rest, _ := strings.Cut(k, `\`)
	if long, ok := registryRoots[root]; ok {
		root = long
	}
	if rest == "" {
		return root
	}
	return root + `\` + rest
}

func (s *sim) registry(in *cim.Instance) tri {
	key, name := s.vars.expand(in.String("KeyPath")), in.String("Value")
	op, want := strings.ToLower(in.String("Operator")), in.String("Data")
	text := fmt.Sprintf("registry %s\\%s %s %q", key, name, in.String("Operator"), want)
	if !s.machine.knows("registry") {
		return tri{v: unknown, why: text + ": the machine description has no registry"}
	}
	var values map[string]RegistryValue
	keyExists := false
	for k, vals := range s.machine.Registry {
		if normalKey(k) == normalKey(key) {
			values, keyExists = vals, true
		}
	}
	var val RegistryValue
	valExists := keyExists && name == ""
	for n, v := range values {
		if strings.EqualFold(n, name) {
			val, valExists = v, true
		}
	}
	seen := "it does not exist"
	if valExists {
		seen = fmt.Sprintf("it is %q", val.Data)
		if name == "" {
			seen = "the key exists"
		}
	}
	var ok bool
	switch op {
	case "exists":
		ok = valExists
	case "notexists", "nonexists":
		ok = !valExists
	case "equals":
		ok = valExists && compareText(val.Data, want) == 0
	case "notequals":
		ok = !valExists || compareText(val.Data, want) != 0
	case "less", "lessequal", "greater", "greaterequal":
		if !valExists {
			return tri{v: no, why: text + ": " + seen}
		}
		c := compareText(val.Data, want)
		ok = op == "less" && c < 0 || op == "lessequal" && c <= 0 || op == "greater" && c > 0 || op == "greaterequal" && c >= 0
	default:
		return tri{v: unknown, why: text + ": unknown operator"}
	}
	return tri{v: truthOf(ok), why: text + ": " + seen}
}

func (s *sim) software(in *cim.Instance) tri {
	op := strings.ToLower(in.String("Operator"))
	code, field := in.String("ProductCode"), "productCode"
	if op == "anyversion" || code == "" {
		code, field = in.String("UpgradeCode"), "upgradeCode"
	}
	text := fmt.Sprintf("software %s %s", code, in.String("Operator"))
	if !s.machine.knows("software") {
		return tri{v: unknown, why: text + ": the machine description has no software"}
	}
	for _, p := range s.machine.Software {
		have := p.ProductCode
		if field == "upgradeCode" {
			have = p.UpgradeCode
		}
		if strings.EqualFold(strings.Trim(have, "{}"), strings.Trim(code, "{}")) && code != "" {
			return tri{v: yes, why: text + ": installed (" + p.Name + " " + p.Version + ")"}
		}
	}
	return tri{v: no, why: text + ": not installed"}
}

// compareVersions compares dotted versions part by part as numbers.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.TrimSpace(pa[i]))
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(strings.TrimSpace(pb[i]))
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// archMatches compares architectures: X64 is x64, AMD64 and 64-bit.
func archMatches(want, have string) bool {
	norm := func(s string) string {
		switch s = strings.ToLower(strings.TrimSpace(s)); s {
		case "x64", "amd64", "64-bit", "64":
			return "x64"
		case "x86", "i386", "32-bit", "32":
			return "x86"
		}
		return s
	}
	return want == "" || norm(want) == norm(have)
}

// osExpression is MDT's operating system test.
func (s *sim) osExpression(in *cim.Instance) tri {
	arch, ver, op := in.String("Architecture"), in.String("Version"), strings.ToLower(in.String("Operator"))
	text := fmt.Sprintf("OS %s %s %s", arch, in.String("Operator"), ver)
	if s.winPE {
		return tri{v: no, why: text + ": the machine is in Windows PE"}
	}
	os := s.machine.OS
	if os == nil {
		return tri{v: unknown, why: text + ": the machine description has no os"}
	}
	seen := fmt.Sprintf("the OS is %s %s", os.Architecture, os.Version)
	if !archMatches(arch, os.Architecture) {
		return tri{v: no, why: text + ": " + seen}
	}
	c := compareVersions(os.Version, ver)
	ok := map[string]bool{"equals": c == 0, "notequals": c != 0, "less": c < 0, "lessequal": c <= 0, "greater": c > 0, "greaterequal": c >= 0}[op]
	return tri{v: truthOf(ok || ver == ""), why: text + ": " + seen}
}

// osGroup is one platform of the console's operating system condition:
// the OS version within [minVer, maxVer] and the architecture; its WMI
// queries decide when the machine has no os member.
func (s *sim) osGroup(in *cim.Instance, ops []any) tri {
	name := in.String("Name")
	text := fmt.Sprintf("OS %q", name)
	if s.winPE {
		return tri{v: no, why: text + ": the machine is in Windows PE"}
	}
	os := s.machine.OS
	if os == nil {
		r := s.and(ops)
		r.why = text + ": " + r.why
		return r
	}
	lo, hi := in.String("PlatformMinVerKey"), in.String("PlatformMaxVerKey")
	seen := fmt.Sprintf("the OS is %s %s", os.Architecture, os.Version)
	ok := archMatches(in.String("PlatformArchKey"), os.Architecture) &&
		(lo == "" || compareVersions(os.Version, lo) >= 0) && (hi == "" || compareVersions(os.Version, hi) <= 0)
	return tri{v: truthOf(ok), why: text + ": " + seen}
}

// makeModel is a Set Dynamic Variables rule on make and model (* and %
// are wildcards).
func (s *sim) makeModel(in *cim.Instance) tri {
	mk, md := s.machine.makeModel()
	text := fmt.Sprintf("make %q model %q", in.String("Make"), in.String("Model"))
	if mk == "" && md == "" {
		return tri{v: unknown, why: text + ": the machine description has no make and model"}
	}
	ok := wildMatch(in.String("Make"), mk) && wildMatch(in.String("Model"), md)
	return tri{v: truthOf(ok), why: fmt.Sprintf("%s: the machine is %q %q", text, mk, md)}
}

func wildMatch(pattern, s string) bool {
	return pattern == "" || query.MatchLike(strings.ReplaceAll(pattern, "*", "%"), s)
}

// computer is a Set Dynamic Variables rule on the device's identity:
// every value the rule gives must match.
func (s *sim) computer(in *cim.Instance) tri {
	var parts []string
	result := yes
	check := func(label, want string, have []string) {
		if want == "" {
			return
		}
		parts = append(parts, fmt.Sprintf("%s %q", label, want))
		if len(have) == 0 || have[0] == "" {
			if result == yes {
				result = unknown
			}
			return
		}
		for _, h := range have {
			if strings.EqualFold(normalMAC(h), normalMAC(want)) {
				return
			}
		}
		result = no
	}
	m := s.machine
	check("asset tag", in.String("AssetTag"), []string{m.AssetTag})
	check("serial number", in.String("SerialNumber"), []string{m.SerialNumber})
	check("UUID", in.String("UUID"), []string{m.UUID})
	check("MAC address", in.String("MACAddress"), m.MACAddresses)
	text := "computer " + strings.Join(parts, ", ")
	switch result {
	case unknown:
		return tri{v: unknown, why: text + ": the machine description does not say"}
	case no:
		return tri{v: no, why: text + ": the machine does not match"}
	}
	return tri{v: yes, why: text + ": the machine matches"}
}

func normalMAC(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "-", ":"), ".", ":") }

// location is a Set Dynamic Variables rule on the default gateway.
func (s *sim) location(in *cim.Instance) tri {
	gw := in.String("DefaultGateway")
	text := fmt.Sprintf("default gateway %q", gw)
	if !s.machine.knows("defaultGateways") {
		return tri{v: unknown, why: text + ": the machine description has no defaultGateways"}
	}
	for _, g := range s.machine.DefaultGateways {
		if strings.EqualFold(g, gw) {
			return tri{v: yes, why: text + ": the machine has it"}
		}
	}
	return tri{v: no, why: text + ": the machine has " + strings.Join(s.machine.DefaultGateways, ", ")}
}

// makeModel returns the machine's make and model: as given, else
// Win32_ComputerSystem's Manufacturer and Model.
func (m *Machine) makeModel() (string, string) {
	mk, md := m.Make, m.Model
	if mk == "" || md == "" {
		if mc, ok := m.classes[classKey(`root\cimv2`, "Win32_ComputerSystem")]; ok && len(mc.instances) > 0 {
			if mk == "" {
				mk = mc.instances[0].String("Manufacturer")
			}
			if md == "" {
				md = mc.instances[0].String("Model")
			}
		}
	}
	return mk, md
}

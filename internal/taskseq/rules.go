package taskseq

import (
	"bytes"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// The rules of a Set Dynamic Variables step travel as one variable whose
// value is XML (OSDSetDynamicVariablesRules):
//
//	<Rules><Rule><condition>…</condition><Variables>
//	  <Variable Name="X" IsSecret="false">value</Variable>…
//	</Variables></Rule>…</Rules>
//
// They map to SMS_TaskSequence_Rule objects (Condition, Variables); a
// variable with IsSecret="true" is an SMS_TaskSequence_SecuredVariable.
const (
	classRule       = "SMS_TaskSequence_Rule"
	classSecuredVar = "SMS_TaskSequence_SecuredVariable"
)

// isRuleList reports an array-of-rules property.
func (c *Codec) isRuleList(p *cim.Property) bool {
	if !p.Type.Array || p.Type.Kind != cim.Object {
		return false
	}
	el, ok := c.reg.Class(p.Type.Class)
	return ok && el.IsA(classRule)
}

// parseRules reads the rules XML; ok is false when the text is not rules.
func (c *Codec) parseRules(text string) ([]any, bool) {
	root, err := parseTree([]byte(strings.TrimSpace(text)), DefaultLimits)
	if err != nil || root.Name != "Rules" {
		return nil, false
	}
	ruleClass, okR := c.reg.Class(classRule)
	secured, okS := c.reg.Class(classSecuredVar)
	if !okR || !okS {
		return nil, false
	}
	rules := []any{}
	for _, re := range root.Elements() {
		if re.Name != "Rule" {
			return nil, false
		}
		rule := cim.NewInstance(ruleClass)
		vars := []any{}
		for _, part := range re.Elements() {
			switch part.Name {
			case "condition":
				cond, err := c.decodeCondition(part)
				if err != nil {
					return nil, false
				}
				rule.Set("Condition", cond)
			case "Variables":
				for _, ve := range part.Elements() {
					if ve.Name != "Variable" {
						return nil, false
					}
					cls := c.class(classVariable)
					if s, _ := ve.Attr("IsSecret"); strings.EqualFold(s, "true") {
						cls = secured
					}
					v := cim.NewInstance(cls)
					name, _ := ve.Attr("Name")
					v.Set("Name", name)
					v.Set("Value", ve.Text())
					vars = append(vars, v)
				}
			default:
				return nil, false
			}
		}
		rule.Set("Variables", vars)
		rules = append(rules, rule)
	}
	return rules, true
}

// hasSecretValue reports whether any rule holds a secured variable.
func hasSecretValue(rules []any) bool {
	for _, r := range rules {
		rule, _ := r.(*cim.Instance)
		if rule == nil {
			continue
		}
		vars, _ := rule.Values["Variables"].([]any)
		for _, v := range vars {
			if vi, ok := v.(*cim.Instance); ok && vi.Class.IsA(classSecuredVar) {
				return true
			}
		}
	}
	return false
}

// rulesXML writes rules as the XML the variable holds, in the form every
// ConfigMgr-written value of the corpus has: compact, every element with an
// end tag (<Variable Name="X" IsSecret="false"></Variable>, also inside
// conditions), and a line feed after </Rules>.
func (w *writer) rulesXML(rules []any, where string) (string, error) {
	var b bytes.Buffer
	rw := &writer{c: w.c, opts: w.opts, out: &bytesSink{w: &b, endTags: true}}
	rw.out.open("Rules", nil, false)
	for _, r := range rules {
		rule, ok := r.(*cim.Instance)
		if !ok {
			continue
		}
		rw.out.open("Rule", nil, false)
		if cond, ok := rule.Values["Condition"].(*cim.Instance); ok {
			if err := rw.condition(cond, where+".Condition"); err != nil {
				return "", err
			}
		}
		rw.out.open("Variables", nil, false)
		vars, _ := rule.Values["Variables"].([]any)
		for _, v := range vars {
			vi, ok := v.(*cim.Instance)
			if !ok {
				continue
			}
			secret := vi.Class.IsA(classSecuredVar)
			value := vi.String("Value")
			if secret && w.opts.StripSecrets {
				value = ""
			}
			rw.textElem("Variable", [][2]string{{"Name", vi.String("Name")}, {"IsSecret", boolText(secret)}}, value)
		}
		rw.out.close()
		rw.out.close()
	}
	rw.out.close()
	b.WriteByte('\n')
	return b.String(), nil
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

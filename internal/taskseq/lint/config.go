package lint

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// Config adjusts the rules: a rule turned off or given another severity,
// and the variables that something outside the sequence sets (collection
// and device variables).
//
// As a file (JSON):
//
//	{
//	  "rules": {"disabled-step": "off", "duplicate-step-name": "error"},
//	  "knownVariables": ["OSDComputerName", "Department"]
//	}
type Config struct {
	Rules          map[string]Severity `json:"rules,omitempty"`
	KnownVariables []string            `json:"knownVariables,omitempty"`
}

// ParseConfig reads a configuration file. Unknown members, unknown rule
// ids and unknown severities are errors (errs.Invalid) that name them.
func ParseConfig(data []byte) (*Config, error) {
	var raw struct {
		Rules          map[string]string `json:"rules"`
		KnownVariables []string          `json:"knownVariables"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "lint configuration")
	}
	cfg := &Config{Rules: map[string]Severity{}, KnownVariables: raw.KnownVariables}
	ids := make([]string, 0, len(raw.Rules))
	for id := range raw.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := lookupRule(id)
		if r == nil {
			return nil, errs.Target(errs.Invalid, id, "lint configuration: no rule %q (tsprov ts lint --rules lists them)", id)
		}
		sev, err := ParseSeverity(raw.Rules[id])
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "lint configuration: rule %s", id)
		}
		cfg.Rules[r.ID] = sev
	}
	return cfg, nil
}

// lookupRule finds a rule by id, ignoring case; nil when there is none.
func lookupRule(id string) *Rule {
	for _, r := range rules {
		if strings.EqualFold(r.ID, strings.TrimSpace(id)) {
			return r
		}
	}
	return nil
}

// severity is the rule's severity under the configuration.
func (c *Config) severity(r *Rule) Severity {
	if s, ok := c.Rules[r.ID]; ok {
		return s
	}
	return r.Severity
}

package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Report is the findings of one linted artifact: a file, or a package.
type Report struct {
	// Artifact names what was linted: a file path (relative paths stay
	// relative, for code-review tools) or a PackageID.
	Artifact string  `json:"artifact"`
	Result   *Result `json:"result"`
}

// WriteText writes the findings for a terminal: one line each, with its
// hint under it, then a summary line per artifact.
func WriteText(w io.Writer, reports []Report) error {
	var b strings.Builder
	for _, rep := range reports {
		for _, f := range rep.Result.Findings {
			where := rep.Artifact
			if f.Line > 0 {
				where = fmt.Sprintf("%s:%d", where, f.Line)
			}
			fmt.Fprintf(&b, "%s: %s %s: %s: %s\n", where, f.Severity, f.Rule, f.Where(), f.Message)
			fmt.Fprintf(&b, "    hint: %s\n", f.Hint)
		}
		if len(rep.Result.Unknown) > 0 {
			fmt.Fprintf(&b, "%s: not checked for want of facts: %s\n", rep.Artifact, strings.Join(rep.Result.Unknown, ", "))
		}
		fmt.Fprintf(&b, "%s: %s\n", rep.Artifact, summary(rep.Result))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// summary says how many findings of each severity a result has.
func summary(r *Result) string {
	c := r.Counts()
	if len(r.Findings) == 0 {
		return "no findings"
	}
	var parts []string
	for _, s := range []Severity{Error, Warning, Note} {
		if n := c[s]; n > 0 {
			word := s.String()
			if n > 1 {
				word += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, word))
		}
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes the reports as a JSON document:
// {"reports": [{"artifact", "result": {"findings": […], "unknown": […]}}]}.
func WriteJSON(w io.Writer, reports []Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Reports []Report `json:"reports"`
	}{reports})
}

// SARIFSchema is the schema URI a SARIF 2.1.0 log names.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// The parts of SARIF 2.1.0 that tsprov writes.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri,omitempty"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string       `json:"id"`
		ShortDescription     sarifMessage `json:"shortDescription"`
		Help                 sarifMessage `json:"help"`
		DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
	}
	sarifConfig struct {
		Enabled bool   `json:"enabled"`
		Level   string `json:"level"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name,omitempty"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s Severity) string {
	if s == Off {
		return "none"
	}
	return s.String()
}

// Tool names the program in a SARIF log.
type Tool struct {
	Name, Version, InformationURI string
}

// WriteSARIF writes the reports as one SARIF 2.1.0 run of tool, with
// every rule described (under cfg's severities) and a result per finding,
// located by file and line (when known) and by the step's path.
func WriteSARIF(w io.Writer, tool Tool, cfg *Config, reports []Report) error {
	if cfg == nil {
		cfg = &Config{}
	}
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI}}, Results: []sarifResult{}}
	index := map[string]int{}
	for i, r := range Rules() {
		index[r.ID] = i
		sev := cfg.severity(r)
		level := sarifLevel(sev)
		if sev == Off {
			level = sarifLevel(r.Severity)
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID:                   r.ID,
			ShortDescription:     sarifMessage{r.Summary},
			Help:                 sarifMessage{r.Hint},
			DefaultConfiguration: sarifConfig{Enabled: sev != Off, Level: level},
		})
	}
	for _, rep := range reports {
		for _, f := range rep.Result.Findings {
			loc := sarifLocation{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(rep.Artifact)}}}
			if f.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
			}
			if f.Step != "" {
				loc.LogicalLocations = []sarifLogical{{Name: f.StepName, FullyQualifiedName: f.Step, Kind: "element"}}
			}
			run.Results = append(run.Results, sarifResult{
				RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
				Message:   sarifMessage{fmt.Sprintf("%s: %s", f.Where(), f.Message)},
				Locations: []sarifLocation{loc},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// artifactURI writes a file path as a URI reference: forward slashes,
// spaces and other reserved characters percent-encoded.
func artifactURI(path string) string {
	path = strings.ReplaceAll(path, `\`, "/")
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~/:@!$&'()*+,;=", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

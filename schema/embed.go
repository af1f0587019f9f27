// Package schema holds the MOF files that declare every class tsprov
// serves. They are embedded in the binary and read at start-up.
package schema

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tsprov/tsprov/internal/cim"
)

// FS holds the *.mof files.
//
//go:embed *.mof
var FS embed.FS

var (
	once sync.Once
	reg  *cim.Registry
	err  error
)

// Registry returns the class registry built from the embedded schema. It is
// parsed once; the result is shared and must not be modified.
func Registry() (*cim.Registry, error) {
	once.Do(func() { reg, err = cim.Load(FS) })
	return reg, err
}

// CustomActionBase is the class every custom action derives from.
const CustomActionBase = "SMS_TaskSequence_Action"

// genericAction is tsprov's class for steps of an unknown type; a custom
// action cannot derive from it (the codec reads its properties as the
// step's raw XML).
const genericAction = "TSPROV_GenericAction"

// WithCustomActions returns the registry of the embedded schema extended
// with the custom action classes that the *.mof files of dir declare (in
// name order), as ConfigMgr adds a vendor's custom actions with mofcomp.
// An empty dir gives Registry(). Outcomes: the registry; or an error of
// one line naming the file, the line and the reason: dir cannot be read or
// holds no *.mof file, a file does not parse, a class clashes with a
// built-in class or another file's, or does not derive from
// SMS_TaskSequence_Action.
func WithCustomActions(dir string) (*cim.Registry, error) {
	base, err := Registry()
	if err != nil || dir == "" {
		return base, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("custom actions: %w", err)
	}
	var sources []cim.Source
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".mof") {
			continue
		}
		name := filepath.Join(dir, e.Name())
		text, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("custom actions: %w", err)
		}
		sources = append(sources, cim.Source{Name: name, Text: text})
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("custom actions: no *.mof file in %s", dir)
	}
	reg, added, err := base.Extend(sources...)
	if err != nil {
		return nil, fmt.Errorf("custom actions: %w", err)
	}
	for _, c := range added {
		if !c.IsA(CustomActionBase) || c.IsA(genericAction) {
			return nil, fmt.Errorf("custom actions: %s: class %s does not derive from %s (a custom action must)", c.Pos, c.Name, CustomActionBase)
		}
	}
	return reg, nil
}

// Package schema holds the MOF files that declare every class tsprov
// serves. They are embedded in the binary and read at start-up.
package schema

import (
	"embed"
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

package taskseq

import (
	"strconv"

	"github.com/tsprov/tsprov/internal/cim"
)

// The values of SMS_TaskSequencePackage.Type.
const (
	TypeGeneric int64 = 1 // GENERIC
	TypeOSD     int64 = 2 // OSD: an operating system deployment
)

// SequenceType returns the Type of the package that holds ts: the Type
// ConfigMgr exported with it (0, 1 or 2; 0 is undocumented but seen in
// exports) when ts was read from an object.xml and still carries that
// file's annotation, else TypeOSD when DeploysOS, else TypeGeneric.
func SequenceType(ts *cim.Instance) int64 {
	if r, err := getResidue(ts); err == nil && r.PackageType != "" {
		if t, err := strconv.ParseInt(r.PackageType, 10, 64); err == nil && t >= 0 && t <= TypeOSD {
			return t
		}
	}
	if DeploysOS(ts) {
		return TypeOSD
	}
	return TypeGeneric
}

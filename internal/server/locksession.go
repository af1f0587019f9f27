package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/lock"
)

// The request headers that carry the SEDO lock context, named after the
// WMI context values the console sends with every provider call.
const (
	LockContextHeader = "ObjectLockContext"
	MachineNameHeader = "MachineName"
	maxLockHeader     = 256
)

// lockSession is the lock context of a request: the ObjectLockContext and
// MachineName headers, or by default one context per credential (API
// token, or user) and the client's address. cred is credential(r, pr)
// of the signed-in caller.
func lockSession(r *http.Request, cred string) (lock.Session, error) {
	s := lock.Session{Context: r.Header.Get(LockContextHeader), Machine: r.Header.Get(MachineNameHeader)}
	for _, h := range [...]struct{ name, v string }{{LockContextHeader, s.Context}, {MachineNameHeader, s.Machine}} {
		if len(h.v) > maxLockHeader {
			return s, errs.Target(errs.Invalid, h.name, "the %s header is longer than %d bytes", h.name, maxLockHeader)
		}
	}
	if s.Context == "" {
		sum := sha256.Sum256([]byte("lock context\x00" + cred))
		s.Context = "session-" + hex.EncodeToString(sum[:8])
	}
	if s.Machine == "" {
		s.Machine = clientAddr(r)
	}
	return s, nil
}

package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"sync/atomic"

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
		s.Context = defaultLockContext(cred)
	}
	if s.Machine == "" {
		s.Machine = clientAddr(r)
	}
	return s, nil
}

// defaultLockContext is the lock context of a credential that sends
// none: derived from cred, the same on every server. The contexts of the
// credentials seen are kept (up to maxKeptContexts), so that a request
// does not hash again.
func defaultLockContext(cred string) string {
	if c, ok := keptContexts.Load(cred); ok {
		return c.(string)
	}
	sum := sha256.Sum256([]byte("lock context\x00" + cred))
	c := "session-" + hex.EncodeToString(sum[:8])
	if keptContextsN.Load() < maxKeptContexts {
		if _, loaded := keptContexts.LoadOrStore(cred, c); !loaded {
			keptContextsN.Add(1)
		}
	}
	return c
}

const maxKeptContexts = 4096

var (
	keptContexts  sync.Map // credential → lock context
	keptContextsN atomic.Int64
)

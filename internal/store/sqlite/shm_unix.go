//go:build unix

package sqlite

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// shmFile is the start of a WAL's shared-memory file mapped into this
// process (as SQLite maps it), read without a system call.
type shmFile struct{ mem []byte }

// openShm maps the first page of the file at path, read only.
func openShm(path string) (*shmFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping stays
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < walIndexBytes {
		return nil, fmt.Errorf("%s: %d bytes, no WAL index", path, fi.Size())
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, os.Getpagesize(), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &shmFile{mem: mem}, nil
}

// read copies the file's first bytes into b, a 32-bit word at a time and
// in order, as SQLite's readers copy the header; false when the file was
// cut short under the mapping (the access faults).
func (s *shmFile) read(b *[walIndexBytes]byte) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	for i := 0; i < len(b); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], atomic.LoadUint32((*uint32)(unsafe.Pointer(&s.mem[i]))))
	}
	return true
}

func (s *shmFile) close() error { return syscall.Munmap(s.mem) }

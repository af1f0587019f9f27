//go:build !unix

package sqlite

import "os"

// shmFile is a WAL's shared-memory file, read with ReadAt.
type shmFile struct{ f *os.File }

func openShm(path string) (*shmFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &shmFile{f: f}, nil
}

// read reads the file's first bytes into b; false when it is shorter.
func (s *shmFile) read(b *[walIndexBytes]byte) bool {
	n, _ := s.f.ReadAt(b[:], 0)
	return n == len(b)
}

func (s *shmFile) close() error { return s.f.Close() }

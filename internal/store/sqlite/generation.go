package sqlite

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	msqlite "modernc.org/sqlite"

	"github.com/tsprov/tsprov/internal/store"
)

var _ store.Generations = (*Store)(nil)

// generations answers Store.Generation. Its authority is SQLite's PRAGMA
// data_version on a connection of its own: the value changes whenever a
// commit by any other connection (this process's writer, or another
// process on the same file) has been made since the pragma last ran on
// it, and the pragma starts a read of the file's current state to find
// out, so it sees every commit made before it. A value means something on
// its own connection only: when that connection fails it is replaced and
// the epoch, part of every mark, moves on, so that no mark of the old
// connection can match one of the new.
//
// The pragma costs a read transaction (two fcntl calls on the WAL's
// shared-memory file and SQLite's statement machinery), which was the
// largest part of a GET answered from a kept entity. So while the pragma's
// connection is open, a mark is first taken from the WAL-index header
// itself (headerMark), as SQLite's readers do before they take a lock:
// the shared-memory file is mapped into this process, so this is a copy
// of 96 bytes (a pread where it cannot be mapped).
type generations struct {
	share *store.GenerationShare // callers arriving together share one pragma

	mu    sync.RWMutex // the pragma (Lock) and reads of shm (RLock)
	path  string
	dsn   string
	conn  driver.Conn // nil until first use and after a failure
	stmt  driver.Stmt // PRAGMA data_version on conn
	shm   *shmFile    // the file's WAL index ("-shm"), open while conn is; nil if it cannot be read
	dest  [1]driver.Value
	epoch uint64
	buf   []byte
}

func openGenerations(path string) *generations {
	return &generations{path: path, dsn: dsn(path, true), share: store.NewGenerationShare()}
}

// Generation implements store.Generations: "epoch.h" and the WAL-index
// header, or "epoch.data_version".
func (s *Store) Generation(ctx context.Context) (string, error) {
	if err := s.gate.Enter(backend); err != nil {
		return "", err
	}
	defer s.gate.Done()
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sqlite: generation: %w", err)
	}
	if m, ok := s.gens.headerMark(); ok {
		return m, nil
	}
	return s.gens.share.Generation(ctx, s.gens.mark)
}

// mark runs the pragma on the driver's connection itself, not through
// database/sql: it is one short statement and never waits (a read in WAL
// mode takes no lock another connection holds).
func (g *generations) mark(context.Context) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn == nil {
		conn, err := (&msqlite.Driver{}).Open(g.dsn)
		if err != nil {
			return "", fmt.Errorf("sqlite: generation: %w", err)
		}
		stmt, err := conn.Prepare("PRAGMA data_version")
		if err != nil {
			conn.Close()
			return "", fmt.Errorf("sqlite: generation: %w", err)
		}
		g.conn, g.stmt = conn, stmt
		g.epoch++
	}
	v, err := g.dataVersion()
	if err != nil {
		g.drop()
		return "", fmt.Errorf("sqlite: generation: %w", err)
	}
	if g.shm == nil {
		// The pragma's read made the connection map the WAL index, and
		// it keeps it mapped while open: the file opened here is the one
		// SQLite uses (it is replaced only when no connection has it).
		// When it cannot be opened (not in WAL mode), marks come from
		// the pragma alone.
		if f, err := openShm(g.path + "-shm"); err == nil {
			g.shm = f
		}
	}
	if m, ok := g.readHeader(); ok {
		return m, nil // the same kind of mark as the next calls' (headerMark)
	}
	g.buf = strconv.AppendUint(g.buf[:0], g.epoch, 10)
	g.buf = append(g.buf, '.')
	g.buf = strconv.AppendInt(g.buf, v, 10)
	return string(g.buf), nil
}

// The WAL-index header (https://sqlite.org/walformat.html, "The WAL-Index
// Header"): two copies of 48 bytes at the start of the shared-memory
// file, in the host's byte order. A writer updates the second copy, then
// the first, at every commit: the header's change counter (iChange) moves
// at every commit and its frame count and salts with the WAL's content,
// before the commit is acknowledged. A reader that finds both copies
// alike and the checksum right has a header that some commit wrote.
const (
	walHeaderBytes   = 48
	walIndexBytes    = 2 * walHeaderBytes // both copies
	walHeaderVersion = 3007000            // iVersion
	walHeaderSums    = 40                 // the bytes aCksum covers
)

// headerMark returns a mark made from the WAL-index header: false when
// the pragma's connection is not open (the header then says nothing that
// holds for this process) or the header cannot be read whole (a commit is
// writing it, or the file is not in WAL mode): the caller then runs the
// pragma.
func (g *generations) headerMark() (string, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.readHeader()
}

// readHeader is headerMark with g.mu held.
func (g *generations) readHeader() (string, bool) {
	if g.shm == nil {
		return "", false
	}
	var b [walIndexBytes]byte
	if !g.shm.read(&b) {
		return "", false
	}
	h := b[:walHeaderBytes]
	if !bytes.Equal(h, b[walHeaderBytes:]) || !walHeaderValid(h) {
		return "", false
	}
	var m [20 + 2 + 2*walHeaderBytes]byte
	out := strconv.AppendUint(m[:0], g.epoch, 10)
	out = append(out, ".h"...)
	out = hex.AppendEncode(out, h)
	return string(out), true
}

// walHeaderValid checks a copy of the WAL-index header as SQLite's
// walIndexTryHdr does: the version, initialised, and its checksum
// (walChecksumBytes over the first 40 bytes, native order).
func walHeaderValid(h []byte) bool {
	order := binary.NativeEndian
	if order.Uint32(h[0:]) != walHeaderVersion || h[12] != 1 {
		return false
	}
	var s1, s2 uint32
	for i := 0; i < walHeaderSums; i += 8 {
		s1 += order.Uint32(h[i:]) + s2
		s2 += order.Uint32(h[i+4:]) + s1
	}
	return s1 == order.Uint32(h[walHeaderSums:]) && s2 == order.Uint32(h[walHeaderSums+4:])
}

func (g *generations) dataVersion() (int64, error) {
	rows, err := g.stmt.Query(nil) //nolint:staticcheck // the driver's own statement, no context to watch
	if err != nil {
		return 0, err
	}
	err = rows.Next(g.dest[:])
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	v, ok := g.dest[0].(int64)
	if !ok {
		return 0, fmt.Errorf("PRAGMA data_version gave %T", g.dest[0])
	}
	return v, nil
}

// drop forgets the connection (after a failure); the next mark opens
// another, in a new epoch.
func (g *generations) drop() {
	if g.shm != nil {
		g.shm.close()
		g.shm = nil
	}
	if g.conn != nil {
		g.stmt.Close()
		g.conn.Close()
		g.conn, g.stmt = nil, nil
	}
}

func (g *generations) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.drop()
	return nil
}

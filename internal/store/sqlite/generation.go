package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"sync"

	msqlite "modernc.org/sqlite"

	"github.com/tsprov/tsprov/internal/store"
)

var _ store.Generations = (*Store)(nil)

// generations answers Store.Generation from SQLite's PRAGMA data_version
// on a connection of its own: the value changes whenever a commit by any
// other connection (this process's writer, or another process on the same
// file) has been made since the pragma last ran on it, and the pragma
// starts a read of the file's current state to find out, so it sees every
// commit made before it. A value means something on its own connection
// only: when that connection fails it is replaced and the epoch, part of
// every mark, moves on, so that no mark of the old connection can match
// one of the new.
type generations struct {
	mu    sync.Mutex
	dsn   string
	conn  driver.Conn // nil until first use and after a failure
	stmt  driver.Stmt // PRAGMA data_version on conn
	dest  [1]driver.Value
	epoch uint64
	buf   []byte
}

func openGenerations(path string) *generations { return &generations{dsn: dsn(path, true)} }

// Generation implements store.Generations: "epoch.data_version".
func (s *Store) Generation(ctx context.Context) (string, error) {
	if err := s.gate.Enter(backend); err != nil {
		return "", err
	}
	defer s.gate.Done()
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sqlite: generation: %w", err)
	}
	return s.gens.mark()
}

// mark runs the pragma on the driver's connection itself, not through
// database/sql: it is one short statement, run on every GET that may be
// answered from what was kept, and never waits (a read in WAL mode takes
// no lock another connection holds).
func (g *generations) mark() (string, error) {
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
	g.buf = strconv.AppendUint(g.buf[:0], g.epoch, 10)
	g.buf = append(g.buf, '.')
	g.buf = strconv.AppendInt(g.buf, v, 10)
	return string(g.buf), nil
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

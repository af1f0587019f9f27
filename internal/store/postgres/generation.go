package postgres

import (
	"context"
	"fmt"

	"github.com/tsprov/tsprov/internal/store"
)

var _ store.Generations = (*Store)(nil)

// Generation implements store.Generations with the server's current
// snapshot (xmin:xmax:transactions in progress), in one round trip. Two
// snapshots are equal only when no transaction ended between them: one
// that commits leaves the list of those in progress, and one that began
// after the first snapshot moved xmax. The snapshot is the cluster's, so
// a commit in any database moves it: the mark then differs though this
// store did not change, which only costs the caller a read. Callers
// arriving together share one query (store.GenerationShare): one round
// trip answers all the GETs waiting for it.
func (s *Store) Generation(ctx context.Context) (string, error) {
	if err := s.gate.Enter(backend); err != nil {
		return "", err
	}
	defer s.gate.Done()
	return s.gens.Generation(ctx, s.snapshot)
}

// snapshot is the server's current snapshot, the mark of Generation.
func (s *Store) snapshot(ctx context.Context) (string, error) {
	var mark string
	if err := s.pool.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&mark); err != nil {
		return "", fmt.Errorf("postgres: generation: %w", err)
	}
	return mark, nil
}

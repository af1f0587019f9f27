package store

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGenerationShareNeverServesAnOlderQuery: callers that arrive while a
// query runs do not take its mark (a commit made after it started would
// be missing); they share the next query, which starts after they all
// arrived.
func TestGenerationShareNeverServesAnOlderQuery(t *testing.T) {
	var arrived atomic.Int32
	waitHook = func() { arrived.Add(1) }
	t.Cleanup(func() { waitHook = nil })

	s := NewGenerationShare()
	var version atomic.Int64 // what is committed
	var queries atomic.Int32
	running, release := make(chan struct{}), make(chan struct{})
	query := func(context.Context) (string, error) {
		n := queries.Add(1)
		v := version.Load()
		if n == 1 {
			close(running)
			<-release
		}
		return strconv.FormatInt(v, 10), nil
	}

	first := make(chan string)
	go func() {
		m, err := s.Generation(t.Context(), query)
		if err != nil {
			t.Error(err)
		}
		first <- m
	}()
	<-running
	version.Store(1) // committed after the first query read, before the others arrive
	const late = 5
	var wg sync.WaitGroup
	marks := make([]string, late)
	for i := range late {
		wg.Go(func() {
			m, err := s.Generation(t.Context(), query)
			if err != nil {
				t.Error(err)
			}
			marks[i] = m
		})
	}
	for deadline := time.Now().Add(10 * time.Second); arrived.Load() < 1+late; {
		if time.Now().After(deadline) {
			t.Fatal("callers did not arrive")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if m := <-first; m != "0" {
		t.Errorf("first caller: mark %q, want 0", m)
	}
	wg.Wait()
	for i, m := range marks {
		if m != "1" {
			t.Errorf("caller %d arriving after the commit: mark %q, want 1", i, m)
		}
	}
	if n := queries.Load(); n != 2 {
		t.Errorf("%d queries for 1 caller and %d arriving together during its query, want 2", n, late)
	}
}

// TestGenerationShareAlone: a caller alone runs its own query each time,
// and a failed query is not shared.
func TestGenerationShareAlone(t *testing.T) {
	s := NewGenerationShare()
	var queries atomic.Int32
	fail := errors.New("backend down")
	query := func(context.Context) (string, error) {
		if n := queries.Add(1); n == 2 {
			return "", fail
		}
		return strconv.Itoa(int(queries.Load())), nil
	}
	for i, want := range []string{"1", "", "3"} {
		m, err := s.Generation(t.Context(), query)
		if want == "" {
			if !errors.Is(err, fail) {
				t.Errorf("call %d: %q, %v; want the query's error", i+1, m, err)
			}
			continue
		}
		if err != nil || m != want {
			t.Errorf("call %d: %q, %v; want %q", i+1, m, err, want)
		}
	}
}

// TestGenerationShareWaitEndsWithContext: a caller waiting behind a query
// that does not end leaves when its context does.
func TestGenerationShareWaitEndsWithContext(t *testing.T) {
	s := NewGenerationShare()
	running, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	go func() {
		_, _ = s.Generation(context.Background(), func(context.Context) (string, error) {
			close(running)
			<-release
			return "1", nil
		})
	}()
	<-running
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Generation(ctx, func(context.Context) (string, error) { return "2", nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the context's deadline", err)
	}
}

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/apitest"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// BenchmarkEventLatency: how long after a write is acknowledged its event
// reaches a subscriber (GET /tsprov/v1/subscribe, a WQL event query),
// median and 99th percentile, with the write's own round trip beside it
// as the reference. "sqlite": one server takes the writes and serves the
// subscription; "postgres-2-servers": writes through server B, the
// subscriber on server A (the event crosses servers through PostgreSQL's
// NOTIFY); skipped without TSPROV_TEST_POSTGRES.
//
//	TSPROV_TEST_POSTGRES=… go test -run '^$' -bench EventLatency -benchtime 500x ./bench/
func BenchmarkEventLatency(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		srv := tsprovServer(b)
		eventLatency(b, srv, srv)
	})
	b.Run("postgres-2-servers", func(b *testing.B) {
		url := pgtest.URL(b, b.Name())
		a := startTsprov(b, "", url)
		writer := startTsprov(b, "", url)
		eventLatency(b, a, writer)
	})
}

// eventLatency creates b.N packages through writer, one at a time, and
// times each from the write's answer to its event on a subscription to
// sub.
func eventLatency(b *testing.B, sub, writer target) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := url.QueryEscape("SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'bench%'")
	evs := apitest.Stream(b, ctx, http.DefaultClient, sub.url+"/tsprov/v1/subscribe?query="+q, "Authorization", "Bearer "+sub.token)
	latency := make([]time.Duration, 0, b.N)
	write := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		body := writer.post(b, "/AdminService/wmi/SMS_TaskSequencePackage", map[string]any{"Name": fmt.Sprintf("bench %d", i)}, 201)
		acked := time.Now()
		var created struct{ PackageID string }
		if err := json.Unmarshal(body, &created); err != nil {
			b.Fatal(err)
		}
		for {
			ev := apitest.Next(b, evs, 30*time.Second)
			if target, _ := ev.Data["TargetInstance"].(map[string]any); target["PackageID"] == created.PackageID {
				break
			}
		}
		latency = append(latency, time.Since(acked))
		write = append(write, acked.Sub(start))
	}
	b.StopTimer()
	slices.Sort(latency)
	slices.Sort(write)
	at := func(d []time.Duration, q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds())
	}
	b.ReportMetric(at(latency, 0.5), "event-p50-µs")
	b.ReportMetric(at(latency, 0.99), "event-p99-µs")
	b.ReportMetric(at(write, 0.5), "write-p50-µs")
	b.ReportMetric(at(write, 0.99), "write-p99-µs")
}

package server

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// observe logs every request and counts it in Prometheus metrics, labelled
// by method, route group and status (never by key, to bound cardinality).
func observe(next http.Handler, reg *prometheus.Registry, log *slog.Logger) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tsprov_http_requests_total",
		Help: "HTTP requests served, by method, route group and status code.",
	}, []string{"method", "route", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tsprov_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by method and route group.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"method", "route"})
	reg.MustRegister(requests, latency)
	series := &requestSeries{requests: requests, latency: latency}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		m := series.of(r.Method, routeGroup(r.URL.Path), rec.status)
		m.requests.Inc()
		m.latency.Observe(d.Seconds())
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		// To the handler directly: Logger.LogAttrs would also walk the
		// stack for the caller's place, which the line does not show.
		if h := log.Handler(); h.Enabled(r.Context(), level) {
			line := slog.NewRecord(start.Add(d), level, "request", 0)
			// the duration as unitDurations writes it, so that the
			// line reaches the JSON or text handler as it is
			line.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.String("duration", d.Round(time.Microsecond).String()), slog.String("remote", r.RemoteAddr))
			_ = h.Handle(r.Context(), line)
		}
	})
}

// requestSeries finds the metrics of a request's labels: the counter and
// the histogram of each (method, route, status) seen are kept, so that a
// request does not format its status nor hash its labels again.
type requestSeries struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	kept     sync.Map // seriesKey → *seriesMetrics
	n        atomic.Int64
}

type seriesKey struct {
	method, route string
	status        int
}

type seriesMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// maxKeptSeries bounds the series kept (a client may send any method).
const maxKeptSeries = 1024

func (s *requestSeries) of(method, route string, status int) *seriesMetrics {
	k := seriesKey{method, route, status}
	if m, ok := s.kept.Load(k); ok {
		return m.(*seriesMetrics)
	}
	m := &seriesMetrics{
		requests: s.requests.WithLabelValues(method, route, strconv.Itoa(status)),
		latency:  s.latency.WithLabelValues(method, route),
	}
	if s.n.Load() < maxKeptSeries {
		if _, loaded := s.kept.LoadOrStore(k, m); !loaded {
			s.n.Add(1)
		}
	}
	return m
}

// routeGroup names the kind of resource a path addresses.
func routeGroup(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] >= utf8.RuneSelf {
			return routeGroupOf(path, strings.ToLower(path), strings.HasPrefix)
		}
	}
	// ASCII: compared without regard to case in place, no lower-case copy
	return routeGroupOf(path, path, hasPrefixFold)
}

// routeGroupOf is routeGroup of path, whose lower-case form lower is
// compared with lower-case names by hasPrefix.
func routeGroupOf(path, lower string, hasPrefix func(s, prefix string) bool) string {
	is := func(name string) bool { return len(lower) == len(name) && hasPrefix(lower, name) }
	switch {
	case is("/healthz"):
		return "/healthz"
	case is("/metrics"):
		return "/metrics"
	case hasPrefix(lower, "/adminservice/wmi/$metadata"):
		return "metadata"
	case hasPrefix(lower, "/adminservice/wmi/"):
		rest := path[len("/adminservice/wmi/"):]
		switch {
		case rest == "":
			return "service-document"
		case strings.Contains(rest, "AdminService.") || (strings.Contains(rest, ".") && !strings.Contains(rest, "(")):
			return "method"
		case strings.Contains(rest, "(") || strings.Count(rest, "/") >= 1:
			return "instance"
		}
		return "collection"
	}
	return "other"
}

// hasPrefixFold is strings.HasPrefix(strings.ToLower(s), prefix) for an
// ASCII s and a lower-case ASCII prefix.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// ReadFrom keeps net/http's own ReadFrom reachable (io.Copy looks for it on
// the writer it is given), so that a file served through this wrapper still
// goes out with sendfile(2).
func (s *statusRecorder) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{s.ResponseWriter}, src)
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// write deadlines of event streams).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

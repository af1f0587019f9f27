package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		route := routeGroup(r.URL.Path)
		requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Inc()
		latency.WithLabelValues(r.Method, route).Observe(d.Seconds())
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		// To the handler directly: Logger.LogAttrs would also walk the
		// stack for the caller's place, which the line does not show.
		if h := log.Handler(); h.Enabled(r.Context(), level) {
			line := slog.NewRecord(start.Add(d), level, "request", 0)
			line.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", d), slog.String("remote", r.RemoteAddr))
			_ = h.Handle(r.Context(), line)
		}
	})
}

// routeGroup names the kind of resource a path addresses.
func routeGroup(path string) string {
	lower := strings.ToLower(path)
	switch {
	case lower == "/healthz" || lower == "/metrics":
		return lower
	case strings.HasPrefix(lower, "/adminservice/wmi/$metadata"):
		return "metadata"
	case strings.HasPrefix(lower, "/adminservice/wmi/"):
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

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// write deadlines of event streams).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

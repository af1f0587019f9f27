package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Log formats of NewLogger.
const (
	LogText = "text" // key=value lines, for a person at a terminal
	LogJSON = "json" // one JSON object a line, for log collectors
)

// NewLogger returns the server's logger: format is LogText or LogJSON,
// lines at level and above are written to w. Durations are written with
// their unit ("1.52ms"), in both formats. Outcomes: the logger; an error
// naming the formats when format is neither.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case LogText:
		return slog.New(unitDurations{slog.NewTextHandler(w, opts)}), nil
	case LogJSON:
		return slog.New(unitDurations{slog.NewJSONHandler(w, opts)}), nil
	}
	return nil, fmt.Errorf("log format %q: want %s or %s", format, LogText, LogJSON)
}

// unitDurations writes a duration as Go spells it ("1.52ms"), rather than
// a bare count of nanoseconds, as the JSON handler would. It rewrites the
// attributes before the handler sees them rather than through
// HandlerOptions.ReplaceAttr: with ReplaceAttr set, slog's handlers write
// the level of every line through encoding/json (reflection).
type unitDurations struct{ slog.Handler }

func (h unitDurations) Handle(ctx context.Context, r slog.Record) error {
	plain := true
	r.Attrs(func(a slog.Attr) bool {
		plain = !mayHoldDuration(a.Value)
		return plain
	})
	if !plain {
		out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(withUnit(a))
			return true
		})
		r = out
	}
	return h.Handler.Handle(ctx, r)
}

func (h unitDurations) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = withUnit(a)
	}
	return unitDurations{h.Handler.WithAttrs(out)}
}

func (h unitDurations) WithGroup(name string) slog.Handler {
	return unitDurations{h.Handler.WithGroup(name)}
}

func mayHoldDuration(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindDuration, slog.KindGroup, slog.KindLogValuer:
		return true
	}
	return false
}

// withUnit is a with its durations, also those in groups, as strings.
func withUnit(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindDuration:
		return slog.String(a.Key, a.Value.Duration().Round(time.Microsecond).String())
	case slog.KindGroup:
		members := a.Value.Group()
		out := make([]slog.Attr, len(members))
		for i, m := range members {
			out[i] = withUnit(m)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	return a
}

package server

import (
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
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationWithUnit}
	switch format {
	case LogText:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case LogJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want %s or %s", format, LogText, LogJSON)
}

// durationWithUnit writes a duration as Go spells it ("1.52ms"), rather
// than a bare count of nanoseconds, as the JSON handler would.
func durationWithUnit(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().Round(time.Microsecond).String())
	}
	return a
}

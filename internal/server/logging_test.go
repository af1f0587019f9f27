package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		format string
		want   string // in the line written
	}{
		{LogJSON, `"duration":"1.523ms"`},
		{LogText, `duration=1.523ms`},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		log, err := NewLogger(&b, tc.format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("request", "status", 200, "duration", 1523456*time.Nanosecond)
		log.Debug("not at this level")
		line := b.String()
		if !strings.Contains(line, tc.want) || strings.Count(line, "\n") != 1 {
			t.Errorf("%s: %q, want one line with %s", tc.format, line, tc.want)
		}
		if tc.format == LogJSON && json.Valid(b.Bytes()) != true {
			t.Errorf("json: not JSON: %q", line)
		}
		if tc.format == LogText && (strings.HasPrefix(line, "{") || !strings.Contains(line, "msg=request")) {
			t.Errorf("text: %q", line)
		}
	}
	if _, err := NewLogger(&bytes.Buffer{}, "xml", slog.LevelInfo); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("an unknown format: %v", err)
	}
}

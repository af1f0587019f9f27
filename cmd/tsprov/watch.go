package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tsprov/tsprov/internal/client"
)

// runWatch subscribes to a WQL event query and prints each event as it
// comes, one line each: position, event class, class, key (and the
// method of a method-invocation event), or the event's JSON with
// --output json. It runs until interrupted, or until --count events came.
// A broken connection is opened again where it stopped.
func runWatch(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("watch")
	output := fs.String("output", "line", "line or json (one JSON object a line)")
	count := fs.Int("count", 0, "stop after this many events (0: run until interrupted)")
	after := fs.Int64("after", -1, "start after this feed position (default: only changes still to come)")
	rest, err := parseArgs(fs, args, 1, `watch takes one WQL event query, e.g. tsprov watch "SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'SMS_TaskSequencePackage' AND TargetInstance.Name LIKE 'Win%'"`)
	if err != nil {
		return err
	}
	if *output != "line" && *output != "json" {
		return usageError{"--output must be line or json"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	seen := 0
	return cf.client().Watch(ctx, rest[0], *after, func(ev client.StreamEvent) error {
		if *output == "json" {
			fmt.Fprintf(stdout, "%s\n", ev.Data)
		} else {
			var e struct{ Class, Key, Method string }
			_ = json.Unmarshal(ev.Data, &e)
			line := fmt.Sprintf("%d %s %s %s", ev.ID, ev.Event, e.Class, e.Key)
			if e.Method != "" {
				line += " " + e.Method
			}
			fmt.Fprintln(stdout, line)
		}
		if seen++; *count > 0 && seen >= *count {
			return client.ErrStop
		}
		return nil
	})
}

package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// runVersion prints the module version and the VCS commit this binary was
// built from (tsprov version, tsprov --version).
func runVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := parseNoArgs(fs, args, "version takes no arguments"); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return nil
}

// versionLine describes a build in one line: the module version ("(devel)"
// for a build from a checkout), the commit with its time and whether the
// tree had changes, the Go version and the platform.
func versionLine(info *debug.BuildInfo) string {
	var b strings.Builder
	b.WriteString("tsprov ")
	if info == nil || info.Main.Version == "" {
		b.WriteString("(unknown version)")
	} else {
		b.WriteString(info.Main.Version)
	}
	settings := map[string]string{}
	if info != nil {
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	if rev := settings["vcs.revision"]; rev != "" {
		b.WriteString(" commit " + rev)
		if t := settings["vcs.time"]; t != "" {
			b.WriteString(" (" + t + ")")
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(" with uncommitted changes")
		}
	} else {
		b.WriteString(" commit unknown")
	}
	fmt.Fprintf(&b, " %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}

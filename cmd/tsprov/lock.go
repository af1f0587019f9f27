package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

const lockUsage = "usage: tsprov lock ls [--output table|json], or tsprov lock release OBJECTRELPATH"

// runLock lists the SEDO locks held on a server's objects, or releases
// one whoever holds it (an administrator's recovery, audited).
func runLock(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{lockUsage}
	}
	switch args[0] {
	case "ls":
		return lockList(args[1:], stdout)
	case "release":
		return lockRelease(args[1:], stdout)
	}
	return usageError{fmt.Sprintf("unknown lock command %q; %s", args[0], lockUsage)}
}

func lockList(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("lock ls")
	output := fs.String("output", "table", "table or json")
	if err := parseNoArgs(fs, args, "lock ls takes no arguments"); err != nil {
		return err
	}
	rows, err := cf.client().Collection(context.Background(), "/tsprov/v1/locks")
	if err != nil {
		return err
	}
	return writeRows(stdout, *output, rows, []string{"ObjectRelPath", "AssignedUser", "AssignedObjectLockContext", "AssignedMachine", "AssignedSiteCode", "AssignedTimeUTC", "LastActivityUTC", "LockState"})
}

func lockRelease(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("lock release")
	rest, err := parseArgs(fs, args, 1, "lock release takes one ObjectRelPath, e.g. 'SMS_TaskSequencePackage.PackageID=\"PS100001\"'")
	if err != nil {
		return err
	}
	path := "/tsprov/v1/locks?" + url.Values{"ObjectRelPath": {rest[0]}}.Encode()
	if err := cf.client().Call(context.Background(), http.MethodDelete, path, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "released the lock on %s\n", rest[0])
	return nil
}

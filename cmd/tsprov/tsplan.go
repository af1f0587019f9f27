package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/taskseq/plan"
)

// tsPlan simulates a task sequence on a described machine and prints
// which steps run, which are skipped and why.
func tsPlan(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("ts plan")
	customActions := customActionsFlag(fs)
	varsPath := fs.String("vars", "", "JSON file of the variables the sequence starts with (collection, device, deployment variables)")
	machinePath := fs.String("machine", "", "JSON file describing the machine (WMI instances, files, registry, software, OS …)")
	children := fs.String("children", "", "folder of child task sequences, <PackageID>.xml, for Run Task Sequence steps (default: the file's folder)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	rest, err := parseArgs(fs, args, 1, "ts plan takes one task sequence file (- for standard input) or PackageID")
	if err != nil {
		return err
	}
	target := rest[0]
	var vars map[string]string
	if *varsPath != "" {
		data, err := os.ReadFile(*varsPath)
		if err != nil {
			return fmt.Errorf("read the variables: %w", err)
		}
		if vars, err = plan.ParseVariables(data); err != nil {
			return fmt.Errorf("%s: %w", *varsPath, err)
		}
	}
	var machine []byte
	if *machinePath != "" {
		if machine, err = os.ReadFile(*machinePath); err != nil {
			return fmt.Errorf("read the machine description: %w", err)
		}
	}
	var p *plan.Plan
	if isPackageID(target) {
		p, err = planOnServer(cf, target, vars, machine)
	} else {
		p, err = planFile(*customActions, target, *children, vars, machine)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return plan.WriteJSON(stdout, p)
	}
	return plan.WriteTree(stdout, p)
}

// planFile simulates a file; Run Task Sequence steps are followed into
// <PackageID>.xml files of the children folder.
func planFile(customActions, path, children string, vars map[string]string, machine []byte) (*plan.Plan, error) {
	c, err := tsCodec(customActions)
	if err != nil {
		return nil, err
	}
	ts, _, err := readTS(c, path)
	if err != nil {
		return nil, err
	}
	opts := plan.Options{Variables: vars}
	if machine != nil {
		if opts.Machine, err = plan.ParseMachine(machine, c.Registry()); err != nil {
			return nil, fmt.Errorf("the machine description: %w", err)
		}
	}
	if children == "" && path != "-" {
		children = filepath.Dir(path)
	}
	if children != "" {
		opts.Child = func(id string) (*cim.Instance, error) {
			file := filepath.Join(children, strings.ToUpper(id)+".xml")
			if _, err := os.Stat(file); err != nil {
				return nil, errs.E(errs.NotFound, "no %s", file)
			}
			child, _, err := readTS(c, file)
			return child, err
		}
	}
	return plan.Simulate(ts, opts)
}

// planOnServer asks the server to simulate a stored package (it follows
// child packages from its store).
func planOnServer(cf *clientFlags, id string, vars map[string]string, machine []byte) (*plan.Plan, error) {
	body := map[string]any{"PackageID": id}
	if vars != nil {
		body["Variables"] = vars
	}
	if machine != nil {
		if !json.Valid(machine) {
			return nil, fmt.Errorf("the machine description is not JSON")
		}
		body["Machine"] = rawJSON(machine)
	}
	var p plan.Plan
	if err := cf.client().Call(context.Background(), "POST", "/tsprov/v1/plan", body, &p); err != nil {
		return nil, fmt.Errorf("plan %s: %w", id, err)
	}
	return &p, nil
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// completeCommand is the hidden command the completion scripts call: given
// the words after "tsprov", the last one being completed (possibly
// empty), it prints the candidates, one a line. None lets the shell
// complete file names.
const completeCommand = "__complete"

// Completion scripts. Each calls the binary the user typed, so a tsprov
// that is not on PATH completes too.
var completionScripts = map[string]string{
	"bash": `# tsprov completion for bash: source <(tsprov completion bash)
_tsprov() {
    local IFS=$'\n'
    COMPREPLY=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _tsprov tsprov
`,
	"zsh": `#compdef tsprov
# tsprov completion for zsh: source <(tsprov completion zsh) (after compinit)
_tsprov() {
    local -a candidates
    candidates=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ -n ${candidates[1]} ]]; then
        compadd -a candidates
    else
        _files
    fi
}
compdef _tsprov tsprov
`,
	"fish": `# tsprov completion for fish: tsprov completion fish | source
function __tsprov_complete
    set -l words (commandline -opc)
    $words[1] __complete $words[2..-1] (commandline -ct) 2>/dev/null
end
complete -c tsprov -f -a '(__tsprov_complete)'
complete -c tsprov -F -n 'test (count (__tsprov_complete)) -eq 0'
`,
}

// runCompletion prints the completion script for a shell.
func runCompletion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("completion", flag.ContinueOnError)
	rest, err := parseArgs(fs, args, 1, "completion takes a shell: bash, zsh or fish")
	if err != nil {
		return err
	}
	script, ok := completionScripts[rest[0]]
	if !ok {
		return usageError{fmt.Sprintf("no completion for %q: bash, zsh or fish", rest[0])}
	}
	_, err = io.WriteString(stdout, script)
	return err
}

// complete returns the candidates for the last of words (the words after
// "tsprov"): subcommand names, or a command's flags when the word starts
// with "-"; none where a file or value goes.
func complete(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var path []string // the words that name the command so far
	for _, w := range words[:len(words)-1] {
		if !strings.HasPrefix(w, "-") {
			path = append(path, w)
		}
	}
	var candidates []string
	if strings.HasPrefix(cur, "-") {
		candidates = commandFlags(path)
	} else {
		candidates = subcommands(path)
	}
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// subcommands are the words that may follow path.
func subcommands(path []string) []string {
	names := func(m map[string]command) []string {
		var out []string
		for n := range m {
			out = append(out, n)
		}
		return append(out, "help")
	}
	switch {
	case len(path) == 0:
		return names(commands)
	case len(path) == 1 && path[0] == "help":
		return names(commands)
	case len(path) == 1 && path[0] == "completion":
		return keys(completionScripts)
	case len(path) == 1 && path[0] == "ts":
		return keys(tsCommands)
	case path[0] == "admin" && len(path) <= 2:
		seen := map[string]bool{}
		var out []string
		for k := range adminCommands {
			words := strings.Fields(k)
			if len(words) < len(path) || (len(path) == 2 && words[0] != path[1]) {
				continue
			}
			if w := words[len(path)-1]; !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
		return out
	}
	return nil
}

// commandFlags are the flags of the command path names, as --name: the
// command is asked for its help, which hands back its flag set.
func commandFlags(path []string) []string {
	if len(path) == 0 {
		return []string{"--help", "--version"}
	}
	cmd, ok := commands[path[0]]
	if !ok {
		return nil
	}
	var help helpRequest
	if err := cmd.run(append(append([]string{}, path[1:]...), "-h"), io.Discard); !errors.As(err, &help) {
		return nil
	}
	var out []string
	help.fs.VisitAll(func(f *flag.Flag) { out = append(out, "--"+f.Name) })
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

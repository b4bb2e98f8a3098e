// Command pcmctl operates the pcm exporter with the collector's own configuration file: it
// validates reports and traces offline exactly as the exporter would, replays corrected
// dead-letter reports, reads reports back from PCM, checks the token and shows the endpoint
// catalog.
//
//	pcmctl -config collector.yaml [-exporter pcm/banco_a] COMMAND [flags] [args]
//
// Exit status: 0 ok, 1 a problem was found (a report PCM would discard, a PCM or network
// error, an unreadable file or configuration), 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitProblem = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const mainUsage = `usage: pcmctl [-config FILE] [-exporter NAME] COMMAND [flags] [args]

Operates the pcm exporter with the collector's own configuration file.

Commands:
  validate FILE...          judge reports (JSON Lines of reports or dead-letter lines) or OTLP
                            JSON traces offline, as the exporter and PCM would
  replay DEADLETTER.jsonl   resend corrected dead-letter reports to PCM
  status ID                 show PCM's report for a fapiInteractionId
  token                     get a token with the configured mTLS certificate (never printed)
  endpoints [-diff FILE]    show the endpoint catalog, or compare it with a file
  additional-info           the additionalInfo keys PCM obliges, and (-metrics URL) the reports
                            the collector sent without one

Flags (accepted before or after the command):
  -config FILE     collector configuration (YAML); ${env:VAR}, ${VAR} and ${file:PATH} are
                   expanded as the collector does
  -exporter NAME   the pcm exporter to use, e.g. pcm/banco_a or banco_a (default: the only
                   pcm exporter of the file)

Exit status: 0 ok, 1 problem found, 2 usage error.
Run "pcmctl COMMAND -h" for the flags of a command.
`

// command is one subcommand: its usage text, how to declare its flags, and what it does.
type command struct {
	usage string
	flags func(fs *flag.FlagSet) any // returns the options struct passed to run
	run   func(ctx context.Context, c *cli, opts any, args []string) int
}

var commands = map[string]command{
	"validate":        validateCommand,
	"replay":          replayCommand,
	"status":          statusCommand,
	"token":           tokenCommand,
	"endpoints":       endpointsCommand,
	"additional-info": additionalInfoCommand,
}

// cli is the state shared by the commands: output streams and the global flags.
type cli struct {
	stdout, stderr io.Writer
	configPath     string
	exporterName   string
	// name and usage of the command being run, for usage errors
	cmdName, cmdUsage string
}

// errorf prints "pcmctl: <message>" to stderr.
func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "pcmctl: "+format+"\n", args...)
}

// run is main without the process: it parses args, runs one command and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	global := flag.NewFlagSet("pcmctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	c.globalFlags(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, mainUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "pcmctl: %v\n\n%s", err, mainUsage)
		return exitUsage
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	name := rest[0]
	if name == "help" {
		if len(rest) > 1 {
			if cmd, ok := commands[rest[1]]; ok {
				fmt.Fprint(stdout, cmd.usage)
				return exitOK
			}
		}
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "pcmctl: unknown command %q\n\n%s", name, mainUsage)
		return exitUsage
	}
	c.cmdName, c.cmdUsage = name, cmd.usage
	fs := flag.NewFlagSet("pcmctl "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.globalFlags(fs)
	opts := cmd.flags(fs)
	positional, err := parseInterleaved(fs, rest[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, cmd.usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "pcmctl %s: %v\n\n%s", name, err, cmd.usage)
		return exitUsage
	}
	return cmd.run(ctx, c, opts, positional)
}

// globalFlags declares -config and -exporter on fs, bound to c (so that values given before
// the command are the defaults after it).
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", c.configPath, "collector configuration file")
	fs.StringVar(&c.exporterName, "exporter", c.exporterName, "pcm exporter name, e.g. pcm/banco_a")
}

// usageError prints a usage problem of the running command and returns exitUsage.
func (c *cli) usageError(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "pcmctl %s: %s\n\n%s", c.cmdName, fmt.Sprintf(format, args...), c.cmdUsage)
	return exitUsage
}

// parseInterleaved parses flags anywhere among the positional arguments ("validate a.jsonl
// -json b.jsonl"); everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

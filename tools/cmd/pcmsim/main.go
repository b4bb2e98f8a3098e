// Command pcmsim runs a local stand-in for the Open Finance Brasil PCM (token server over mTLS
// and report API) for demos and end-to-end tests, creates its development certificates and
// prints its summary.
//
//	pcmsim dev-certs -dir .dev/pcmsim -orgs bank_a=ORG_UUID[:SSID_UUID[:CLIENT_ID]],...
//	pcmsim serve     -certs .dev/pcmsim [-auth-addr 127.0.0.1:8443] [-api-addr 127.0.0.1:8444] ...
//	pcmsim summary   -api https://127.0.0.1:8444 -certs .dev/pcmsim
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// defaultCertsDir is where dev-certs writes and serve/summary read by default.
const defaultCertsDir = ".dev/pcmsim"

const usageText = `pcmsim - local PCM (Plataforma de Coleta de Metricas) simulator

Usage:
  pcmsim dev-certs -orgs name=ORG_UUID[:SSID_UUID[:CLIENT_ID]],... [-dir DIR] [-hosts h1,h2] [-force]
      Create DIR/ca.crt+ca.key, DIR/server.crt+key (localhost, 127.0.0.1, ::1), one client
      certificate per org (DIR/<name>.crt+key, OU = org id, CN = software statement id) and
      DIR/directory.json. Existing files are kept unless -force.
  pcmsim serve [-certs DIR] [-directory FILE] [-auth-addr ADDR] [-api-addr ADDR] [flags]
      Run the token server (mTLS, POST /token/) and the report API until SIGINT/SIGTERM,
      then print the summary table.
  pcmsim summary [-api URL] [-certs DIR | -ca FILE] [-json]
      Print the summary of a running simulator.

Run "pcmsim <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the exit code; cancelling ctx stops serve.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "dev-certs":
		err = devCerts(args[1:], stdout, stderr)
	case "summary":
		err = summary(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "pcmsim: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "pcmsim:", err)
	return 1
}

// errUsage marks a flag error (already printed by the flag set).
var errUsage = errors.New("usage")

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return nil
}

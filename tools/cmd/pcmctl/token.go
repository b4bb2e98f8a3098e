package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
)

const tokenUsage = `usage: pcmctl [-config FILE] [-exporter NAME] token [-json]

Gets a PCM access token exactly as the exporter does (POST token.url over mTLS with
token.tls, client_credentials with token.client_id) and prints when it expires, the token URL
and the client_id. The token itself is never printed.

Flags:
  -json   print {"ok", "expiresAt", "expiresInSeconds", "tokenURL", "clientId"}

Exit status: 0 token obtained, 1 PCM refused or could not be reached, 2 usage error.
`

type tokenOptions struct {
	json bool
}

var tokenCommand = command{
	usage: tokenUsage,
	flags: func(fs *flag.FlagSet) any {
		o := &tokenOptions{}
		fs.BoolVar(&o.json, "json", false, "JSON output")
		return o
	},
	run: runToken,
}

func runToken(ctx context.Context, c *cli, o any, args []string) int {
	opts := o.(*tokenOptions)
	if len(args) != 0 {
		return c.usageError("unexpected arguments %q", args)
	}
	ec, err := c.loadConfig(ctx)
	if err != nil {
		c.errorf("%v", err)
		return exitCodeOf(err)
	}
	url, clientID := pcmconfig.TokenURL(ec.cfg), ec.cfg.Token.ClientID
	clients, err := newClients(ctx, ec)
	if err != nil {
		c.errorf("%v", err)
		return exitProblem
	}
	defer clients.Close()
	// The token value is deliberately dropped here: nothing below may print it.
	if _, err := clients.Tokens.Token(ctx); err != nil {
		// pcmapi errors never contain a token (nor the response body verbatim).
		c.errorf("token: %v (token URL %s, client_id %q)", err, url, clientID)
		return exitProblem
	}
	expiry := clients.Tokens.Expiry()
	left := time.Until(expiry).Round(time.Second)
	if opts.json {
		writeJSON(c.stdout, struct {
			OK               bool   `json:"ok"`
			ExpiresAt        string `json:"expiresAt"`
			ExpiresInSeconds int64  `json:"expiresInSeconds"`
			TokenURL         string `json:"tokenURL"`
			ClientID         string `json:"clientId"`
		}{true, expiry.UTC().Format(time.RFC3339), int64(left / time.Second), url, clientID})
		return exitOK
	}
	fmt.Fprintf(c.stdout, "token OK: expires at %s (in %s)\n", expiry.UTC().Format(time.RFC3339), left)
	fmt.Fprintf(c.stdout, "token URL: %s\n", url)
	fmt.Fprintf(c.stdout, "client_id: %s\n", clientID)
	return exitOK
}

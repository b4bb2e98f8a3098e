package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

func summary(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("pcmsim summary", flag.ContinueOnError)
	fset.SetOutput(stderr)
	api := fset.String("api", "https://127.0.0.1:8444", "base URL of the simulator's report API")
	certs := fset.String("certs", defaultCertsDir, "directory whose ca.crt signs the simulator's certificate")
	caFile := fset.String("ca", "", "CA certificate file (overrides -certs)")
	asJSON := fset.Bool("json", false, "print the JSON summary instead of the table")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *caFile == "" {
		*caFile = filepath.Join(*certs, pcmsim.CACertFile)
	}
	pool, err := pcmsim.LoadCertPool(*caFile)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*api, "/")+"/sim/summary", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", req.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	if *asJSON {
		_, err = stdout.Write(body)
		return err
	}
	var sum pcmsim.Summary
	if err := json.Unmarshal(body, &sum); err != nil {
		return fmt.Errorf("GET %s: %w", req.URL, err)
	}
	return sum.WriteTable(stdout)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

// faultFlags collects repeated -fault specifications.
type faultFlags struct{ f pcmsim.Faults }

func (ff *faultFlags) String() string { return "" }

func (ff *faultFlags) Set(spec string) error { return pcmsim.ParseFault(spec, &ff.f) }

// readyInfo is the content of the -ready-file.
type readyInfo struct {
	Auth string `json:"auth"`
	API  string `json:"api"`
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("pcmsim serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	authAddr := fset.String("auth-addr", "127.0.0.1:8443", "auth (token) listener address; port 0 picks a free port")
	apiAddr := fset.String("api-addr", "127.0.0.1:8444", "report API listener address; port 0 picks a free port")
	certs := fset.String("certs", defaultCertsDir, "directory with ca.crt, server.crt and server.key (see dev-certs)")
	directory := fset.String("directory", "", "registered orgs and clients (default: <certs>/directory.json when present; without one any client_id is accepted)")
	endpoints := fset.String("endpoints", "", "endpoint catalog JSON in the shape of endpoints.json (default: the exporter's embedded list)")
	lifetime := fset.Duration("token-lifetime", pcmsim.DefaultTokenLifetime, "access token lifetime")
	rateLimit := fset.Int("rate-limit", pcmsim.DefaultRateLimit, "API requests per second before 429 (0 = unlimited)")
	closing := fset.Duration("closing-delay", 0, "turn reports still UNPAIRED after this long into SINGLE (0 = never)")
	var faults faultFlags
	fset.Var(&faults, "fault", "fault injection, repeatable: api=503[,count=N][,for=DUR][,retry-after=S] | api=close | token=500|401|handshake[,count=N][,for=DUR] | latency=DUR | token-latency=DUR")
	summaryOnExit := fset.Bool("summary-on-exit", true, "print the summary table on shutdown")
	readyFile := fset.String("ready-file", "", `write {"auth":URL,"api":URL} here once both listeners accept (removed on exit)`)
	verbose := fset.Bool("v", false, "log every request")
	if err := parseFlags(fset, args); err != nil {
		return err
	}

	level := zapcore.InfoLevel
	if *verbose {
		level = zapcore.DebugLevel
	}
	encCfg := zap.NewDevelopmentEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	logger := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(encCfg), zapcore.Lock(zapcore.AddSync(stderr)), level))
	defer func() { _ = logger.Sync() }()

	cert, pool, err := pcmsim.LoadServerTLS(*certs)
	if err != nil {
		return fmt.Errorf("%w (create the files with: pcmsim dev-certs -dir %s -orgs ...)", err, *certs)
	}
	cfg := pcmsim.Config{
		AuthAddr: *authAddr, APIAddr: *apiAddr, ServerCertificate: cert, ClientCAs: pool,
		TokenLifetime: *lifetime, RateLimit: *rateLimit, ClosingDelay: *closing, Faults: faults.f, Logger: logger,
	}
	if *rateLimit == 0 {
		cfg.RateLimit = -1
	}
	dirPath := *directory
	if dirPath == "" {
		if p := filepath.Join(*certs, pcmsim.DirectoryFile); fileExists(p) {
			dirPath = p
		}
	}
	if dirPath != "" {
		if cfg.Directory, err = pcmsim.LoadDirectory(dirPath); err != nil {
			return err
		}
		logger.Info("directory loaded", zap.String("file", dirPath), zap.Int("orgs", len(cfg.Directory.Orgs)))
	} else {
		logger.Warn("no directory: any client_id gets a token for the organisation of its certificate, every organisation exists")
	}
	if *endpoints != "" {
		data, err := os.ReadFile(*endpoints)
		if err != nil {
			return err
		}
		if cfg.Catalog, err = pcmsim.ParseCatalog(data); err != nil {
			return err
		}
	} else if cfg.Catalog, err = pcmsim.DefaultCatalog(); err != nil {
		return err
	}
	logger.Info("endpoint catalog", zap.String("version", cfg.Catalog.Version),
		zap.Int("private", cfg.Catalog.Len(pcmsim.APIPrivate)), zap.Int("opendata", cfg.Catalog.Len(pcmsim.APIOpendata)),
		zap.Int("credit_portability", cfg.Catalog.Len(pcmsim.APICreditPortability)))

	srv, err := pcmsim.New(cfg)
	if err != nil {
		return err
	}
	if *readyFile != "" {
		if err := os.Remove(*readyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	if *readyFile != "" {
		if err := writeReady(*readyFile, readyInfo{Auth: srv.AuthURL(), API: srv.APIURL()}); err != nil {
			_ = srv.Shutdown(context.Background())
			return err
		}
		defer func() { _ = os.Remove(*readyFile) }()
	}
	fmt.Fprintf(stdout, "pcmsim ready auth=%s api=%s\n", srv.AuthURL(), srv.APIURL())

	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if *summaryOnExit {
		sum := srv.Summary()
		fmt.Fprintln(stdout)
		if werr := sum.WriteTable(stdout); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	return err
}

// writeReady writes the ready file atomically (temporary file + rename).
func writeReady(path string, info readyInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
	if err := errors.Join(werr, tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

const (
	orgA = "11111111-1111-4111-8111-111111111111"
	orgB = "22222222-2222-4222-8222-222222222222"
	ssA  = "aaaaaaaa-0000-4000-8000-00000000000a"
)

// syncBuffer is an io.Writer safe for the concurrent writes of a running serve.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func devCertsDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "pki")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"dev-certs", "-dir", dir, "-orgs", "bank_a=" + orgA + ":" + ssA + ":client-a,bank_b=" + orgB}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "wrote "+filepath.Join(dir, "ca.key"))
	assert.Contains(t, out.String(), "bank_a  "+orgA+"  "+ssA+"  client-a")
	return dir
}

type running struct {
	stdout, stderr *syncBuffer
	ready          readyInfo
	readyPath      string
	cancel         context.CancelFunc
	done           chan int
}

// startServe runs "pcmsim serve" on free ports and waits for its ready file.
func startServe(t *testing.T, dir string, extra ...string) *running {
	readyPath := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1), readyPath: readyPath}
	args := append([]string{"serve", "-certs", dir, "-auth-addr", "127.0.0.1:0", "-api-addr", "127.0.0.1:0", "-ready-file", readyPath}, extra...)
	go func() { r.done <- run(ctx, args, r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(readyPath)
		if err == nil {
			require.NoError(t, json.Unmarshal(data, &r.ready))
			break
		}
		select {
		case code := <-r.done:
			t.Fatalf("serve exited with %d: %s", code, r.stderr.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "no ready file; stderr: %s", r.stderr.String())
		time.Sleep(10 * time.Millisecond)
	}
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, r.ready.Auth)
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, r.ready.API)
	assert.NotContains(t, r.ready.Auth, ":0")
	return r
}

func (r *running) stop(t *testing.T) int {
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
		return -1
	}
}

func clients(t *testing.T, dir string) (auth, api *http.Client) {
	pool, err := pcmsim.LoadCertPool(filepath.Join(dir, "ca.crt"))
	require.NoError(t, err)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "bank_a.crt"), filepath.Join(dir, "bank_a.key"))
	require.NoError(t, err)
	authTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}
	apiTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(authTr.CloseIdleConnections)
	t.Cleanup(apiTr.CloseIdleConnections)
	return &http.Client{Transport: authTr, Timeout: 10 * time.Second}, &http.Client{Transport: apiTr, Timeout: 10 * time.Second}
}

func getToken(t *testing.T, c *http.Client, authURL string) string {
	resp, err := c.PostForm(authURL+"/token/", url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-a"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var tr pcmsim.TokenResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	return tr.AccessToken
}

func postReport(t *testing.T, c *http.Client, apiURL, token string) int {
	body := `[{"role":"CLIENT","fapiInteractionId":"0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01","endpoint":"/open-banking/accounts/v2/accounts",` +
		`"statusCode":200,"httpMethod":"GET","clientOrgId":"` + orgA + `","serverOrgId":"` + orgB + `","clientSSId":"` + ssA + `",` +
		`"endpointUriPrefix":"https://api.bank-b.example","timestamp":"` + time.Now().UTC().Format("2006-01-02T15:04:05.000Z") + `",` +
		`"processTimespan":12,"additionalInfo":{}}]`
	req, err := http.NewRequest(http.MethodPost, apiURL+pcmsim.PrivateReportPath, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestServeEndToEnd(t *testing.T) {
	dir := devCertsDir(t)
	r := startServe(t, dir, "-token-lifetime", "1h")
	assert.Contains(t, r.stdout.String(), "pcmsim ready auth="+r.ready.Auth+" api="+r.ready.API)

	auth, api := clients(t, dir)
	tok := getToken(t, auth, r.ready.Auth)
	assert.Equal(t, http.StatusOK, postReport(t, api, r.ready.API, tok))

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"summary", "-api", r.ready.API + "/", "-certs", dir}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "UNPAIRED                 1")
	assert.Contains(t, out.String(), "private  GET     /open-banking/accounts/v2/accounts")

	out.Reset()
	code = run(context.Background(), []string{"summary", "-json", "-api", r.ready.API, "-ca", filepath.Join(dir, "ca.crt")}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var sum pcmsim.Summary
	require.NoError(t, json.Unmarshal(out.Bytes(), &sum))
	assert.Equal(t, 1, sum.Total)

	require.Equal(t, 0, r.stop(t))
	stdout := r.stdout.String()
	assert.Contains(t, stdout, "PCM simulator summary at")
	assert.Contains(t, stdout, "UNPAIRED                 1")
	assert.Contains(t, r.stderr.String(), "directory loaded")
	_, err := os.Stat(r.readyPath)
	assert.True(t, os.IsNotExist(err), "the ready file is removed on exit")
}

func TestServeFaultFlags(t *testing.T) {
	dir := devCertsDir(t)
	r := startServe(t, dir, "-fault", "api=503,count=1,retry-after=2", "-fault", "token=500,count=1", "-summary-on-exit=false", "-rate-limit", "0")
	auth, api := clients(t, dir)

	resp, err := auth.PostForm(r.ready.Auth+"/token/", url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-a"}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	tok := getToken(t, auth, r.ready.Auth)
	assert.Equal(t, http.StatusServiceUnavailable, postReport(t, api, r.ready.API, tok))
	assert.Equal(t, http.StatusOK, postReport(t, api, r.ready.API, tok))

	require.Equal(t, 0, r.stop(t))
	assert.NotContains(t, r.stdout.String(), "PCM simulator summary")
}

func TestCommandErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), nil, &out, &errOut))
	assert.Equal(t, 2, run(context.Background(), []string{"launch"}, &out, &errOut))
	assert.Equal(t, 0, run(context.Background(), []string{"help"}, &out, &errOut))
	assert.Contains(t, out.String(), "pcmsim dev-certs")
	assert.Equal(t, 0, run(context.Background(), []string{"serve", "-h"}, &out, &errOut))
	assert.Equal(t, 2, run(context.Background(), []string{"serve", "-nope"}, &out, &errOut))
	assert.Equal(t, 2, run(context.Background(), []string{"serve", "-fault", "api=200"}, &out, &errOut))
	assert.Equal(t, 2, run(context.Background(), []string{"dev-certs", "-dir", t.TempDir()}, &out, &errOut))

	errOut.Reset()
	assert.Equal(t, 1, run(context.Background(), []string{"serve", "-certs", t.TempDir()}, &out, &errOut))
	assert.Contains(t, errOut.String(), "pcmsim dev-certs")
	errOut.Reset()
	assert.Equal(t, 1, run(context.Background(), []string{"dev-certs", "-dir", t.TempDir(), "-orgs", "bank_a=nope"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "not a UUID")
}

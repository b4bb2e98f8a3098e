package pcmexporter

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pcm-otel/pcmexporter/internal/metadata"
	"github.com/pcm-otel/pcmexporter/internal/pcmapi"
)

// startObservedExporter starts the exporter with a debug-level log recorder.
func startObservedExporter(t *testing.T, cfg *Config) (*pcmExporter, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	exp, err := newExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, exp.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.shutdown(context.Background())) })
	return exp, logs
}

// TestNoSecretInLogsAtDebugLevel drives every path that logs — token failure, 401 recovery,
// discarded items, permanent refusal echoing the token — and searches every log entry and
// field for the tokens, the key and the Authorization header.
func TestNoSecretInLogsAtDebugLevel(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	exp, logs := startObservedExporter(t, cfg)
	push := func() { _ = exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200))) }

	pcm.mu.Lock()
	pcm.tokenErr = http.StatusInternalServerError
	pcm.mu.Unlock()
	push()
	pcm.mu.Lock()
	pcm.tokenErr = 0
	pcm.mu.Unlock()
	push()
	pcm.revokeAll()
	push()
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		body := accepted(r)
		body[0]["status"], body[0]["message"] = "DISCARDED", "Invalid field value: token "+r.token
		return http.StatusMultiStatus, nil, body
	})
	push()
	pcm.setAnswer(func(_ int, r *received) (int, http.Header, any) {
		return http.StatusForbidden, nil, map[string]string{"message": "Forbidden for Bearer " + r.token}
	})
	push()
	require.GreaterOrEqual(t, pcm.tokensIssued(), 2)
	require.NotZero(t, logs.Len())

	key := readFile(t, cfg.Token.TLS.KeyFile)
	keyLine := strings.Split(strings.TrimSpace(key), "\n")[1]
	for _, entry := range logs.All() {
		text := entry.Message
		for k, v := range entry.ContextMap() {
			text += " " + k + "=" + toString(v)
		}
		for _, secret := range []string{"tok-1", "tok-2", "tok-3", "Bearer tok", keyLine} {
			assert.NotContains(t, text, secret, "log entry %q", entry.Message)
		}
	}
}

func TestInsecureSkipVerifyIsWarnedAbout(t *testing.T) {
	pcm := newFakePCM(t)
	cfg := pcm.config()
	cfg.ClientConfig.TLS.InsecureSkipVerify = true
	cfg.Token.TLS.InsecureSkipVerify = true
	_, logs := startObservedExporter(t, cfg)
	warnings := logs.FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("insecure_skip_verify").All()
	require.Len(t, warnings, 2)
	assert.Contains(t, warnings[0].Message, "tls.insecure_skip_verify")
	assert.Contains(t, warnings[1].Message, "token.tls.insecure_skip_verify")
}

func TestClientsRefuseTLSBelow12(t *testing.T) {
	pcm := newFakePCM(t)
	// A server that only speaks TLS 1.1 must not be reachable.
	pcm.token.TLS.MaxVersion = tls.VersionTLS11
	exp, _ := startObservedExporter(t, pcm.config())
	err := exp.pushTraces(context.Background(), traces(clientCall("GET", accountsURL, 200)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "obtaining PCM token")
	assert.Equal(t, 0, pcm.tokensIssued())
}

func TestTokenFailureKind(t *testing.T) {
	for kind, want := range map[*pcmapi.TokenError]string{
		{Kind: pcmapi.TokenKindHTTP, StatusCode: 500}:     "HTTP 500",
		{Kind: pcmapi.TokenKindCertificate}:               "client certificate refused",
		{Kind: pcmapi.TokenKindUnreachable}:               "token endpoint unreachable",
		{Kind: pcmapi.TokenKindTimeout}:                   "timeout",
		{Kind: pcmapi.TokenKindRedirect, StatusCode: 302}: "redirect, not followed",
		{Kind: pcmapi.TokenKindAnswer}:                    "unusable token answer",
		{Kind: pcmapi.TokenKindOther}:                     "other",
	} {
		assert.Equal(t, want, tokenFailureKind(fmt.Errorf("wrapped: %w", kind)), kind.Kind)
	}
	assert.Equal(t, "other", tokenFailureKind(errors.New("obtaining PCM token: tls: bad certificate")), "classified by type, never by text")
}

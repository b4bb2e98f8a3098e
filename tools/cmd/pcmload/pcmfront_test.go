package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

func TestSplitArray(t *testing.T) {
	items, err := splitArray([]byte(` [ {"a":"x,}]\"{"} , {"b":[1,{"c":2}]},{} ]`))
	require.NoError(t, err)
	require.Equal(t, []string{`{"a":"x,}]\"{"}`, `{"b":[1,{"c":2}]}`, `{}`}, toStrings(items))

	items, err = splitArray([]byte(`[]`))
	require.NoError(t, err)
	require.Empty(t, items)

	for _, bad := range []string{``, `{}`, `[1]`, `["x"]`, `[{},]`, `[,{}]`, `[{}{}]`, `[{]`, `[{"a":"]`, `[{}}]`, `[{} x]`} {
		_, err := splitArray([]byte(bad))
		require.ErrorIs(t, err, errNotArray, bad)
	}
}

func toStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func TestCorrelationID(t *testing.T) {
	c, ok := correlationID([]byte(`{"role":"CLIENT","correlationId":"4bf92f35 x\"y","timestamp":"t"}`))
	require.True(t, ok)
	require.Equal(t, `4bf92f35 x\"y`, string(c))
	_, ok = correlationID([]byte(`{"role":"SERVER"}`))
	require.False(t, ok)
}

// TestPCMFront: the front answers like PCM (per-item ACCEPTED, correlationId echoed), refuses
// requests without a token of the simulator, and passes every Nth POST to the simulator.
func TestPCMFront(t *testing.T) {
	pki, err := pcmsim.NewDevPKI(
		pcmsim.Org{Name: "banco_a", OrgID: orgA, SoftwareStatementID: ssidA, ClientID: clientIDA},
		pcmsim.Org{Name: "banco_b", OrgID: orgB, ClientID: "-"},
	)
	require.NoError(t, err)
	cfg, err := pki.Config()
	require.NoError(t, err)
	sim, err := pcmsim.New(cfg)
	require.NoError(t, err)
	require.NoError(t, sim.Start(context.Background()))
	defer func() { require.NoError(t, sim.Shutdown(context.Background())) }()
	cert, err := pki.Server.TLSCertificate()
	require.NoError(t, err)
	front, err := startPCMFront(cert, pki.RootTLS(), sim, 2)
	require.NoError(t, err)
	defer func() { require.NoError(t, front.shutdown(context.Background())) }()

	mtls, err := pki.ClientTLS("banco_a")
	require.NoError(t, err)
	tokenClient := &http.Client{Transport: &http.Transport{TLSClientConfig: mtls}}
	defer tokenClient.CloseIdleConnections()
	resp, err := tokenClient.PostForm(sim.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {clientIDA}})
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	require.NoError(t, resp.Body.Close())

	ts := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05.000Z")
	items := `[{"role":"CLIENT","fapiInteractionId":"0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e01","endpoint":"/open-banking/accounts/v2/accounts","statusCode":200,"httpMethod":"GET",` +
		`"clientOrgId":"` + orgA + `","serverOrgId":"` + orgB + `","clientSSId":"` + ssidA + `","endpointUriPrefix":"https://api.banco-b.com.br",` +
		`"correlationId":"4bf92f3577b34da6a3ce929d0e0e4736","timestamp":"` + ts + `","processTimespan":120,"additionalInfo":{}},` +
		`{"role":"SERVER","fapiInteractionId":"0f5a7d8e-1b2c-4d3e-9f40-5a6b7c8d9e02","endpoint":"/open-banking/accounts/v2/accounts","statusCode":200,"httpMethod":"GET",` +
		`"clientOrgId":"` + orgB + `","serverOrgId":"` + orgA + `","timestamp":"` + ts + `","processTimespan":95,"additionalInfo":{}}]`

	api := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.RootTLS()}}
	defer api.CloseIdleConnections()
	post := func(token string) (int, []map[string]string) {
		req, err := http.NewRequest(http.MethodPost, front.url+pcmsim.PrivateReportPath, bytes.NewReader([]byte(items)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := api.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var out []map[string]string
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &out), string(body))
		}
		return resp.StatusCode, out
	}

	// 1st POST: answered by the front.
	code, out := post(tok.AccessToken)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, out, 2)
	require.Equal(t, "ACCEPTED", out[0]["status"])
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", out[0]["correlationId"])
	require.NotContains(t, out[1], "correlationId")
	require.NotEqual(t, out[0]["reportId"], out[1]["reportId"])
	require.EqualValues(t, 2, front.counted.Load())

	// 2nd POST: passed to the simulator, which validates and stores both reports.
	code, out = post(tok.AccessToken)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, out, 2)
	require.Equal(t, 2, sim.Stats().ItemsAccepted)
	require.Len(t, sim.Reports(), 2)
	require.EqualValues(t, 1, front.proxied.Load())

	// 3rd POST, without a valid token: refused by the front.
	code, _ = post("not-a-token")
	require.Equal(t, http.StatusUnauthorized, code)
	require.EqualValues(t, 2, front.counted.Load())
}

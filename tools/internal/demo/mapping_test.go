package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// TestScenarioExpectationsMatchTheMapping feeds the banks' real spans to the exporter's mapping
// and local validation (what the collector does with them, without the collector) and checks
// each side against the scenario table: a quick guard that the table and the exporter agree,
// before the end-to-end tests prove it through PCM.
func TestScenarioExpectationsMatchTheMapping(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	results := map[string]CallResult{}
	for _, s := range Scenarios() {
		results[s.Name] = w.client.Do(ctx, s.Label(), s.Call)
	}
	require.Eventually(t, func() bool {
		for _, r := range results {
			if len(w.server.HandledInTrace(r.TraceID)) == 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond)
	w.shutdown(t)

	mapperA, err := mapping.NewMapper(mapping.Config{
		OrgID: BancoA.OrgID, SoftwareStatementID: BancoA.SoftwareStatementID,
		Hosts: map[string]string{hostPort("localhost", w.server.Port()): BancoB.OrgID},
	})
	require.NoError(t, err)
	mapperB, err := mapping.NewMapper(mapping.Config{OrgID: BancoB.OrgID, SoftwareStatementID: BancoB.SoftwareStatementID})
	require.NoError(t, err)
	validator := mapping.Validator{Catalog: mapping.DefaultCatalog()}

	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			r := results[s.Name]
			h := w.server.HandledInTrace(r.TraceID)[0]
			cs := w.sink.find(t, r.TraceID, ptrace.SpanKindClient)
			ss := w.sink.find(t, r.TraceID, ptrace.SpanKindServer)
			checkMapping(t, "client", mapperA, validator, cs.span, s.Client, r.InteractionID())
			checkMapping(t, "server", mapperB, validator, ss.span, s.Server, h.InteractionID)
		})
	}
}

func checkMapping(t *testing.T, side string, m *mapping.Mapper, v mapping.Validator, span ptrace.Span, exp Expect, id string) {
	t.Helper()
	var rep mapping.Report
	res := m.Map(pcommon.NewResource(), span, &rep)
	switch {
	case exp.Skipped != "":
		assert.Equal(t, mapping.OutcomeSkipped, res.Outcome, side)
		assert.EqualValues(t, exp.Skipped, res.SkipReason, side)
	case strings.HasPrefix(exp.DeadLetter, ReasonUnlistedEndpoint):
		assert.Equal(t, mapping.OutcomeUnlisted, res.Outcome, side)
	case exp.DeadLetter != "":
		require.Equal(t, mapping.OutcomeReport, res.Outcome, side)
		assert.Equal(t, exp.DeadLetter, mapping.JoinProblems(v.Validate(&rep, time.Now())), side)
	default:
		require.Equal(t, mapping.OutcomeReport, res.Outcome, "%s: %+v", side, res)
		assert.Empty(t, v.Validate(&rep, time.Now()), side)
		switch {
		case exp.Opendata:
			assert.Equal(t, mapping.APIOpendata, rep.API, side)
		case exp.CreditPortability:
			assert.Equal(t, mapping.APICreditPortability, rep.API, side)
			require.NotNil(t, rep.CreditPortability, side)
			assert.Equal(t, PortabilityStatus, rep.CreditPortability.CreditPortabilityStatus, side)
		default:
			assert.Equal(t, mapping.APIPrivate, rep.API, side)
		}
		if exp.StatusCode != 0 {
			assert.Equal(t, exp.StatusCode, rep.StatusCode, side)
		}
		if exp.Endpoint != "" {
			assert.Equal(t, exp.Endpoint, rep.Endpoint, side)
		}
		if exp.NoInteractionID || exp.Opendata {
			assert.Empty(t, rep.FapiInteractionID, side)
		} else {
			assert.Equal(t, id, rep.FapiInteractionID, side)
		}
	}
}

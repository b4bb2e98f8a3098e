package demo

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/deadletter"
	"github.com/pcm-otel/pcmexporter/tools/internal/pcmsim"
)

func scenario(t *testing.T, name string) Scenario {
	t.Helper()
	s, ok := ScenarioByName(name)
	require.True(t, ok, name)
	return s
}

func TestEvaluate(t *testing.T) {
	paired := Run{Seq: 1, Scenario: scenario(t, "paired-balances"), Result: CallResult{
		TraceID: "t1", SpanID: "c1", SentInteractionID: "id-1", StatusCode: 200}}
	missing := Run{Seq: 2, Scenario: scenario(t, "missing-interaction-id"), Result: CallResult{
		TraceID: "t2", SpanID: "c2", StatusCode: 200}}
	timeout := Run{Seq: 3, Scenario: scenario(t, "timeout-no-id"), Result: CallResult{
		TraceID: "t3", SpanID: "c3", TimedOut: true}}
	opendata := Run{Seq: 4, Scenario: scenario(t, "opendata"), Result: CallResult{
		TraceID: "t4", SpanID: "c4", SentInteractionID: "id-4", StatusCode: 200}}
	runs := []Run{paired, missing, timeout, opendata}
	handled := map[string][]Handled{
		"t1": {{TraceID: "t1", SpanID: "s1", InteractionID: "id-1", Status: 200}},
		"t2": {{TraceID: "t2", SpanID: "s2", Status: 200}},
		"t3": {{TraceID: "t3", SpanID: "s3", InteractionID: "gen-3", Generated: true, Status: 200}},
		"t4": {{TraceID: "t4", SpanID: "s4", InteractionID: "id-4", Status: 200}},
	}
	obs := Observed{DeadLetters: map[string][]deadletter.Entry{}, Handled: func(id string) []Handled { return handled[id] }}

	// nothing arrived yet: everything that expects a report or a dead letter is pending
	outs := Evaluate(runs, obs)
	for _, o := range outs {
		assert.False(t, o.OK(), o.Run.Scenario.Name)
	}
	assert.True(t, outs[0].Client.Pending)
	assert.True(t, outs[1].Srv.Pending)
	assert.True(t, outs[3].Client.OK, "a skipped side is met as long as nothing shows up")

	balances := "/open-banking/accounts/v2/accounts/{accountId}/balances"
	consent := "/open-banking/consents/v3/consents/{consentId}"
	obs.Reports = []pcmsim.Report{
		{Role: "CLIENT", SubmittedBy: BancoA.OrgID, CorrelationID: "t1", FapiInteractionID: "id-1", Status: "PAIRED", StatusCode: 200, Endpoint: balances},
		{Role: "SERVER", SubmittedBy: BancoB.OrgID, FapiInteractionID: "ID-1", Status: "PAIRED", StatusCode: 200, Endpoint: balances},
		{Role: "CLIENT", SubmittedBy: BancoA.OrgID, CorrelationID: "t3", Status: "SINGLE", StatusCode: 408, Endpoint: consent},
		{Role: "SERVER", SubmittedBy: BancoB.OrgID, FapiInteractionID: "gen-3", Status: "PAIRED", StatusCode: 200, Endpoint: consent},
		{API: pcmsim.APIOpendata, Status: "SINGLE", StatusCode: 200, Endpoint: "/open-banking/channels/v2/branches"},
	}
	obs.DeadLetters[BancoA.Name] = []deadletter.Entry{{TraceID: "t2", SpanID: "c2", Stage: "invalid", Reason: "Missing property: fapiInteractionId"}}
	obs.DeadLetters[BancoB.Name] = []deadletter.Entry{{TraceID: "t2", SpanID: "s2", Stage: "invalid", Reason: "Missing property: clientOrgId"}}
	outs = Evaluate(runs, obs)

	assert.True(t, outs[0].OK(), "%+v", outs[0])
	assert.True(t, outs[1].Client.OK)
	assert.False(t, outs[1].Srv.OK)
	assert.False(t, outs[1].Srv.Pending)
	assert.Equal(t, "dead letter: Missing property: clientOrgId", outs[1].Srv.Got)
	assert.True(t, outs[2].Client.OK, "%+v", outs[2].Client)
	assert.False(t, outs[2].Srv.OK, "the server report must be UNPAIRED")
	assert.Equal(t, "PAIRED 200 "+consent, outs[2].Srv.Got)
	assert.True(t, outs[3].OK())

	var buf bytes.Buffer
	require.NoError(t, WriteVerdicts(&buf, Verdicts(outs)))
	assert.Contains(t, buf.String(), "1/paired-balances")
	assert.Contains(t, buf.String(), "FAIL (0/1 ok)")
}

func TestWaitForOutcomes(t *testing.T) {
	run := Run{Scenario: scenario(t, "paired-balances"), Result: CallResult{TraceID: "t1", SpanID: "c1", SentInteractionID: "id-1"}}
	h := []Handled{{TraceID: "t1", SpanID: "s1", InteractionID: "id-1", Status: 200}}
	balances := "/open-banking/accounts/v2/accounts/{accountId}/balances"
	calls := 0
	observe := func() (Observed, error) {
		calls++
		obs := Observed{Handled: func(string) []Handled { return h }}
		if calls >= 3 { // the reports arrive on the third poll
			obs.Reports = []pcmsim.Report{
				{Role: "CLIENT", SubmittedBy: BancoA.OrgID, CorrelationID: "t1", FapiInteractionID: "id-1", Status: "PAIRED", StatusCode: 200, Endpoint: balances},
				{Role: "SERVER", SubmittedBy: BancoB.OrgID, FapiInteractionID: "id-1", Status: "PAIRED", StatusCode: 200, Endpoint: balances},
			}
		}
		return obs, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	outs, err := WaitForOutcomes(ctx, []Run{run}, observe, 300*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	assert.True(t, outs[0].OK())
	assert.GreaterOrEqual(t, calls, 4, "it re-checks after everything was met")

	// never satisfied: it gives up when ctx ends and returns the last verdicts
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	outs, err = WaitForOutcomes(ctx, []Run{run}, func() (Observed, error) {
		return Observed{Handled: func(string) []Handled { return h }}, nil
	}, time.Second)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, outs[0].Client.Pending)
}

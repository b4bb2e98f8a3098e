package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/pcm-otel/pcmexporter/mapping"
)

func decode(t *testing.T, body []byte) ptrace.Traces {
	t.Helper()
	req := ptraceotlp.NewExportRequest()
	require.NoError(t, req.UnmarshalProto(body))
	return req.Traces()
}

func forEachSpan(td ptrace.Traces, fn func(ptrace.ResourceSpans, ptrace.Span)) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				fn(rs, spans.At(k))
			}
		}
	}
}

// interactionIDs returns each span's x-fapi-interaction-id, checking that the request and
// response header attributes carry the same one.
func interactionIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var ids []string
	forEachSpan(decode(t, body), func(_ ptrace.ResourceSpans, s ptrace.Span) {
		req, ok := s.Attributes().Get("http.request.header.x-fapi-interaction-id")
		require.True(t, ok)
		resp, ok := s.Attributes().Get("http.response.header.x-fapi-interaction-id")
		require.True(t, ok)
		require.Equal(t, 1, req.Slice().Len())
		require.Equal(t, req.Slice().At(0).Str(), resp.Slice().At(0).Str())
		ids = append(ids, req.Slice().At(0).Str())
	})
	return ids
}

func TestStampGivesEverySpanANewInteractionID(t *testing.T) {
	pool, err := buildPayloads(2, 300, time.Now(), 7)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, p := range pool {
		for seq := uint64(1); seq <= 3; seq++ {
			p.stamp(seq)
			ids := interactionIDs(t, p.body)
			require.Len(t, ids, 300)
			for _, id := range ids {
				require.True(t, mapping.IsUUID(id), id)
				require.False(t, seen[id], "duplicate interaction id %s", id)
				seen[id] = true
			}
		}
	}
}

// TestSpansBecomeValidReports: every generated span is an Open Finance call the exporter
// reports, and the report passes PCM's rules; CLIENT and SERVER spans alike.
func TestSpansBecomeValidReports(t *testing.T) {
	now := time.Now()
	pool, err := buildPayloads(4, 200, now, 3)
	require.NoError(t, err)
	mapper, err := mapping.NewMapper(mapping.Config{
		OrgID: orgA, SoftwareStatementID: ssidA, Hosts: map[string]string{hostB: orgB},
	})
	require.NoError(t, err)
	var validator mapping.Validator
	roles := map[mapping.Role]int{}
	endpoints := map[string]bool{}
	for i, p := range pool {
		p.stamp(uint64(i + 1))
		td := decode(t, p.body)
		require.Equal(t, 200, td.SpanCount())
		forEachSpan(td, func(rs ptrace.ResourceSpans, s ptrace.Span) {
			var r mapping.Report
			res := mapper.Map(rs.Resource(), s, &r)
			require.Equal(t, mapping.OutcomeReport, res.Outcome, "%s %v", s.Name(), s.Attributes().AsRaw())
			require.Empty(t, validator.Validate(&r, now), "%s %v", s.Name(), s.Attributes().AsRaw())
			require.Equal(t, mapping.APIPrivate, r.API)
			roles[r.Role]++
			endpoints[r.Endpoint] = true
			if r.Role == mapping.RoleClient {
				require.Equal(t, "https://"+hostB, r.EndpointURIPrefix)
				require.Equal(t, orgB, r.ServerOrgID)
			} else {
				require.Equal(t, orgB, r.ClientOrgID)
				require.Equal(t, orgA, r.ServerOrgID)
			}
		})
	}
	require.Equal(t, 400, roles[mapping.RoleClient])
	require.Equal(t, 400, roles[mapping.RoleServer])
	require.Len(t, endpoints, len(calls))
}

package mapping

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestMapAdditionalInfoTypes: each pcm.additional_info.<key> value is sent in the type PCM's
// schema declares for the key (docs/pcm-rules.md §6; the schema is ClientReportRequest.additionalInfo
// of OpenBanking-Brasil/pcm-specs PCM-v310.openapi.yaml, commit 304c15c: every scalar key is
// `type: string`, isFirstPayment/hasMinimumAmount/nfcPayment have enum 'TRUE'/'FALSE',
// webhookEnable is "o valor booleano TRUE … FALSE" as a string, statusSummary and
// companyProfileInfo are objects, paymentList an array). A value that cannot be converted is left
// out and reported; the report itself is never lost.
func TestMapAdditionalInfoTypes(t *testing.T) {
	converted := Result{Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoConverted)}
	dropped := func(key string) Result {
		return Result{Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoDropped), DroppedInfoKey: key}
	}
	tests := []struct {
		name   string
		key    string
		value  any
		want   any // nil: left out
		result Result
	}{
		{"string stays", "status", "AUTHORISED", "AUTHORISED", report},
		{"int becomes a string", "rejectionReasonCode", int64(422), "422", converted},
		{"integral double has no fraction", "riskSignalsQuantity", 3.0, "3", converted},
		{"double", "amount", 12.5, "12.5", converted},
		{"bool on a string key: PCM's TRUE/FALSE", "status", false, "FALSE", converted},
		{"one-element array unwraps", "consentId", []any{"urn:bancoa:1"}, "urn:bancoa:1", converted},
		{"one-element array of a number", "paymentReference", []any{int64(7)}, "7", converted},
		{"several elements cannot become one string", "status", []any{"A", "B"}, nil, dropped("status")},
		{"map on a string key", "consentId", map[string]any{"a": "b"}, nil, dropped("consentId")},
		{"bytes", "tokenId", []byte{1, 2}, nil, dropped("tokenId")},
		{"NaN", "amount", math.NaN(), nil, dropped("amount")},

		{"webhookEnable bool true", "webhookEnable", true, "TRUE", converted},
		{"webhookEnable bool false", "webhookEnable", false, "FALSE", converted},
		{"webhookEnable lower-case string", "webhookEnable", "true", "TRUE", converted},
		{"webhookEnable spaced string", "webhookEnable", " False ", "FALSE", converted},
		{"webhookEnable already right", "webhookEnable", "TRUE", "TRUE", report},
		{"isFirstPayment bool", "isFirstPayment", true, "TRUE", converted},
		{"hasMinimumAmount bool", "hasMinimumAmount", false, "FALSE", converted},
		{"isRetryAccepted bool", "isRetryAccepted", true, "TRUE", converted},
		{"nfcPayment bool", "nfcPayment", false, "FALSE", converted},
		{"journeyIsLinked bool", "journeyIsLinked", true, "TRUE", converted},
		{"journeyIsLinked as a captured array", "journeyIsLinked", []any{"true"}, "TRUE", converted},
		{"other spellings pass through unvalidated (Decision 25)", "webhookEnable", "SIM", "SIM", report},

		{"errorCodes string", "errorCodes", "NAO_INFORMADO", "NAO_INFORMADO", report},
		{"errorCodes comma list: the first code (Decision 12)", "errorCodes", "PARAMETRO_INVALIDO, NAO_INFORMADO", "PARAMETRO_INVALIDO", converted},
		{"errorCodes list with a leading empty part", "errorCodes", " ,RISCO", "RISCO", converted},
		{"errorCodes array: the first code", "errorCodes", []any{"", "RISCO", "SALDO_INSUFICIENTE"}, "RISCO", converted},
		{"errorCodes array of one comma list", "errorCodes", []any{"A,B"}, "A", converted},
		{"errorCodes number", "errorCodes", int64(422), "422", converted},
		{"errorCodes empty array", "errorCodes", []any{}, nil, dropped("errorCodes")},
		{"errorCodes map", "errorCodes", map[string]any{"code": "X"}, nil, dropped("errorCodes")},

		{"statusSummary object stays", "statusSummary", map[string]any{"available": int64(1)}, map[string]any{"available": int64(1)}, report},
		{"statusSummary as a string is dropped", "statusSummary", `{"available":1}`, nil, dropped("statusSummary")},
		{"companyProfileInfo object stays", "companyProfileInfo", map[string]any{"porteEmpresa": "01"}, map[string]any{"porteEmpresa": "01"}, report},
		{"paymentList array stays", "paymentList", []any{map[string]any{"paymentId": "p1"}}, []any{map[string]any{"paymentId": "p1"}}, report},
		{"paymentList as a map is dropped", "paymentList", map[string]any{"paymentId": "p1"}, nil, dropped("paymentList")},
	}
	m := newTestMapper(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := merge(clientAttrs(bankURL+accPath), map[string]any{"pcm.additional_info.consentId": "urn:bancoa:C1DD33123"})
			attrs["pcm.additional_info."+tt.key] = tt.value
			resource, span := mkSpan(t, ptrace.SpanKindClient, attrs)
			var r Report
			require.Equal(t, tt.result, m.Map(resource, span, &r))
			got := map[string]any{}
			for _, f := range r.AdditionalInfo {
				got[f.Key] = f.Value.AsRaw()
			}
			v, ok := got[tt.key]
			if tt.want == nil {
				assert.False(t, ok, "%s must be left out, got %v", tt.key, v)
			} else {
				assert.Equal(t, tt.want, v)
			}
			if tt.key != "consentId" {
				assert.Equal(t, "urn:bancoa:C1DD33123", got["consentId"], "the other keys are untouched")
			}
			assert.Empty(t, Validator{}.Validate(&r, testNow), "the report stays valid")
			clone := r.Clone()
			assert.Equal(t, string(AppendJSON(nil, &r)), string(AppendJSON(nil, &clone)))
		})
	}
}

// The first dropped key is named; later ones only add to the count.
func TestMapAdditionalInfoFirstDroppedKey(t *testing.T) {
	m := newTestMapper(t)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutEmptyBytes("pcm.additional_info.fromResource")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	_, template := mkSpan(t, ptrace.SpanKindClient, clientAttrs(bankURL+accPath))
	template.CopyTo(span)
	span.Attributes().PutEmptyMap("pcm.additional_info.first")
	span.Attributes().PutStr("pcm.additional_info.ok", "x")
	span.Attributes().PutEmptySlice("pcm.additional_info.second")
	var r Report
	res := m.Map(rs.Resource(), span, &r)
	assert.Equal(t, Result{Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoDropped), DroppedInfoKey: "first"}, res)
	require.Len(t, r.AdditionalInfo, 1)
	assert.Equal(t, "ok", r.AdditionalInfo[0].Key)
}

// Opendata additionalInfo is {"clientIp": …} and nothing else (Decision 17): every other key, and
// a clientIp that is not a string, is dropped and reported.
func TestMapOpendataAdditionalInfoOnlyClientIP(t *testing.T) {
	m := newTestMapper(t)
	attrs := merge(serverAttrs(odTmpl), map[string]any{
		"pcm.client_org_id": nil, "pcm.additional_info.channel": "web", "pcm.additional_info.tokenId": "c9ng8aKzxNXm",
	})
	resource, span := mkSpan(t, ptrace.SpanKindServer, attrs)
	var r Report
	res := m.Map(resource, span, &r)
	assert.Equal(t, OutcomeReport, res.Outcome)
	assert.True(t, res.Fixes.Has(FixAdditionalInfoDropped))
	assert.Contains(t, []string{"channel", "tokenId"}, res.DroppedInfoKey)
	assert.Empty(t, r.AdditionalInfo)
	assert.Equal(t, map[string]any{"clientIp": "203.0.113.7"}, encoded(t, &r)["additionalInfo"])

	resource, span = mkSpan(t, ptrace.SpanKindServer, merge(attrs, map[string]any{
		"pcm.additional_info.channel": nil, "pcm.additional_info.tokenId": nil, "pcm.additional_info.clientIp": int64(7),
	}))
	res = m.Map(resource, span, &r)
	assert.Equal(t, Result{Outcome: OutcomeReport, Fixes: Fixes(FixAdditionalInfoDropped), DroppedInfoKey: "clientIp"}, res)
	assert.Equal(t, "203.0.113.7", r.ClientIP, "client.address stays")
}

// Item 13: a correlationId that breaks PCM's pattern ^[- /:_.',0-9a-zA-Z]{0,100}$ (docs/pcm-rules.md
// §5.4) is replaced by the trace id and reported, instead of sinking the report.
func TestMapCorrelationIDReplaced(t *testing.T) {
	replaced := Result{Outcome: OutcomeReport, Fixes: Fixes(FixCorrelationIDReplaced)}
	long := string(slices.Repeat([]byte("a"), 101))
	max := string(slices.Repeat([]byte("a"), 100))
	tests := []struct {
		name, value, want string
		result            Result
		opts              []spanOpt
	}{
		{"valid stays", "journey-42/step 3", "journey-42/step 3", report, nil},
		{"100 characters stay", max, max, report, nil},
		{"101 characters", long, traceIDHex, replaced, nil},
		{"a character outside the pattern", "journey#42", traceIDHex, replaced, nil},
		{"non-ASCII", "jornada-é", traceIDHex, replaced, nil},
		{"no trace id: omitted", "a?b", "", replaced, []spanOpt{withTraceID(pcommon.TraceID{})}},
	}
	m := newTestMapper(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resource, span := mkSpan(t, ptrace.SpanKindClient,
				merge(clientAttrs(bankURL+accPath), map[string]any{"pcm.correlation_id": tt.value}), tt.opts...)
			var r Report
			require.Equal(t, tt.result, m.Map(resource, span, &r))
			assert.Equal(t, tt.want, r.CorrelationID)
			assert.Empty(t, Validator{}.Validate(&r, testNow))
		})
	}
}

func TestFixes(t *testing.T) {
	var s Fixes
	assert.Empty(t, slices.Collect(s.All()))
	s.add(FixCorrelationIDReplaced)
	s.add(FixAdditionalInfoConverted)
	assert.Equal(t, []Fix{FixAdditionalInfoConverted, FixCorrelationIDReplaced}, slices.Collect(s.All()))
	assert.True(t, s.Has(FixCorrelationIDReplaced))
	assert.False(t, s.Has(FixAdditionalInfoDropped))
	var names []string
	for f := Fix(1); f < fixEnd; f <<= 1 {
		names = append(names, f.String())
	}
	assert.Equal(t, []string{"additional_info_converted", "additional_info_dropped", "correlation_id_replaced"}, names,
		"metric attribute values are stable")
	assert.Equal(t, "Fix(64)", Fix(64).String())
	for range s.All() {
		break // stopping early must not panic
	}
}

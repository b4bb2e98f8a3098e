package mapping_test

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// The exporter's per-span loop: map, validate locally, encode into a reused buffer.
func ExampleMapper_Map() {
	m, err := mapping.NewMapper(mapping.Config{
		OrgID:               "5f3e2a10-8c4b-4d6e-9f10-112233445566",
		SoftwareStatementID: "0c1d2e3f-4a5b-4c6d-8e7f-8899aabbccdd",
		Hosts:               map[string]string{"api.banco-b.example": "9b2c4d6e-1a3b-4c5d-8e9f-0a1b2c3d4e5f"},
	})
	if err != nil {
		panic(err)
	}

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindClient)
	start := time.Date(2026, 3, 17, 12, 34, 56, 789_654_321, time.UTC)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(152300 * time.Microsecond)))
	span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	attrs := span.Attributes()
	attrs.PutStr("http.request.method", "GET")
	attrs.PutStr("url.full", "https://api.banco-b.example/opbk/open-banking/accounts/v2/accounts/acc-1/balances?x=1")
	attrs.PutInt("http.response.status_code", 200)
	attrs.PutEmptySlice("http.request.header.x-fapi-interaction-id").AppendEmpty().SetStr("d0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6d")

	var (
		r   mapping.Report // reused for every span
		buf []byte         // reused for every batch
	)
	switch res := m.Map(rs.Resource(), span, &r); res.Outcome {
	case mapping.OutcomeSkipped:
		fmt.Println("skipped:", res.SkipReason)
	case mapping.OutcomeUnlisted:
		fmt.Println("dead letter:", mapping.JoinProblems(mapping.Validator{}.Validate(&r, start)))
	case mapping.OutcomeReport:
		if problems := (mapping.Validator{}).Validate(&r, start.Add(time.Minute)); problems != nil {
			fmt.Println("dead letter:", mapping.JoinProblems(problems))
			return
		}
		buf = mapping.AppendJSON(buf[:0], &r)
		fmt.Println(r.API, r.Role)
		fmt.Println(string(buf))
	}
	// Output:
	// private CLIENT
	// {"fapiInteractionId":"d0c9b3f2-6d0e-4b53-9a5e-1f2f3a4b5c6d","endpoint":"/open-banking/accounts/v2/accounts/{accountId}/balances","statusCode":200,"httpMethod":"GET","clientOrgId":"5f3e2a10-8c4b-4d6e-9f10-112233445566","serverOrgId":"9b2c4d6e-1a3b-4c5d-8e9f-0a1b2c3d4e5f","clientSSId":"0c1d2e3f-4a5b-4c6d-8e7f-8899aabbccdd","endpointUriPrefix":"https://api.banco-b.example/opbk","correlationId":"0102030405060708090a0b0c0d0e0f10","timestamp":"2026-03-17T12:34:56.789Z","processTimespan":153,"role":"CLIENT","additionalInfo":{}}
}

// A catalog file that re-adds a template removed from the embedded list.
func ExampleParseCatalog() {
	c, err := mapping.ParseCatalog([]byte(`{
		"version": "local-1",
		"private": ["/open-banking/payments/v4/pix/payments/{paymentId}"],
		"notes": ["until every counterpart serves v5"]
	}`), mapping.DefaultCatalog())
	if err != nil {
		panic(err)
	}
	template, class, ok := c.Lookup("/opbk/open-banking/payments/v4/pix/payments/p-123?x=1")
	fmt.Println(template, class, ok)
	// Output: /open-banking/payments/v4/pix/payments/{paymentId} private true
}

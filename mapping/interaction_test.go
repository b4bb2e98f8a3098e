package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestMapInteractionIDSpellings feeds the x-fapi-interaction-id in the attribute names and value
// shapes real instrumentations emit; none needs configuration.
func TestMapInteractionIDSpellings(t *testing.T) {
	url := bankURL + accPath
	noHeaders := merge(clientAttrs(url), map[string]any{
		"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
	})
	with := func(kv map[string]any) map[string]any { return merge(noHeaders, kv) }
	id := func(s string) func(*Report) { return func(r *Report) { r.FapiInteractionID = s } }
	cases := []mapCase{
		{
			// Java agent 2.x: lower-case name, string array. open-telemetry/opentelemetry-java-instrumentation
			// instrumentation-api/src/main/java/io/opentelemetry/instrumentation/api/semconv/http/CapturedHttpHeaders.java
			// (commit 3300ac68, 2.32.0-SNAPSHOT): stringArrayKey("http." + type + ".header." + lowercaseName).
			name:  "Java agent 2.x",
			attrs: with(map[string]any{"http.request.header.x-fapi-interaction-id": []any{fapiID}}),
		},
		{
			// Java agent 1.x (old semconv): same file's predecessor CapturedHttpHeadersUtil.java at commit
			// 7cd705b5^ (1.33.0-SNAPSHOT), createOldSemconvKey: headerName.replace('-', '_').
			name:  "Java agent 1.x: underscores",
			attrs: with(map[string]any{"http.request.header.x_fapi_interaction_id": []any{fapiID}}),
		},
		{
			// Node @opentelemetry/instrumentation-http 0.221.0, open-telemetry/opentelemetry-js
			// experimental/packages/opentelemetry-instrumentation-http/src/utils.ts (commit 61126358),
			// headerCapture: `http.${type}.header.${lowercase name}`, value always an array.
			name:  "Node instrumentation-http 0.221",
			attrs: with(map[string]any{"http.response.header.x-fapi-interaction-id": []any{fapiID}}),
		},
		{
			// Node @opentelemetry/instrumentation-http ≤ 0.212.0 (and later with old semconv), same file at
			// commit 20e70e2e: capturedHeader.replace(/-/g, '_').
			name:  "Node instrumentation-http 0.212: underscores",
			attrs: with(map[string]any{"http.request.header.x_fapi_interaction_id": []any{fapiID}}),
		},
		{
			// Node @opentelemetry/instrumentation-undici before commit f55d0483 (open-telemetry/opentelemetry-js-contrib
			// packages/instrumentation-undici/src/undici.ts): repeated values joined as one string, value.join(', ').
			name:  "undici: comma-joined string",
			attrs: with(map[string]any{"http.request.header.x-fapi-interaction-id": fapiID + ", " + fapiID2}),
		},
		{
			// Python: open-telemetry/opentelemetry-python-contrib util/opentelemetry-util-http/src/opentelemetry/util/http/__init__.py
			// (commit 466ae4c0, 0.66b0.dev), normalise_request_header_name: header.lower().replace("-", "_"); values are lists.
			name:  "Python: underscores",
			attrs: with(map[string]any{"http.request.header.x_fapi_interaction_id": []any{fapiID}}),
		},
		{
			// Python, server-generated id read from the response (normalise_response_header_name).
			name:  "Python: response header only",
			attrs: with(map[string]any{"http.response.header.x_fapi_interaction_id": []any{fapiID}}),
		},
		{
			// .NET: OpenTelemetry.Instrumentation.AspNetCore / .Http capture no headers (only Enrich
			// callbacks, with names of the user's choosing). The auto-instrumentation does:
			// open-telemetry/opentelemetry-dotnet-instrumentation src/OpenTelemetry.AutoInstrumentation/HeadersCapture/
			// HeaderNormalizer.cs (ToLowerInvariant, dashes kept) and ActivityExtensions.cs (commit 338fc9e0, 1.16.0):
			// a string for one value, an array for several.
			name:  ".NET auto-instrumentation: a plain string",
			attrs: with(map[string]any{"http.request.header.x-fapi-interaction-id": fapiID}),
		},
		{
			// Go: otelhttp captures no headers; applications add them with semconv's HTTPRequestHeader, which keeps
			// the key as passed: go.opentelemetry.io/otel v1.47.0 semconv/v1.37.0/attribute_group.go,
			// attribute.StringSlice("http.request.header."+key, val), e.g. http.CanonicalHeaderKey's spelling.
			name:  "Go semconv helper with a canonical header key",
			attrs: with(map[string]any{"http.request.header.X-Fapi-Interaction-Id": []any{fapiID}}),
		},
		{
			name:  "first valid array element wins",
			attrs: with(map[string]any{"http.request.header.x-fapi-interaction-id": []any{"", "not-a-uuid", zeroUUID, fapiID}}),
		},
		{
			name:  "an invalid request header falls back to the response header",
			attrs: with(map[string]any{"http.request.header.x_fapi_interaction_id": "garbage", "http.response.header.X-FAPI-INTERACTION-ID": []any{fapiID}}),
		},
		{
			name: "request before response across spellings (Decision 3)",
			attrs: with(map[string]any{
				"http.response.header.x-fapi-interaction-id": []any{fapiID2}, "http.request.header.x_fapi_interaction_id": []any{fapiID},
			}),
		},
		{
			name:  "nothing valid: the first value is kept so that Validate names it",
			attrs: with(map[string]any{"http.request.header.x_fapi_interaction_id": []any{"", "not-a-uuid"}}),
			want:  wantClient(accTmpl, bankURL, id("not-a-uuid")),
		},
		{
			name:  "a configured attribute is tried before the headers",
			attrs: with(map[string]any{"app.fapi_id": fapiID2, "http.request.header.x_fapi_interaction_id": fapiID}),
			cfg:   func(c *Config) { c.Attributes.InteractionID = []string{"app.fapi_id"} },
			want:  wantClient(accTmpl, bankURL, id(fapiID2)),
		},
		{
			name:  "an invalid configured attribute falls back to the headers",
			attrs: with(map[string]any{"app.fapi_id": "x", "http.request.header.x_fapi_interaction_id": fapiID}),
			cfg:   func(c *Config) { c.Attributes.InteractionID = []string{"app.fapi_id"} },
		},
		{
			name:  "lookalike names do not count",
			attrs: with(map[string]any{"http.request.header.x.fapi.interaction.id": fapiID, "http.request.header.x-fapi-interaction-idx": fapiID}),
			want:  wantClient(accTmpl, bankURL, id("")),
		},
	}
	for i := range cases {
		cases[i].kind = ptrace.SpanKindClient
		cases[i].result = report
		if cases[i].want == nil {
			cases[i].want = wantClient(accTmpl, bankURL)
		}
	}
	runMapCases(t, cases)
}

func TestInteractionHeaderSide(t *testing.T) {
	for k, want := range map[string]headerSide{
		"http.request.header.x-fapi-interaction-id":   sideRequest,
		"http.request.header.X_FAPI_Interaction-ID":   sideRequest,
		"HTTP.REQUEST.HEADER.x-fapi-interaction-id":   sideRequest,
		"http.response.header.x_fapi_interaction_id":  sideResponse,
		"http.response.header.x-fapi-interaction-ix":  sideNone,
		"http.request.header.x-fapi-interaction-id ":  sideNone,
		"http.requests.header.x-fapi-interaction-id":  sideNone, // wrong prefix, same length as a response key
		"http.request.header.x-fapi-interaction_idd":  sideNone,
		"pcm.additional_info.x-fapi-interaction-id":   sideNone,
		"http.response.header.x-fapi-interaction-id.": sideNone,
	} {
		assert.Equal(t, want, interactionHeaderSide(k), k)
	}
}

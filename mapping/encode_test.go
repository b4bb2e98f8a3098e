package mapping

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func strValue(s string) pcommon.Value { return pcommon.NewValueStr(s) }

func TestAppendJSONGolden(t *testing.T) {
	m := newTestMapper(t)
	tests := []struct {
		name   string
		kind   ptrace.SpanKind
		attrs  map[string]any
		golden string
	}{
		{
			name: "client",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(bankURL+accPath+"?page=2"), map[string]any{
				"pcm.additional_info.consentId": "urn:bancoa:C1DD33123",
			}),
			golden: `{"fapiInteractionId":"` + fapiID + `","endpoint":"` + accTmpl + `","statusCode":200,"httpMethod":"GET",` +
				`"clientOrgId":"` + ourOrg + `","serverOrgId":"` + bankB + `","clientSSId":"` + ourSS + `",` +
				`"endpointUriPrefix":"https://api.banco-b.example/opbk","correlationId":"` + traceIDHex + `",` +
				`"timestamp":"2026-03-17T12:34:56.789Z","processTimespan":153,"role":"CLIENT",` +
				`"additionalInfo":{"consentId":"urn:bancoa:C1DD33123"}}`,
		},
		{
			name:  "server",
			kind:  ptrace.SpanKindServer,
			attrs: serverAttrs(conPath),
			golden: `{"fapiInteractionId":"` + fapiID + `","endpoint":"` + conTmpl + `","statusCode":200,"httpMethod":"GET",` +
				`"clientOrgId":"` + callerOrg + `","serverOrgId":"` + ourOrg + `",` +
				`"timestamp":"2026-03-17T12:34:56.789Z","processTimespan":153,"role":"SERVER","additionalInfo":{}}`,
		},
		{
			name:  "opendata",
			kind:  ptrace.SpanKindServer,
			attrs: merge(serverAttrs(odTmpl+"?page=1"), map[string]any{"pcm.client_org_id": nil}),
			golden: `{"endpoint":"` + odTmpl + `","statusCode":200,"httpMethod":"GET",` +
				`"timestamp":"2026-03-17T12:34:56.789Z","processTimespan":153,"additionalInfo":{"clientIp":"203.0.113.7"}}`,
		},
		{
			name: "client timeout without interaction id",
			kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs(bankURL+accPath), map[string]any{
				"http.response.status_code": nil, "error.type": "java.net.SocketTimeoutException",
				"http.request.header.x-fapi-interaction-id": nil, "http.response.header.x-fapi-interaction-id": nil,
			}),
			golden: `{"endpoint":"` + accTmpl + `","statusCode":408,"httpMethod":"GET",` +
				`"clientOrgId":"` + ourOrg + `","serverOrgId":"` + bankB + `","clientSSId":"` + ourSS + `",` +
				`"endpointUriPrefix":"https://api.banco-b.example/opbk","correlationId":"` + traceIDHex + `",` +
				`"timestamp":"2026-03-17T12:34:56.789Z","processTimespan":153,"role":"CLIENT","additionalInfo":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, span := mkSpan(t, tt.kind, tt.attrs)
			var r Report
			require.Equal(t, OutcomeReport, m.Map(res, span, &r).Outcome)
			got := AppendJSON(nil, &r)
			assert.Equal(t, tt.golden, string(got))
			assert.Empty(t, Validator{}.Validate(&r, testNow), "golden reports are valid")

			viaMarshal, err := json.Marshal(&r)
			require.NoError(t, err)
			assert.Equal(t, tt.golden, string(viaMarshal), "json.Marshal uses MarshalJSON")

			prefixed := AppendJSON([]byte("["), &r)
			assert.Equal(t, "["+tt.golden, string(prefixed), "appends to dst")
		})
	}
}

func TestAppendJSONFieldSets(t *testing.T) {
	full := Report{
		FapiInteractionID: fapiID, Endpoint: conTmpl, StatusCode: 201, HTTPMethod: "POST",
		ClientOrgID: ourOrg, ServerOrgID: bankB, ClientSSID: ourSS, EndpointURIPrefix: bankURL,
		CorrelationID: "c-1", Timestamp: testStart, ProcessTimespan: 7, ClientIP: "192.0.2.1",
		AdditionalInfo: []AdditionalField{{Key: "status", Value: strValue("AUTHORISED")}},
	}
	keys := func(r Report) []string {
		var obj map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(AppendJSON(nil, &r), &obj))
		var ks []string
		for k := range obj {
			ks = append(ks, k)
		}
		return ks
	}

	client := full
	client.API, client.Role = APIPrivate, RoleClient
	assert.ElementsMatch(t, []string{"fapiInteractionId", "endpoint", "statusCode", "httpMethod", "clientOrgId", "serverOrgId",
		"clientSSId", "endpointUriPrefix", "correlationId", "timestamp", "processTimespan", "role", "additionalInfo"}, keys(client))

	// Decision 10/24: SERVER output never contains the client-only keys, whatever the Report holds.
	server := full
	server.API, server.Role = APIPrivate, RoleServer
	assert.ElementsMatch(t, []string{"fapiInteractionId", "endpoint", "statusCode", "httpMethod", "clientOrgId", "serverOrgId",
		"timestamp", "processTimespan", "role", "additionalInfo"}, keys(server))
	out := string(AppendJSON(nil, &server))
	for _, k := range []string{"clientSSId", "endpointUriPrefix", "correlationId", "clientIp"} {
		assert.NotContains(t, out, k)
	}

	// Decision 17: opendata contains only its six fields.
	od := full
	od.API, od.Role = APIOpendata, RoleServer
	assert.ElementsMatch(t, []string{"endpoint", "statusCode", "httpMethod", "timestamp", "processTimespan", "additionalInfo"}, keys(od))
	var obj struct {
		AdditionalInfo map[string]any `json:"additionalInfo"`
	}
	require.NoError(t, json.Unmarshal(AppendJSON(nil, &od), &obj))
	assert.Equal(t, map[string]any{"clientIp": "192.0.2.1", "status": "AUTHORISED"}, obj.AdditionalInfo)

	// Optional fields are omitted when empty.
	client.FapiInteractionID, client.CorrelationID = "", ""
	assert.NotContains(t, keys(client), "fapiInteractionId")
	assert.NotContains(t, keys(client), "correlationId")
}

func TestAppendJSONTimestamp(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 3, 17, 12, 34, 56, 789_999_999, time.UTC), "2026-03-17T12:34:56.789Z"}, // truncated, not rounded
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05.000Z"},
		{time.Date(2026, 12, 31, 23, 59, 59, 1_000_000, time.UTC), "2026-12-31T23:59:59.001Z"},
		{time.Date(2026, 3, 17, 9, 0, 0, 50_000_000, time.FixedZone("BRT", -3*3600)), "2026-03-17T12:00:00.050Z"}, // converted to UTC
		{time.Unix(0, 0), "1970-01-01T00:00:00.000Z"},
		{time.Time{}, "0001-01-01T00:00:00.000Z"},
		{time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC).Format(TimestampLayout)},
	}
	for _, tt := range tests {
		got := string(appendTimestamp(nil, tt.in))
		assert.Equal(t, tt.want, got)
		assert.Equal(t, tt.in.UTC().Format(TimestampLayout), got, "same as time.Format with TimestampLayout")
	}
	assert.LessOrEqual(t, len("2026-03-17T12:34:56.789Z"), 28, "maxLength 28")

	// The hand-written calendar agrees with the time package over the whole 0000–9999 range,
	// around leap days and at both ends.
	edges := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 2, 29, 23, 59, 59, 999e6, time.UTC),
		time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 2, 29, 1, 0, 0, 0, time.UTC),
		time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Unix(-1, 0), time.Unix(0, -1),
	}
	for _, tt := range edges {
		assert.Equal(t, tt.UTC().Format(TimestampLayout), string(appendTimestamp(nil, tt)), "%v", tt)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		tt := time.Unix(rng.Int64N(253402300800+62167219200)-62167219200, rng.Int64N(1e9))
		if got, want := string(appendTimestamp(nil, tt)), tt.UTC().Format(TimestampLayout); got != want {
			t.Fatalf("%d: got %s, want %s", tt.Unix(), got, want)
		}
	}
}

func TestAppendJSONValues(t *testing.T) {
	m := pcommon.NewValueMap()
	m.Map().PutStr("b", "x")
	m.Map().PutInt("a", -1)
	m.Map().PutEmptyMap("empty")
	sl := pcommon.NewValueSlice()
	sl.Slice().AppendEmpty().SetBool(false)
	sl.Slice().AppendEmpty().SetDouble(0.5)
	sl.Slice().AppendEmpty() // empty value → null
	by := pcommon.NewValueBytes()
	by.Bytes().FromRaw([]byte("hello, PCM!"))
	long := pcommon.NewValueBytes()
	long.Bytes().FromRaw(bytes.Repeat([]byte{0xff, 0x00, 0x7f}, 50))

	tests := []struct {
		v    pcommon.Value
		want string
	}{
		{strValue("TRUE"), `"TRUE"`},
		{pcommon.NewValueBool(true), `true`},
		{pcommon.NewValueInt(math.MinInt64), `-9223372036854775808`},
		{pcommon.NewValueDouble(12.5), `12.5`},
		{pcommon.NewValueDouble(1e21), `1e+21`},
		{pcommon.NewValueDouble(1e-7), `1e-7`},
		{pcommon.NewValueDouble(-0.000001), `-0.000001`},
		{pcommon.NewValueDouble(100), `100`},
		{pcommon.NewValueDouble(math.NaN()), `null`},
		{pcommon.NewValueDouble(math.Inf(-1)), `null`},
		{m, `{"b":"x","a":-1,"empty":{}}`},
		{sl, `[false,0.5,null]`},
		{pcommon.NewValueSlice(), `[]`},
		{by, `"aGVsbG8sIFBDTSE="`},
		{long, `"` + "/wB/" + strings.Repeat("/wB/", 49) + `"`},
		{pcommon.NewValueEmpty(), `null`},
		{pcommon.Value{}, `null`},
	}
	for _, tt := range tests {
		got := string(appendValue(nil, tt.v, 0))
		assert.Equal(t, tt.want, got)
		assert.True(t, json.Valid([]byte(got)), got)
	}

	// The float format matches encoding/json's.
	for _, f := range []float64{0, math.Copysign(0, -1), 1, 0.1, 1.5e-6, 9.99e-7, 123456789.125, 1e20, 1e21, -3.4e38, 5e-324} {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendFloat(nil, f)), "%v", f)
	}
}

func TestAppendJSONDeepValueIsBounded(t *testing.T) {
	v := pcommon.NewValueMap()
	cur := v.Map()
	for i := 0; i < 100; i++ {
		cur = cur.PutEmptyMap("k")
	}
	r := Report{API: APIPrivate, Role: RoleServer, AdditionalInfo: []AdditionalField{{Key: "deep", Value: v}}}
	out := AppendJSON(nil, &r)
	assert.True(t, json.Valid(out))
	assert.Contains(t, string(out), "null", "nesting beyond the limit is cut")
}

func TestAppendStringEscaping(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{``, `""`},
		{`plain /open-banking/x`, `"plain /open-banking/x"`},
		{`quote " backslash \ slash /`, `"quote \" backslash \\ slash /"`},
		{"new\nline\rreturn\ttab", `"new\nline\rreturn\ttab"`},
		{"nul\x00 bell\x07 esc\x1b del\x7f", `"nul\u0000 bell\u0007 esc\u001b del` + "\x7f" + `"`},
		{"ünïcødé €", `"ünïcødé €"`},
		{"invalid \xff\xfe utf8", `"invalid \ufffd\ufffd utf8"`},
		{"truncated \xe2\x82", `"truncated \ufffd\ufffd"`},
		{"line\u2028para\u2029", `"line\u2028para\u2029"`},
		{"<script>&</script>", `"<script>&</script>"`},
		{strings.Repeat("abcdefgh", 4) + "\"", `"` + strings.Repeat("abcdefgh", 4) + `\""`}, // escape after the 8-byte fast path
		{"1234567\"", `"1234567\""`},
		{"12345678\x01", `"12345678\u0001"`},
	}
	for _, tt := range tests {
		got := appendString(nil, tt.in)
		assert.Equal(t, tt.want, string(got), "%q", tt.in)
		require.True(t, json.Valid(got), "%q", tt.in)
		var back string
		require.NoError(t, json.Unmarshal(got, &back))
		assert.Equal(t, strings.ToValidUTF8(tt.in, "\ufffd"), strings.ReplaceAll(back, "\ufffd\ufffd", "\ufffd"), "%q", tt.in)
	}
}

func TestSkipJSONSafeMatchesTheTable(t *testing.T) {
	// Every byte value in every position of two 8-byte words and a tail.
	const clean = "abcdefghijklmnopqrs"
	for c := 0; c < 256; c++ {
		for pos := 0; pos < len(clean); pos++ {
			b := []byte(clean)
			b[pos] = byte(c)
			want := len(clean)
			if charClass[c]&classJSONSafe == 0 {
				want = pos
			}
			assert.Equal(t, want, skipJSONSafe(string(b), 0), "byte %#x at %d", c, pos)
			if pos < 3 {
				want = len(clean) // before the start
			}
			assert.Equal(t, want, skipJSONSafe(string(b), 3), "byte %#x at %d from 3", c, pos)
		}
	}
}

func TestAppendJSONHostileReportRoundTrips(t *testing.T) {
	hostile := "\"}],\n{\"role\":\"SERVER\"\\\x00\xff\u2028</script>"
	nested := pcommon.NewValueMap()
	nested.Map().PutStr(hostile, hostile)
	r := Report{
		API: APIPrivate, Role: RoleClient, FapiInteractionID: hostile, Endpoint: hostile, StatusCode: -1,
		HTTPMethod: hostile, ClientOrgID: hostile, ServerOrgID: hostile, ClientSSID: hostile,
		EndpointURIPrefix: hostile, CorrelationID: hostile, Timestamp: testStart, ProcessTimespan: math.MaxInt64,
		AdditionalInfo: []AdditionalField{{Key: hostile, Value: nested}, {Key: "n", Value: pcommon.NewValueDouble(math.NaN())}},
	}
	out := AppendJSON(nil, &r)
	require.True(t, json.Valid(out), string(out))
	var back map[string]any
	require.NoError(t, json.Unmarshal(out, &back))
	clean := strings.ToValidUTF8(hostile, "\ufffd")
	assert.Equal(t, clean, back["endpoint"])
	assert.Equal(t, "CLIENT", back["role"], "a hostile string cannot inject fields")
	assert.Equal(t, float64(-1), back["statusCode"])
	assert.Len(t, back, 13)
	info := back["additionalInfo"].(map[string]any)
	assert.Equal(t, map[string]any{clean: clean}, info[clean])
	assert.Nil(t, info["n"])
}

func TestAppendJSONNilAndUnknown(t *testing.T) {
	assert.Equal(t, "null", string(AppendJSON(nil, nil)))
	var zero Report
	out := AppendJSON(nil, &zero)
	assert.True(t, json.Valid(out), string(out))
	assert.Contains(t, string(out), `"role":""`)
	assert.Contains(t, string(out), `"additionalInfo":{}`, "Decision 11: always an object")
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	r := Report{
		API: APIPrivate, Role: RoleClient, FapiInteractionID: fapiID, Endpoint: accTmpl, StatusCode: 200,
		HTTPMethod: "GET", ClientOrgID: ourOrg, ServerOrgID: bankB, ClientSSID: ourSS, EndpointURIPrefix: bankURL,
		CorrelationID: traceIDHex, Timestamp: testStart, ProcessTimespan: 12,
		AdditionalInfo: []AdditionalField{{Key: "consentId", Value: strValue("urn:bancoa:C1DD33123")}},
	}
	buf := make([]byte, 0, 2048)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], &r) }))
}

func TestReportClone(t *testing.T) {
	v := pcommon.NewValueMap()
	v.Map().PutStr("k", "v")
	r := Report{Endpoint: "e", AdditionalInfo: []AdditionalField{{Key: "m", Value: v}, {Key: "zero"}}}
	c := r.Clone()
	v.Map().PutStr("k", "changed")
	r.AdditionalInfo[0].Key = "changed"
	assert.Equal(t, "m", c.AdditionalInfo[0].Key)
	got, _ := c.AdditionalInfo[0].Value.Map().Get("k")
	assert.Equal(t, "v", got.Str())
	assert.Equal(t, pcommon.ValueTypeEmpty, c.AdditionalInfo[1].Value.Type())
	assert.Nil(t, (&Report{}).Clone().AdditionalInfo)
}

func TestUnknownIdentifiersAreLeftOutNotEmpty(t *testing.T) {
	r := Report{API: APIPrivate, Role: RoleClient, Endpoint: "/token", StatusCode: 200, HTTPMethod: "POST", ClientOrgID: "5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60", ProcessTimespan: 1}
	out := string(AppendJSON(nil, &r))
	for _, key := range []string{`"serverOrgId"`, `"clientSSId"`, `"endpointUriPrefix"`} {
		if strings.Contains(out, key) {
			t.Errorf("%s present in %s", key, out)
		}
	}
	if !strings.Contains(out, `"clientOrgId":"5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60"`) {
		t.Errorf("clientOrgId missing in %s", out)
	}
}

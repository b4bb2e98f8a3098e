package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pcm-otel/pcmexporter/mapping"
)

// TestJudgeRoundTrip decodes report objects and checks what would be sent
// (mapping.AppendJSON of the decoded report) or why PCM would discard them.
func TestJudgeRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	const ts = `"timestamp":"2026-03-10T11:00:00.123Z"`
	const client = `"fapiInteractionId":"` + fapi1 + `","endpoint":"/open-banking/accounts/v2/accounts","statusCode":200,"httpMethod":"GET",` +
		`"clientOrgId":"` + orgA + `","serverOrgId":"` + orgB + `","clientSSId":"` + ssA + `","endpointUriPrefix":"https://b.example/opbk",`
	tests := []struct {
		name     string
		in       string
		api      mapping.API
		wantSent string // AppendJSON of an accepted report
		wantMsg  string // PCM's message for a discarded one
	}{
		{
			name:     "additionalInfo keeps order and types",
			in:       `{` + client + ts + `,"processTimespan":120,"role":"CLIENT","additionalInfo":{"z":"s","a":1,"f":1.5,"b":true,"n":null,"m":{"k":[1,"x",{"y":false}]},"big":1e300}}`,
			api:      mapping.APIPrivate,
			wantSent: `{` + client + ts + `,"processTimespan":120,"role":"CLIENT","additionalInfo":{"z":"s","a":1,"f":1.5,"b":true,"n":null,"m":{"k":[1,"x",{"y":false}]},"big":1e+300}}`,
		},
		{
			name:     "keys in any order, fractional timespan rounded up (Decision 4), correlationId kept",
			in:       `{"role":"CLIENT","additionalInfo":{},"processTimespan":120.2,` + ts + `,"correlationId":"abc",` + client[:len(client)-1] + `}`,
			api:      mapping.APIPrivate,
			wantSent: `{` + client + `"correlationId":"abc",` + ts + `,"processTimespan":121,"role":"CLIENT","additionalInfo":{}}`,
		},
		{
			name:     "repeated additionalInfo key: first position, last value",
			in:       `{` + client + ts + `,"processTimespan":1,"role":"CLIENT","additionalInfo":{"a":1,"b":2,"a":3}}`,
			api:      mapping.APIPrivate,
			wantSent: `{` + client + ts + `,"processTimespan":1,"role":"CLIENT","additionalInfo":{"a":3,"b":2}}`,
		},
		{
			name:     "opendata",
			in:       `{"endpoint":"/open-banking/channels/v2/branches","statusCode":200,"httpMethod":"GET",` + ts + `,"processTimespan":3,"additionalInfo":{"clientIp":"203.0.113.7"}}`,
			api:      mapping.APIOpendata,
			wantSent: `{"endpoint":"/open-banking/channels/v2/branches","statusCode":200,"httpMethod":"GET",` + ts + `,"processTimespan":3,"additionalInfo":{"clientIp":"203.0.113.7"}}`,
		},
		{
			name:    "null values count as absent",
			in:      `{` + client + ts + `,"processTimespan":null,"role":"CLIENT","additionalInfo":null,"fapiInteractionId":null}`,
			api:     mapping.APIPrivate,
			wantMsg: "Missing property: processTimespan; Missing property: additionalInfo; Missing property: fapiInteractionId",
		},
		{
			name:    "wrong JSON types",
			in:      `{"fapiInteractionId":1,"endpoint":["x"],"statusCode":200.5,"httpMethod":"GET","clientOrgId":"` + orgA + `","serverOrgId":"` + orgB + `","clientSSId":"` + ssA + `","endpointUriPrefix":"https://b.example",` + ts + `,"processTimespan":"1","role":"CLIENT","additionalInfo":[]}`,
			api:     mapping.APIPrivate,
			wantMsg: "Field type mismatch: endpoint; Field type mismatch: fapiInteractionId; Field type mismatch: statusCode; Field type mismatch: processTimespan; Field type mismatch: additionalInfo",
		},
		{
			name:    "status code out of range",
			in:      `{` + client[:len(`"fapiInteractionId":"`+fapi1+`","endpoint":"/open-banking/accounts/v2/accounts",`)] + `"statusCode":0,"httpMethod":"GET","clientOrgId":"` + orgA + `","serverOrgId":"` + orgB + `","clientSSId":"` + ssA + `","endpointUriPrefix":"https://b.example",` + ts + `,"processTimespan":1,"role":"CLIENT","additionalInfo":{}}`,
			api:     mapping.APIPrivate,
			wantMsg: "Invalid field value: statusCode must be between 200 and 599",
		},
		{
			name:    "SERVER report of another organisation",
			in:      `{"fapiInteractionId":"` + fapi1 + `","endpoint":"/open-banking/accounts/v2/accounts","statusCode":200,"httpMethod":"GET","clientOrgId":"` + orgA + `","serverOrgId":"` + orgB + `",` + ts + `,"processTimespan":1,"role":"SERVER"}`,
			api:     mapping.APIPrivate,
			wantMsg: "Requester id mismatch with serverOrgId",
		},
		{
			name:    "empty object",
			in:      `{}`,
			api:     mapping.APIPrivate,
			wantMsg: "Missing property: processTimespan; Missing property: fapiInteractionId; Missing property: endpoint; Missing property: statusCode; Missing property: httpMethod; Missing property: timestamp; Missing property: clientOrgId; Missing property: serverOrgId; Missing property: role",
		},
		{
			name:    "a string",
			in:      `"report"`,
			api:     mapping.APIPrivate,
			wantMsg: "Invalid payload format: report MUST be an object",
		},
	}
	validator := mapping.Validator{Catalog: mapping.DefaultCatalog()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := judge([]byte(tt.in), tt.api, validator, orgA, now, nil)
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, j.message())
				return
			}
			require.True(t, j.ok(), j.message())
			assert.Equal(t, tt.wantSent, string(mapping.AppendJSON(nil, &j.report)))
		})
	}
}

func TestDecodeAdditionalInfoTypes(t *testing.T) {
	t.Parallel()
	info, err := decodeAdditionalInfo([]byte(`{"s":"x","i":-7,"d":2.5,"b":false,"n":null,"m":{"a":[1]}}`))
	require.NoError(t, err)
	types := map[string]pcommon.ValueType{}
	for _, f := range info {
		types[f.Key] = f.Value.Type()
	}
	assert.Equal(t, map[string]pcommon.ValueType{
		"s": pcommon.ValueTypeStr, "i": pcommon.ValueTypeInt, "d": pcommon.ValueTypeDouble, "b": pcommon.ValueTypeBool,
		"n": pcommon.ValueTypeEmpty, "m": pcommon.ValueTypeMap,
	}, types)
	assert.Equal(t, int64(-7), info[1].Value.Int())
	assert.Equal(t, map[string]any{"a": []any{int64(1)}}, info[5].Value.Map().AsRaw())
}

func TestInferAPI(t *testing.T) {
	t.Parallel()
	catalog := mapping.DefaultCatalog()
	tests := []struct {
		raw, entryAPI string
		want          mapping.API
	}{
		{`{"endpoint":"/open-banking/channels/v2/branches"}`, "", mapping.APIOpendata},
		{`{"endpoint":"/open-banking/channels/v2/branches","role":"SERVER"}`, "", mapping.APIPrivate},
		{`{"endpoint":"/open-banking/accounts/v2/accounts"}`, "", mapping.APIPrivate},
		{`{"endpoint":"/open-banking/credit-portability/v1/portabilities","role":"CLIENT"}`, "", mapping.APICreditPortability},
		{`{"endpoint":"/open-banking/accounts/v2/accounts"}`, "credit_portability", mapping.APICreditPortability},
		{`{"endpoint":"/open-banking/accounts/v2/accounts"}`, "opendata", mapping.APIOpendata},
		{`{"endpoint":"/open-banking/channels/v2/branches"}`, "private", mapping.APIPrivate},
		{`[]`, "", mapping.APIPrivate},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, inferAPI([]byte(tt.raw), tt.entryAPI, catalog), "%s %s", tt.raw, tt.entryAPI)
	}
}

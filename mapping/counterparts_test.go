package mapping

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// fakeResolver stands for the Directory: one API base and one caller.
type fakeResolver struct{ asked []string }

const directoryOrg = "3a4b5c6d-7e8f-4a1b-9c2d-3e4f5a6b7c8d"

func (f *fakeResolver) ServerOrg(rawURL string) string {
	f.asked = append(f.asked, rawURL)
	if strings.HasPrefix(rawURL, "https://api.directory-only.example/opbk/") || strings.HasPrefix(rawURL, "https://auth.directory-only.example/") {
		return directoryOrg
	}
	return ""
}

func (f *fakeResolver) ClientOrg(callerID string) string {
	if callerID == "client-of-directory-org" {
		return directoryOrg
	}
	return ""
}

func TestCounterpartResolverIsAskedLast(t *testing.T) {
	tests := []struct {
		name      string
		kind      ptrace.SpanKind
		attrs     map[string]any
		want      Outcome
		wantOrg   string // serverOrgId (CLIENT) or clientOrgId (SERVER)
		wantAsked bool
	}{
		{name: "client: host known only to the resolver", kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs("https://api.directory-only.example/opbk/open-banking/accounts/v2/accounts"), map[string]any{"server.address": "api.directory-only.example"}),
			want:  OutcomeReport, wantOrg: directoryOrg, wantAsked: true},
		{name: "client: counterparts.hosts wins", kind: ptrace.SpanKindClient,
			attrs: clientAttrs("https://" + bankBHost + "/open-banking/accounts/v2/accounts"), want: OutcomeReport, wantOrg: bankB},
		{name: "client: attribute wins", kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs("https://api.directory-only.example/opbk/open-banking/accounts/v2/accounts"), map[string]any{"pcm.server_org_id": callerOrg}),
			want:  OutcomeReport, wantOrg: callerOrg},
		{name: "client: security endpoint resolved by the resolver is reported", kind: ptrace.SpanKindClient,
			attrs: merge(clientAttrs("https://auth.directory-only.example/as/token.oauth2"), map[string]any{"http.request.method": "POST", "server.address": "auth.directory-only.example"}),
			want:  OutcomeReport, wantOrg: directoryOrg, wantAsked: true},
		{name: "server: caller id resolved", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs("/open-banking/accounts/v2/accounts"), map[string]any{"pcm.client_org_id": nil, "pcm.caller_id": "client-of-directory-org"}),
			want:  OutcomeReport, wantOrg: directoryOrg},
		{name: "server: unknown caller stays unknown", kind: ptrace.SpanKindServer,
			attrs: merge(serverAttrs("/open-banking/accounts/v2/accounts"), map[string]any{"pcm.client_org_id": nil, "pcm.caller_id": "stranger"}),
			want:  OutcomeReport, wantOrg: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolver := &fakeResolver{}
			m := newTestMapper(t, func(c *Config) { c.Counterparts = resolver })
			res, span := mkSpan(t, tt.kind, tt.attrs)
			var r Report
			got := m.Map(res, span, &r)
			assert.Equal(t, tt.want, got.Outcome, "%+v", got)
			if tt.kind == ptrace.SpanKindClient {
				assert.Equal(t, tt.wantOrg, r.ServerOrgID)
			} else {
				assert.Equal(t, tt.wantOrg, r.ClientOrgID)
			}
			assert.Equal(t, tt.wantAsked, len(resolver.asked) > 0, "asked: %v", resolver.asked)
		})
	}
}

// TestCounterpartQueryIsWhatTheResolverCouldNotAnswer: the exporter asks the Directory again
// with it once the Directory has loaded.
func TestCounterpartQueryIsWhatTheResolverCouldNotAnswer(t *testing.T) {
	m := newTestMapper(t, func(c *Config) { c.Counterparts = &fakeResolver{} })
	unknownURL := "https://api.unknown.example/open-banking/accounts/v2/accounts"
	for _, tc := range []struct {
		name  string
		kind  ptrace.SpanKind
		attrs map[string]any
		want  string
	}{
		{"client: unanswered URL", ptrace.SpanKindClient, clientAttrs(unknownURL), unknownURL},
		{"client: answered", ptrace.SpanKindClient, clientAttrs("https://api.directory-only.example/opbk/open-banking/accounts/v2/accounts"), ""},
		{"client: not asked", ptrace.SpanKindClient, clientAttrs("https://" + bankBHost + "/open-banking/accounts/v2/accounts"), ""},
		{"server: unanswered caller", ptrace.SpanKindServer,
			merge(serverAttrs("/open-banking/accounts/v2/accounts"), map[string]any{"pcm.client_org_id": nil, "pcm.caller_id": "stranger"}), "stranger"},
		{"server: answered caller", ptrace.SpanKindServer,
			merge(serverAttrs("/open-banking/accounts/v2/accounts"), map[string]any{"pcm.client_org_id": nil, "pcm.caller_id": "client-of-directory-org"}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, span := mkSpan(t, tc.kind, tc.attrs)
			var r Report
			got := m.Map(res, span, &r)
			assert.Equal(t, OutcomeReport, got.Outcome)
			assert.Equal(t, tc.want, got.CounterpartQuery)
		})
	}
}

// pendingResolver knows nobody yet, and says whether it may still learn them.
type pendingResolver struct {
	fakeResolver
	pending bool
}

func (p *pendingResolver) ServerOrgPending(string) bool { return p.pending }
func (p *pendingResolver) ClientOrgPending(string) bool { return p.pending }

// TestSecurityCallWithAPendingCounterpartIsKept: a token call to a host nobody names yet is
// skipped as unknown_counterpart, unless the resolver may still learn it (a Directory loading
// its discovery documents, whose mTLS aliases name such hosts): then it is a report whose
// counterpart is asked again later.
func TestSecurityCallWithAPendingCounterpartIsKept(t *testing.T) {
	token := clientAttrs("https://matls-auth.unknown.example/token")
	token["http.request.method"] = "POST"
	for _, pending := range []bool{false, true} {
		m := newTestMapper(t, func(c *Config) { c.Counterparts = &pendingResolver{pending: pending} })
		res, span := mkSpan(t, ptrace.SpanKindClient, token)
		var r Report
		got := m.Map(res, span, &r)
		if !pending {
			assert.Equal(t, OutcomeSkipped, got.Outcome)
			assert.Equal(t, SkipUnknownCounterpart, got.SkipReason)
			continue
		}
		assert.Equal(t, OutcomeReport, got.Outcome)
		assert.Equal(t, "/token", r.Endpoint)
		assert.Empty(t, r.ServerOrgID)
		assert.Equal(t, "https://matls-auth.unknown.example/token", got.CounterpartQuery)
	}
}

package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestParseHostsKey covers every documented form of a counterparts.hosts key and the keys the
// lookup could never match, which must be refused rather than silently never apply.
func TestParseHostsKey(t *testing.T) {
	tests := []struct {
		key      string
		wantHost string
		wantPort int
		wantErr  string // "" when the key is valid
	}{
		{key: "api.bank", wantHost: "api.bank"},
		{key: " API.Bank ", wantHost: "api.bank"},
		{key: "api.bank:8443", wantHost: "api.bank", wantPort: 8443},
		{key: "api.bank.", wantHost: "api.bank"},
		{key: "api.bank.:443", wantHost: "api.bank", wantPort: 443},
		{key: "internal_gw.bank", wantHost: "internal_gw.bank"},
		{key: "10.0.0.7:8443", wantHost: "10.0.0.7", wantPort: 8443},
		{key: "[::1]:8443", wantHost: "::1", wantPort: 8443},
		{key: "[2001:DB8::1]", wantHost: "2001:db8::1"},
		{key: "2001:db8::2", wantHost: "2001:db8::2"},
		{key: "[0:0:0:0:0:0:0:1]:8443", wantHost: "::1", wantPort: 8443},
		{key: "2001:0DB8:0:0:0:0:0:3", wantHost: "2001:db8::3"},
		{key: "https://API.bank:8443/", wantHost: "api.bank", wantPort: 8443},
		{key: "https://api.bank", wantHost: "api.bank"},
		{key: "https://[::1]:443", wantHost: "::1", wantPort: 443},
		{key: "api.bank:65535", wantHost: "api.bank", wantPort: 65535},

		{key: "", wantErr: `hosts entry "": empty host`},
		{key: "https://", wantErr: `hosts entry "https://": empty host`},
		{key: "api.bank:0", wantErr: `hosts entry "api.bank:0": invalid port (1-65535)`},
		{key: "api.bank:65536", wantErr: `hosts entry "api.bank:65536": invalid port (1-65535)`},
		{key: "api.bank:https", wantErr: `hosts entry "api.bank:https": invalid port (1-65535)`},
		{key: "api.bank:", wantErr: `hosts entry "api.bank:": invalid port (1-65535)`},
		{key: "[::1]:", wantErr: `hosts entry "[::1]:": invalid port (1-65535)`},
		{key: "[::1]:0", wantErr: `hosts entry "[::1]:0": invalid port (1-65535)`},
		{key: "https://api.bank:0/", wantErr: `hosts entry "https://api.bank:0/": invalid port (1-65535)`},
		{key: "https://api.bank/open-banking", wantErr: `hosts entry "https://api.bank/open-banking": a URL with a path, query or fragment (entries match host and port only)`},
		{key: "https://api.bank?x=1", wantErr: `hosts entry "https://api.bank?x=1": a URL with a path, query or fragment (entries match host and port only)`},
		{key: "https://user:pw@api.bank", wantErr: `hosts entry "https://user:pw@api.bank": a URL with user information (entries match host and port only)`},
		{key: "api.bank/open-banking", wantErr: `hosts entry "api.bank/open-banking": invalid host (letters, digits, "-", "_" and "." only; no wildcards)`},
		{key: "*.bank", wantErr: `hosts entry "*.bank": invalid host (letters, digits, "-", "_" and "." only; no wildcards)`},
		{key: "user@api.bank", wantErr: `hosts entry "user@api.bank": invalid host (letters, digits, "-", "_" and "." only; no wildcards)`},
		{key: "api..bank", wantErr: `hosts entry "api..bank": invalid host (letters, digits, "-", "_" and "." only; no wildcards)`},
		{key: "api bank", wantErr: `hosts entry "api bank": invalid host (letters, digits, "-", "_" and "." only; no wildcards)`},
		{key: "[::1", wantErr: `hosts entry "[::1": invalid host (unclosed "[")`},
		{key: "[::1]8443", wantErr: `hosts entry "[::1]8443": invalid host (text after "]")`},
		{key: "[api.bank]:443", wantErr: `hosts entry "[api.bank]:443": invalid host (not an IPv6 address between brackets)`},
		{key: "::1:8443:x", wantErr: `hosts entry "::1:8443:x": invalid host (several ":" but not an IPv6 address; write [IPv6]:port)`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			host, port, err := ParseHostsKey(tt.key)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantHost, host)
			assert.Equal(t, tt.wantPort, port)

			// NewMapper applies the same rule: what ParseHostsKey accepts builds a mapper.
			_, err = NewMapper(Config{Hosts: map[string]string{tt.key: bankB}})
			require.NoError(t, err)
		})
	}
}

func TestHostsTrailingDotMatchesEitherWay(t *testing.T) {
	for _, tt := range []struct{ key, url string }{
		{"api.bank-c.example.", "https://api.bank-c.example/open-banking/resources/v3/resources"},
		{"api.bank-c.example", "https://api.bank-c.example./open-banking/resources/v3/resources"},
	} {
		m, err := NewMapper(Config{OrgID: ourOrg, SoftwareStatementID: ourSS, Hosts: map[string]string{tt.key: bankC}})
		require.NoError(t, err)
		res, span := mkSpan(t, ptrace.SpanKindClient, merge(clientAttrs(tt.url), map[string]any{"server.address": nil}))
		var r Report
		require.Equal(t, report, m.Map(res, span, &r), tt.url)
		assert.Equal(t, bankC, r.ServerOrgID, "%s with the key %s", tt.url, tt.key)
	}
}

func TestValidateSecurityRuleUsesTheCatalog(t *testing.T) {
	// docs/pcm-rules.md lists the six security templates; an endpoints_file may add more.
	extended, err := ParseCatalog([]byte(`{"security": ["/userinfo"]}`), DefaultCatalog())
	require.NoError(t, err)

	require.NoError(t, ValidateSecurityRule("/oauth/userinfo", "/userinfo", extended))
	require.EqualError(t, ValidateSecurityRule("/oauth/userinfo", "/userinfo", DefaultCatalog()),
		`security rule "/oauth/userinfo": "/userinfo" is not a security template (one of /introspection, /pushed-authorization-request, /register, /register/{clientId}, /revocation, /token, or of the catalog's security list)`)
	require.NoError(t, ValidateSecurityRule("/as/token.oauth2", "/token", DefaultCatalog()))
	require.EqualError(t, ValidateSecurityRule("/as/token/", "/token", DefaultCatalog()),
		`security rule "/as/token/": template "/as/token/" has an empty segment`)

	// NewMapper applies the same rule with its catalog.
	_, err = NewMapper(Config{Catalog: extended, SecurityRules: map[string]string{"/oauth/userinfo": "/userinfo"}})
	require.NoError(t, err)
	_, err = NewMapper(Config{SecurityRules: map[string]string{"/oauth/userinfo": "/userinfo"}})
	require.Error(t, err)
}

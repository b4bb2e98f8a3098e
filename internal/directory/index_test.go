package directory

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFixtureStats(t *testing.T) {
	st := fixtureIndex(t).Stats()
	assert.Equal(t, Stats{
		Organisations: 8, // nine entries, one without a valid OrganisationId
		Inactive:      1, // Banco Antigo
		APIBases:      6, // aurora api+pix, horizonte, atlas /opbk and /opbk/digital, conectabaas (ambiguous); Antigo's are not indexed
		AuthServers:   7,
		Clients:       5, // two SoftwareStatementIds, three client_ids
		Ambiguous:     4, // conectabaas base and host, api.grupoatlas.example host, auth.grupoatlas.example host
		Skipped:       1,
	}, st)
}

func TestOrgByURLFixture(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		name, url, want string
	}{
		// Rule 1: the longest API base on a path-segment boundary.
		{"api base with /opbk prefix", "https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora},
		{"second API host of the same bank", "https://pix.bancoaurora.example/opbk/open-banking/payments/v4/pix/payments/PAY-1", orgAurora},
		{"path under the base but not a registered endpoint", "https://api.bancoaurora.example/opbk/open-banking/resources/v3/resources", orgAurora},
		{"exact base, no trailing path", "https://api.bancoaurora.example/opbk", orgAurora},
		{"host case, default port, query and fragment", "HTTPS://API.BancoAurora.EXAMPLE:443/opbk/open-banking/consents/v3/consents/urn:x?page=2#top", orgAurora},
		{"trailing dot of a fully qualified host", "https://api.bancoaurora.example./opbk/open-banking/accounts/v2/accounts", orgAurora},
		{"userinfo is ignored", "https://REDACTED:REDACTED@api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora},
		{"schemeless URL is read as https", "api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora},
		{"scheme-relative URL", "//pix.bancoaurora.example/opbk/open-banking/payments/v4/consents", orgAurora},
		{"withdrawn org's endpoint on the absorbing bank's base", "https://api.bancoaurora.example/opbk/open-banking/accounts/v1/accounts", orgAurora},
		{"no prefix: the base is the whole origin", "https://openfinance.coophorizonte.example/open-banking/consents/v3/consents/urn:c", orgHorizonte},

		// Longest prefix and segment boundaries on a host shared by two organisations.
		{"shared host, shorter prefix", "https://api.grupoatlas.example/opbk/open-banking/accounts/v2/accounts", orgAtlas},
		{"shared host, longer prefix wins", "https://api.grupoatlas.example/opbk/digital/open-banking/accounts/v2/accounts", orgAtlasDig},
		{"segment boundary: /opbk/digitalx is under /opbk only", "https://api.grupoatlas.example/opbk/digitalx/open-banking/accounts/v2/accounts", orgAtlas},
		{"segment boundary: /opbk2 is not under /opbk, and the host is shared", "https://api.grupoatlas.example/opbk2/open-banking/accounts/v2/accounts", ""},
		{"outside every base of a shared host", "https://api.grupoatlas.example/health", ""},
		{"empty segments are dropped", "https://api.grupoatlas.example//opbk//digital/open-banking/accounts/v2/accounts", orgAtlasDig},
		{"dot segments are resolved", "https://api.grupoatlas.example/opbk/./x/../digital/open-banking/accounts/v2/accounts", orgAtlasDig},
		{"paths are case-sensitive", "https://api.grupoatlas.example/OPBK/open-banking/accounts/v2/accounts", ""},

		// Rule 2: the authorisation server's issuer path.
		{"AS at the root of its host: token", "https://auth.bancoaurora.example/token", orgAurora},
		{"AS at the root of its host: PAR", "https://auth.bancoaurora.example/request?x=1", orgAurora},
		{"AS host differs from the API host, realm path", "https://sso.horizonte-idp.example/realms/horizonte/protocol/openid-connect/token", orgHorizonte},
		{"shared AS host, first realm", "https://auth.grupoatlas.example/atlas/token", orgAtlas},
		{"shared AS host, second realm", "https://auth.grupoatlas.example/digital/par", orgAtlasDig},
		{"AS of a bank whose API host is ambiguous", "https://auth.pagarja.example/token", orgPagarJa},
		{"AS of the other one", "https://auth.brisa.example/register", orgBrisa},

		// Rule 3: the authorisation server's host.
		{"AS host outside the issuer path", "https://sso.horizonte-idp.example/admin/token", orgHorizonte},
		{"AS host on another port", "https://auth.bancoaurora.example:8443/token", orgAurora},
		{"shared AS host outside both realms is ambiguous", "https://auth.grupoatlas.example/token", ""},

		// Rule 4: an API host of exactly one organisation.
		{"/opbk2 on a host of one organisation", "https://api.bancoaurora.example/opbk2/open-banking/accounts/v2/accounts", orgAurora},
		{"plain http to the API host (TLS originated by a mesh)", "http://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts", orgAurora},
		{"explicit other port on the API host", "https://pix.bancoaurora.example:8443/opbk/open-banking/payments/v4/consents", orgAurora},

		// Never a guess.
		{"host claimed by two organisations without prefix", "https://api.conectabaas.example/open-banking/accounts/v2/accounts", ""},
		{"withdrawn organisation's own host", "https://api.bancoantigo.example/open-banking/accounts/v1/accounts", ""},
		{"withdrawn organisation's AS", "https://auth.bancoantigo.example/token", ""},
		{"entry without a valid OrganisationId", "https://api.semuuid.example/open-banking/accounts/v2/accounts", ""},
		{"unknown host", "https://api.unknown.example/open-banking/accounts/v2/accounts", ""},
		{"Directory keystore (PayloadSigningCertLocationUri is not read)", "https://keystore.directory.example/56218094-b49b-4779-b1d4-aa96223aa31f/application.jwks", ""},
		{"developer portal is not read", "https://developers.bancoaurora.example/", ""},
		{"bare path", "/opbk/open-banking/accounts/v2/accounts", ""},
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"invalid port", "https://api.bancoaurora.example:99999/opbk/open-banking/accounts/v2/accounts", ""},
		{"non-numeric port", "https://api.bancoaurora.example:https/opbk/open-banking/accounts/v2/accounts", ""},
		{"no host", "https:///opbk/open-banking/accounts/v2/accounts", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolves(t, ix, tt.url, tt.want)
		})
	}
}

func TestOrgByClientFixture(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		name, id, want string
	}{
		{"OrganisationId", orgAurora, orgAurora},
		{"OrganisationId in upper case", "56218094-B49B-4779-B1D4-AA96223AA31F", orgAurora},
		{"OrganisationId with blanks", "  " + orgHorizonte + "\t", orgHorizonte},
		{"OrganisationId of an org without SoftwareStatements", orgPagarJa, orgPagarJa},
		{"OrganisationId of a withdrawn org", orgAntigo, orgAntigo},
		{"SoftwareStatementId", "9164bb89-437a-416a-a8e2-a7328a806dab", orgVeloz},
		{"SoftwareStatementId in upper case", "10DEFACC-25F5-439C-8BC9-6644BB6AE14C", orgVeloz},
		{"ClientId", "veloz-pix-7Qm2", orgVeloz},
		{"ClientIds item", "veloz-dados-Zk81", orgVeloz},
		{"ClientIds item that is a UUID, upper case", "014E3FDC-5102-42C3-B742-421DCE7EF8FF", orgVeloz},
		{"opaque client_ids compare exactly", "VELOZ-PIX-7QM2", ""},
		{"unknown UUID", "00c0ffee-0000-4000-8000-000000000000", ""},
		{"nil UUID", "00000000-0000-0000-0000-000000000000", ""},
		{"entry without a valid OrganisationId", "ORG-SEM-UUID-0001", ""},
		{"AuthorisationServerId is not a caller id", "65a7789d-b3e1-4864-93ee-86b6f3af3ff3", ""},
		{"empty", "", ""},
		{"blank", "  ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ix.OrgByClient(tt.id)
			assert.Equal(t, tt.want != "", ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestName(t *testing.T) {
	ix := fixtureIndex(t)
	assert.Equal(t, "Banco Aurora", ix.Name(orgAurora))
	assert.Equal(t, "Banco Aurora", ix.Name("56218094-B49B-4779-B1D4-AA96223AA31F"))
	assert.Equal(t, "Pagar Já", ix.Name(orgPagarJa))
	assert.Equal(t, "Banco Antigo", ix.Name(orgAntigo))
	assert.Empty(t, ix.Name("ORG-SEM-UUID-0001"))
	assert.Empty(t, ix.Name("00c0ffee-0000-4000-8000-000000000000"))
	assert.Empty(t, ix.Name(""))

	// Fallbacks: RegisteredName, LegalEntityName, the first CustomerFriendlyName.
	ix = mustParse(t, `[
		{"OrganisationId": "11111111-1111-4111-8111-111111111111", "RegisteredName": "REGISTERED S.A.", "LegalEntityName": "LEGAL"},
		{"OrganisationId": "22222222-2222-4222-8222-222222222222", "OrganisationName": " ", "LegalEntityName": "LEGAL LTDA"},
		{"OrganisationId": "33333333-3333-4333-8333-333333333333", "AuthorisationServers": [{"CustomerFriendlyName": ""}, {"CustomerFriendlyName": "Friendly"}]},
		{"OrganisationId": "44444444-4444-4444-8444-444444444444"}
	]`)
	assert.Equal(t, "REGISTERED S.A.", ix.Name("11111111-1111-4111-8111-111111111111"))
	assert.Equal(t, "LEGAL LTDA", ix.Name("22222222-2222-4222-8222-222222222222"))
	assert.Equal(t, "Friendly", ix.Name("33333333-3333-4333-8333-333333333333"))
	assert.Empty(t, ix.Name("44444444-4444-4444-8444-444444444444"))
}

func TestNilIndex(t *testing.T) {
	var ix *Index
	_, ok := ix.OrgByURL("https://api.bancoaurora.example/opbk/open-banking/accounts/v2/accounts")
	assert.False(t, ok)
	_, ok = ix.OrgByClient(orgAurora)
	assert.False(t, ok)
	assert.Empty(t, ix.Name(orgAurora))
	assert.Equal(t, Stats{}, ix.Stats())
}

const (
	idA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	idB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

// org builds a participants entry with the given ApiEndpoints and discovery documents.
func org(id, status string, endpoints, discovery []string) string {
	eps := ""
	for i, e := range endpoints {
		if i > 0 {
			eps += ","
		}
		eps += fmt.Sprintf(`{"ApiEndpoint": %q}`, e)
	}
	ases := fmt.Sprintf(`{"ApiResources": [{"ApiDiscoveryEndpoints": [%s]}]}`, eps)
	for _, d := range discovery {
		ases += fmt.Sprintf(`, {"OpenIDDiscoveryDocument": %q}`, d)
	}
	return fmt.Sprintf(`{"OrganisationId": %q, "Status": %q, "AuthorisationServers": [%s]}`, id, status, ases)
}

func mustParse(t testing.TB, doc string) *Index {
	t.Helper()
	ix, err := Parse([]byte(doc))
	require.NoError(t, err)
	return ix
}

func TestOrgByURLRules(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		url  string
		want string
	}{
		{
			name: "index side normalised: upper-case host, explicit default port, trailing slash",
			doc:  "[" + org(idA, "Active", []string{"HTTPS://API.Bank.Example:443/opbk//open-banking/accounts/v2/accounts"}, nil) + "]",
			url:  "https://api.bank.example/opbk/open-banking/x", want: idA,
		},
		{
			name: "origin includes a non-default port",
			doc: "[" + org(idA, "Active", []string{"https://api.bank.example:8443/a/open-banking/x"}, nil) + "," +
				org(idB, "Active", []string{"https://api.bank.example/a/open-banking/x"}, nil) + "]",
			url: "https://api.bank.example:8443/a/open-banking/x", want: idA,
		},
		{
			name: "origin includes the scheme",
			doc: "[" + org(idA, "Active", []string{"http://api.bank.example/a/open-banking/x"}, nil) + "," +
				org(idB, "Active", []string{"https://api.bank.example/a/open-banking/x"}, nil) + "]",
			url: "http://api.bank.example:80/a/open-banking/x", want: idA,
		},
		{
			name: "same base claimed by two organisations is ambiguous and does not fall back to a shorter one",
			doc: "[" + org(idA, "Active", []string{"https://api.bank.example/open-banking/x"}, nil) + "," +
				org(idB, "Active", []string{"https://api.bank.example/p/open-banking/x", "https://api.bank.example/p/open-banking/y"}, nil) + "," +
				org("cccccccc-cccc-4ccc-8ccc-cccccccccccc", "Active", []string{"https://api.bank.example/p/open-banking/z"}, nil) + "]",
			url: "https://api.bank.example/p/open-banking/x", want: "",
		},
		{
			name: "the shorter base still resolves outside the ambiguous one",
			doc: "[" + org(idA, "Active", []string{"https://api.bank.example/open-banking/x"}, nil) + "," +
				org(idB, "Active", []string{"https://api.bank.example/p/open-banking/x"}, nil) + "," +
				org("cccccccc-cccc-4ccc-8ccc-cccccccccccc", "Active", []string{"https://api.bank.example/p/open-banking/z"}, nil) + "]",
			url: "https://api.bank.example/q/open-banking/x", want: idA,
		},
		{
			name: "the same organisation registering a base twice is not ambiguous",
			doc: "[" + org(idA, "Active", []string{"https://api.bank.example/open-banking/x"}, nil) + "," +
				org(idA, "Active", []string{"https://api.bank.example/open-banking/y"}, nil) + "]",
			url: "https://api.bank.example/open-banking/z", want: idA,
		},
		{
			name: "API base beats the AS base on the same origin",
			doc: "[" + org(idA, "Active", []string{"https://shared.example/open-banking/x"}, nil) + "," +
				org(idB, "Active", nil, []string{"https://shared.example/realms/b/.well-known/openid-configuration"}) + "]",
			url: "https://shared.example/realms/b/token", want: idA,
		},
		{
			name: "AS base beats an API host",
			doc: "[" + org(idA, "Active", []string{"https://shared.example/a/open-banking/x"}, nil) + "," +
				org(idB, "Active", nil, []string{"https://shared.example/realms/b/.well-known/openid-configuration"}) + "]",
			url: "https://shared.example/realms/b/token", want: idB,
		},
		{
			name: "AS host beats an API host of another organisation",
			doc: "[" + org(idA, "Active", []string{"https://shared.example/a/open-banking/x"}, nil) + "," +
				org(idB, "Active", nil, []string{"https://shared.example/realms/b/.well-known/openid-configuration"}) + "]",
			url: "https://shared.example/token", want: idB,
		},
		{
			name: "RFC 8414 well-known location",
			doc: "[" + org(idA, "Active", nil, []string{"https://login.example/.well-known/openid-configuration/tenant-a"}) + "," +
				org(idB, "Active", nil, []string{"https://login.example/.well-known/openid-configuration/tenant-b"}) + "]",
			url: "https://login.example/tenant-b/token", want: idB,
		},
		{
			name: "discovery document without .well-known gives its host only",
			doc:  "[" + org(idA, "Active", nil, []string{"https://login.example/openid"}) + "]",
			url:  "https://login.example/anything", want: idA,
		},
		{
			name: "Issuer (newer exports) gives an AS base",
			doc: `[{"OrganisationId": "` + idA + `", "AuthorisationServers": [{"Issuer": "https://login.example/t/a"}]},
			       {"OrganisationId": "` + idB + `", "AuthorisationServers": [{"Issuer": "https://login.example/t/b/"}]}]`,
			url: "https://login.example/t/b/par", want: idB,
		},
		{
			name: "ApiEndpoint without an open-banking segment gives its host only",
			doc:  "[" + org(idA, "Active", []string{"https://api.bank.example/v1/personal-accounts"}, nil) + "]",
			url:  "https://api.bank.example/opbk/open-banking/accounts/v2/accounts", want: idA,
		},
		{
			name: "open-banking as the first segment gives an empty prefix",
			doc: "[" + org(idA, "Active", []string{"https://api.bank.example/open-banking/x"}, nil) + "," +
				org(idB, "Active", []string{"https://api.bank.example/b/open-banking/x"}, nil) + "]",
			url: "https://api.bank.example/c/open-banking/x", want: idA,
		},
		{
			name: "schemeless ApiEndpoint is read as https",
			doc:  "[" + org(idA, "Active", []string{"api.bank.example/opbk/open-banking/x"}, nil) + "]",
			url:  "https://api.bank.example:443/opbk/open-banking/y", want: idA,
		},
		{
			name: "IPv6 literal",
			doc:  "[" + org(idA, "Active", []string{"https://[2001:DB8::1]/opbk/open-banking/x"}, nil) + "]",
			url:  "https://[2001:db8::1]:443/opbk/open-banking/y", want: idA,
		},
		{
			name: "missing Status counts as Active",
			doc:  `[{"OrganisationId": "` + idA + `", "AuthorisationServers": [{"OpenIDDiscoveryDocument": "https://login.example/.well-known/openid-configuration"}]}]`,
			url:  "https://login.example/token", want: idA,
		},
		{
			name: "Status compares case-insensitively",
			doc:  "[" + org(idA, "active", []string{"https://api.bank.example/open-banking/x"}, nil) + "]",
			url:  "https://api.bank.example/open-banking/x", want: idA,
		},
		{
			name: "Pending organisations contribute no URLs",
			doc:  "[" + org(idA, "Pending", []string{"https://api.bank.example/open-banking/x"}, nil) + "]",
			url:  "https://api.bank.example/open-banking/x", want: "",
		},
		{
			name: "an inactive claim does not make an active one ambiguous",
			doc: "[" + org(idA, "Withdrawn", []string{"https://api.bank.example/open-banking/x"}, []string{"https://api.bank.example/.well-known/openid-configuration"}) + "," +
				org(idB, "Active", []string{"https://api.bank.example/open-banking/x"}, nil) + "]",
			url: "https://api.bank.example/token", want: idB,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resolves(t, mustParse(t, tt.doc), tt.url, tt.want)
		})
	}
}

func TestOrgByClientAmbiguous(t *testing.T) {
	ix := mustParse(t, `[
		{"OrganisationId": "`+idA+`", "SoftwareStatements": [{"SoftwareStatementId": "ss-a", "ClientIds": ["shared", "only-a"]}]},
		{"OrganisationId": "`+idB+`", "SoftwareStatements": [{"SoftwareStatementId": "ss-b", "ClientId": "shared"}, {"ClientId": "`+idA+`"}]}
	]`)
	for id, want := range map[string]string{
		"only-a": idA,
		"ss-b":   idB,
		"shared": "", // two organisations
		idA:      "", // org A's id is also a client_id of B
		idB:      idB,
	} {
		got, ok := ix.OrgByClient(id)
		assert.Equal(t, want != "", ok, id)
		assert.Equal(t, want, got, id)
	}
	assert.Equal(t, 5, ix.Stats().Clients) // ss-a, shared, only-a, ss-b, idA
	assert.Equal(t, 2, ix.Stats().Ambiguous)
}

func TestSoftwareStatementsObjectShape(t *testing.T) {
	// The authenticated export keys statements by SoftwareStatementId and nests SoftwareDetails.
	ix := mustParse(t, `[{"OrganisationId": "`+idA+`", "SoftwareStatements": {
		"dddddddd-dddd-4ddd-8ddd-dddddddddddd": {"SoftwareDetails": {"ClientId": "from-details", "Status": "Active", "Version": 1}},
		"eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee": {"ClientIds": ["flat"]},
		"ignored-key": {"SoftwareStatementId": "ss-explicit"}
	}}]`)
	for _, id := range []string{"dddddddd-dddd-4ddd-8ddd-dddddddddddd", "from-details", "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee", "flat", "ss-explicit"} {
		got, ok := ix.OrgByClient(id)
		assert.True(t, ok, id)
		assert.Equal(t, idA, got, id)
	}
	_, ok := ix.OrgByClient("ignored-key")
	assert.False(t, ok)
}

package directory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFailsOnlyOnMalformedOrNonArray(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"object", `{"OrganisationId": "` + idA + `"}`, "top level is an object"},
		{"null", `null`, "top level is null"},
		{"string", `"participants"`, "top level is a string"},
		{"number", ` 42 `, "top level is a number"},
		{"empty", ``, "empty document"},
		{"blank", " \n\t", "empty document"},
		{"truncated", `[{"OrganisationId": "` + idA + `"`, "malformed JSON"},
		{"missing comma", `[{"OrganisationId": "` + idA + `"} {}]`, "malformed JSON"},
		{"trailing comma", `[{}, ]`, "malformed JSON"},
		{"unclosed array", `[{}`, "malformed JSON"},
		{"data after the array", `[] []`, "data after the top-level array"},
		{"garbage after the array", `[]x`, "malformed JSON"},
		{"not JSON", `<html>Service Unavailable</html>`, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := Parse([]byte(tt.doc))
			require.Error(t, err)
			assert.Nil(t, ix)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestParseEmptyArrayAndBOM(t *testing.T) {
	ix := mustParse(t, `[]`)
	assert.Equal(t, Stats{}, ix.Stats())

	ix, err := Parse(append([]byte("\xEF\xBB\xBF"), fixture(t)...))
	require.NoError(t, err)
	assert.Equal(t, 8, ix.Stats().Organisations)
}

// good is an entry that must survive its bad neighbours.
var good = org(idA, "Active", []string{"https://api.good.example/open-banking/x"}, nil)

func TestParseSkipsBadEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
	}{
		{"null entry", `null`},
		{"string entry", `"org"`},
		{"number entry", `7`},
		{"array entry", `[{"OrganisationId": "` + idB + `"}]`},
		{"empty object", `{}`},
		{"OrganisationId missing", `{"OrganisationName": "Sem Id"}`},
		{"OrganisationId null", `{"OrganisationId": null}`},
		{"OrganisationId not a UUID", `{"OrganisationId": "org-b"}`},
		{"OrganisationId nil UUID", `{"OrganisationId": "00000000-0000-0000-0000-000000000000"}`},
		{"OrganisationId a number", `{"OrganisationId": 12345}`},
		{"OrganisationId an object", `{"OrganisationId": {"value": "` + idB + `"}}`},
		{"OrganisationName a number", `{"OrganisationId": "` + idB + `", "OrganisationName": 1}`},
		{"AuthorisationServers an object", `{"OrganisationId": "` + idB + `", "AuthorisationServers": {"x": 1}}`},
		{"ApiResources a string", `{"OrganisationId": "` + idB + `", "AuthorisationServers": [{"ApiResources": "none"}]}`},
		{"ApiEndpoint a number", `{"OrganisationId": "` + idB + `", "AuthorisationServers": [{"ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": 443}]}]}]}`},
		{"OpenIDDiscoveryDocument an array", `{"OrganisationId": "` + idB + `", "AuthorisationServers": [{"OpenIDDiscoveryDocument": ["https://x"]}]}`},
		{"SoftwareStatements a string", `{"OrganisationId": "` + idB + `", "SoftwareStatements": "ss"}`},
		{"ClientIds a string", `{"OrganisationId": "` + idB + `", "SoftwareStatements": [{"ClientIds": "one"}]}`},
		{"SoftwareDetails a string", `{"OrganisationId": "` + idB + `", "SoftwareStatements": {"ss": {"SoftwareDetails": "x"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := mustParse(t, "["+tt.entry+","+good+","+tt.entry+"]")
			st := ix.Stats()
			assert.Equal(t, 2, st.Skipped)
			assert.Equal(t, 1, st.Organisations)
			resolves(t, ix, "https://api.good.example/open-banking/x", idA)
			_, ok := ix.OrgByClient(idB)
			assert.False(t, ok)
		})
	}
}

func TestParseTolerates(t *testing.T) {
	tests := []struct {
		name  string
		entry string
	}{
		{"unknown keys at every level", `{"OrganisationId": "` + idB + `", "Brand": {"x": [1, 2]}, "AuthorisationServers": [{"Flags": {}, "ApiResources": [{"FamilyComplete": true, "ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.b.example/open-banking/x", "Extra": null}]}]}]}`},
		{"nulls for every optional part", `{"OrganisationId": "` + idB + `", "Status": null, "OrganisationName": null, "AuthorisationServers": [null, {"OpenIDDiscoveryDocument": null, "ApiResources": [null, {"ApiDiscoveryEndpoints": null}, {"ApiDiscoveryEndpoints": [null, {"ApiEndpoint": null}, {"ApiEndpoint": "https://api.b.example/open-banking/x"}]}]}], "SoftwareStatements": null}`},
		{"ApiVersion as number, string or object (not read)", `{"OrganisationId": "` + idB + `", "AuthorisationServers": [{"ApiResources": [{"ApiVersion": 2, "ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.b.example/open-banking/x"}]}, {"ApiVersion": "2.0.0"}, {"ApiVersion": {"major": 2}}]}]}`},
		{"roles, contacts and claims of any shape (not read)", `{"OrganisationId": "` + idB + `", "OrgDomainRoleClaims": "DADOS", "Contacts": 3, "OrgDomainClaims": {}, "AuthorisationServers": [{"ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.b.example/open-banking/x"}]}]}]}`},
		{"key names in another case", `{"organisationid": "` + idB + `", "authorisationServers": [{"apiresources": [{"apiDiscoveryEndpoints": [{"apiendpoint": "https://api.b.example/open-banking/x"}]}]}]}`},
		{"unusable URLs are ignored", `{"OrganisationId": "` + idB + `", "AuthorisationServers": [{"OpenIDDiscoveryDocument": "", "ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": ""}, {"ApiEndpoint": "/open-banking/x"}, {"ApiEndpoint": "https://:8443/open-banking/x"}, {"ApiEndpoint": "https://api.b.example/open-banking/x"}]}]}]}`},
		{"blanks around the OrganisationId, upper case", `{"OrganisationId": " BBBBBBBB-BBBB-4BBB-8BBB-BBBBBBBBBBBB ", "AuthorisationServers": [{"ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.b.example/open-banking/x"}]}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := mustParse(t, "["+good+","+tt.entry+"]")
			assert.Equal(t, 0, ix.Stats().Skipped)
			assert.Equal(t, 2, ix.Stats().Organisations)
			resolves(t, ix, "https://api.b.example/open-banking/x/y", idB)
			resolves(t, ix, "https://api.good.example/open-banking/x", idA)
		})
	}
}

func TestParseDuplicateOrganisation(t *testing.T) {
	ix := mustParse(t, `[
		{"OrganisationId": "`+idA+`", "AuthorisationServers": [{"ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://one.example/open-banking/x"}]}]}]},
		{"OrganisationId": "`+idA+`", "OrganisationName": "Later Name", "AuthorisationServers": [{"ApiResources": [{"ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://two.example/open-banking/x"}]}]}]}
	]`)
	assert.Equal(t, 1, ix.Stats().Organisations)
	assert.Equal(t, "Later Name", ix.Name(idA))
	resolves(t, ix, "https://one.example/open-banking/x", idA)
	resolves(t, ix, "https://two.example/open-banking/x", idA)
}

func TestParseBoundsLongValues(t *testing.T) {
	long := "https://api.long.example/"
	for len(long) <= maxURLLen {
		long += "segment/"
	}
	long += "open-banking/x"
	ix := mustParse(t, "["+org(idA, "Active", []string{long}, nil)+"]")
	_, ok := ix.OrgByURL("https://api.long.example/segment/open-banking/x")
	assert.False(t, ok, "an over-long ApiEndpoint is ignored")

	deep := "https://api.deep.example"
	for i := 0; i < maxBaseDepth+1; i++ {
		deep += "/d"
	}
	ix = mustParse(t, "["+org(idA, "Active", []string{deep + "/open-banking/x"}, nil)+"]")
	assert.Equal(t, 0, ix.Stats().APIBases, "a base deeper than maxBaseDepth is left to the host rule")
	resolves(t, ix, deep+"/open-banking/x", idA)
}

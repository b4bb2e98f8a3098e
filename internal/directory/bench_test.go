package directory

import (
	"fmt"
	"testing"
)

var benchURLs = []string{
	"https://api.grupoatlas.example/opbk/digital/open-banking/accounts/v2/accounts/ACC-1/balances", // rule 1, shared host
	"https://sso.horizonte-idp.example/realms/horizonte/protocol/openid-connect/token",             // rule 2
	"https://api.bancoaurora.example/opbk2/open-banking/accounts/v2/accounts",                      // rule 4
	"https://api.unknown.example/open-banking/accounts/v2/accounts",                                // unknown
}

func BenchmarkOrgByURL(b *testing.B) {
	ix := fixtureIndex(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = ix.OrgByURL(benchURLs[i%len(benchURLs)])
	}
}

func BenchmarkOrgByClient(b *testing.B) {
	ix := fixtureIndex(b)
	ids := []string{"veloz-pix-7Qm2", orgAurora, "00c0ffee-0000-4000-8000-000000000000"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = ix.OrgByClient(ids[i%len(ids)])
	}
}

func BenchmarkParseFixture(b *testing.B) {
	data := fixture(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// aliasesFixture is a participants Index of n organisations, each with a discovery document
// naming three endpoints on its own host and three mTLS aliases on another.
func aliasesFixture(b *testing.B, n int) (*Index, map[string]discoveryDoc) {
	orgs := make([]testOrg, n)
	docs := make(map[string]discoveryDoc, n)
	for i := range orgs {
		host := fmt.Sprintf("as%d.example.com", i)
		orgs[i] = testOrg{id: testOrgID(i + 1), discovery: "https://" + host + "/.well-known/openid-configuration"}
		docs[orgs[i].discovery] = discoveryDoc{
			TokenEndpoint: "https://" + host + "/token", PAREndpoint: "https://" + host + "/par", RegEndpoint: "https://" + host + "/register",
			MTLSAliases: &mtlsAliases{TokenEndpoint: "https://matls-" + host + "/token", PAREndpoint: "https://matls-" + host + "/par", RegEndpoint: "https://matls-" + host + "/register"},
		}
	}
	ix, err := Parse(participantsJSON(b, orgs...))
	if err != nil {
		b.Fatal(err)
	}
	return ix, docs
}

// BenchmarkBuildAliases: one rebuild of the aliases for 500 documents (a round rebuilds once per
// batch of arrivals).
func BenchmarkBuildAliases(b *testing.B) {
	ix, docs := aliasesFixture(b, 500)
	b.ReportAllocs()
	for b.Loop() {
		buildAliases(ix, docs)
	}
}

// BenchmarkServerOrgAlias: a token call resolved through the aliases, after the participants
// rules found nothing.
func BenchmarkServerOrgAlias(b *testing.B) {
	ix, docs := aliasesFixture(b, 500)
	s := NewSource(SourceConfig{URL: "https://directory.example.com/participants", Discovery: DiscoveryConfig{Enabled: true}})
	s.idx.Store(ix)
	s.disc.docs = docs
	s.disc.useIndex(ix)
	if s.ServerOrg("https://matls-as7.example.com/token") == "" {
		b.Fatal("the alias does not resolve")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.ServerOrg("https://matls-as7.example.com/token")
	}
}

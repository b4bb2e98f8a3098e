package directory

import "testing"

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

//go:build !race

package directory

import "testing"

// Lookups run once per span: lower-case URLs and identifiers resolve without allocating.
func TestLookupsDoNotAllocate(t *testing.T) {
	ix := fixtureIndex(t)
	for _, u := range benchURLs {
		if n := testing.AllocsPerRun(100, func() { _, _ = ix.OrgByURL(u) }); n != 0 {
			t.Errorf("OrgByURL(%q): %v allocations", u, n)
		}
	}
	for _, id := range []string{"veloz-pix-7Qm2", orgAurora} {
		if n := testing.AllocsPerRun(100, func() { _, _ = ix.OrgByClient(id) }); n != 0 {
			t.Errorf("OrgByClient(%q): %v allocations", id, n)
		}
	}
}

// A Source with discovery resolves through the participants, then the aliases, without
// allocating either.
func TestSourceLookupsWithAliasesDoNotAllocate(t *testing.T) {
	s := NewSource(SourceConfig{File: fixturePath, Discovery: DiscoveryConfig{Enabled: true}})
	ix := fixtureIndex(t)
	s.idx.Store(ix)
	for u := range ix.discovery {
		s.disc.docs[u] = discoveryDoc{MTLSAliases: &mtlsAliases{TokenEndpoint: "https://matls-aurora.example/realms/x/token"}}
		break
	}
	s.disc.useIndex(ix)
	urls := append([]string{"https://matls-aurora.example/realms/x/token", "https://matls-aurora.example/other"}, benchURLs...)
	for _, u := range urls {
		if n := testing.AllocsPerRun(100, func() { _ = s.ServerOrg(u) }); n != 0 {
			t.Errorf("ServerOrg(%q): %v allocations", u, n)
		}
	}
	if s.ServerOrg(urls[0]) == "" {
		t.Error("the alias does not resolve")
	}
}

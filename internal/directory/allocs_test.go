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

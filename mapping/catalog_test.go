package mapping

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpointsFile is the embedded endpoints.json decoded independently of ParseCatalog.
type endpointsFile struct {
	Version           string                     `json:"version"`
	Private           []string                   `json:"private"`
	Opendata          []string                   `json:"opendata"`
	Security          []string                   `json:"security"`
	CreditPortability []string                   `json:"credit_portability"`
	History           map[string]json.RawMessage `json:"history"`
}

func loadEndpointsFile(t *testing.T) endpointsFile {
	t.Helper()
	var f endpointsFile
	require.NoError(t, json.Unmarshal(embeddedEndpoints, &f))
	return f
}

// historyList returns one list of one history entry of endpoints.json.
func historyList(t *testing.T, entry, list string) []string {
	t.Helper()
	f := loadEndpointsFile(t)
	var h map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(f.History[entry], &h))
	var out []string
	require.NoError(t, json.Unmarshal(h[list], &out))
	return out
}

func TestEmbeddedCatalogJSONIsACopy(t *testing.T) {
	a := EmbeddedCatalogJSON()
	require.Equal(t, embeddedEndpoints, a)
	a[0] = 'x'
	assert.NotEqual(t, a[0], embeddedEndpoints[0], "callers must not be able to modify the embedded list")
}

func TestDefaultCatalogContents(t *testing.T) {
	f := loadEndpointsFile(t)
	c := DefaultCatalog()
	require.Same(t, c, DefaultCatalog(), "parsed once")
	assert.Equal(t, f.Version, c.Version())
	assert.True(t, strings.HasPrefix(c.Version(), "1.06"), "Decision 26: identified by list version")

	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return slices.Compact(s) }
	assert.Equal(t, sorted(f.Private), c.Templates(ClassPrivate))
	assert.Equal(t, sorted(f.Opendata), c.Templates(ClassOpendata))
	assert.Equal(t, sorted(f.Security), c.Templates(ClassSecurity))
	assert.Equal(t, sorted(f.CreditPortability), c.Templates(ClassCreditPortability))
	assert.Len(t, c.Templates(ClassPrivate), 101)
	assert.Len(t, c.Templates(ClassOpendata), 30)
	assert.Len(t, c.Templates(ClassSecurity), 6)
	assert.Len(t, c.Templates(ClassCreditPortability), 6)
	assert.Nil(t, c.Templates(0))
	assert.Nil(t, c.Templates(99))

	// Templates returns a copy.
	got := c.Templates(ClassOpendata)
	got[0] = "mutated"
	assert.NotEqual(t, "mutated", c.Templates(ClassOpendata)[0])
}

func TestLookupEveryTemplateMatchesItself(t *testing.T) {
	f := loadEndpointsFile(t)
	c := DefaultCatalog()
	check := func(list []string, want EndpointClass, security map[string]bool) {
		for _, tmpl := range list {
			got, class, ok := c.Lookup(tmpl)
			require.True(t, ok, tmpl)
			assert.Equal(t, tmpl, got)
			if security[tmpl] {
				assert.Equal(t, ClassSecurity, class, tmpl)
			} else {
				assert.Equal(t, want, class, tmpl)
			}
		}
	}
	sec := map[string]bool{}
	for _, s := range f.Security {
		sec[s] = true
	}
	check(f.Private, ClassPrivate, sec)
	check(f.Opendata, ClassOpendata, nil)
	check(f.Security, ClassSecurity, sec)
	check(f.CreditPortability, ClassCreditPortability, nil)
}

// concrete replaces every {param} of a template with a realistic id.
func concrete(template string) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if isParamSegment(s) {
			segs[i] = "urn:bancoex:" + strings.Trim(s, "{}") + "-9f8e7d"
		}
	}
	return strings.Join(segs, "/")
}

func TestLookupConcretePathsOfEveryTemplate(t *testing.T) {
	c := DefaultCatalog()
	for _, class := range []EndpointClass{ClassPrivate, ClassOpendata, ClassCreditPortability} {
		for _, tmpl := range c.Templates(class) {
			got, _, ok := c.Lookup(concrete(tmpl))
			require.True(t, ok, tmpl)
			assert.Equal(t, tmpl, got)
		}
	}
}

func TestLookup(t *testing.T) {
	c := DefaultCatalog()
	tests := []struct {
		name      string
		path      string
		template  string
		class     EndpointClass
		unmatched bool
	}{
		{name: "concrete id", path: "/open-banking/accounts/v2/accounts/92792126019929279212650822221989319252576/transactions",
			template: "/open-banking/accounts/v2/accounts/{accountId}/transactions", class: ClassPrivate},
		{name: "credit card example of the Reporte page", path: "/open-banking/credit-cards-accounts/v2/accounts/123456789/transactions",
			template: "/open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/transactions", class: ClassPrivate},
		{name: "literal beats param: extends", path: "/open-banking/consents/v3/consents/urn:bancoex:C1DD33123/extends",
			template: "/open-banking/consents/v3/consents/{consentId}/extends", class: ClassPrivate},
		{name: "literal beats param: extensions", path: "/open-banking/consents/v3/consents/urn:bancoex:C1DD33123/extensions",
			template: "/open-banking/consents/v3/consents/{consentId}/extensions", class: ClassPrivate},
		{name: "param alone", path: "/open-banking/consents/v3/consents/urn:bancoex:C1DD33123",
			template: "/open-banking/consents/v3/consents/{consentId}", class: ClassPrivate},
		{name: "consent id that looks like a literal", path: "/open-banking/consents/v3/consents/extends",
			template: "/open-banking/consents/v3/consents/{consentId}", class: ClassPrivate},
		{name: "deep literal after param", path: "/open-banking/credit-cards-accounts/v2/accounts/cc1/bills/b7/transactions",
			template: "/open-banking/credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills/{billId}/transactions", class: ClassPrivate},
		{name: "trailing slash", path: "/open-banking/consents/v3/consents/",
			template: "/open-banking/consents/v3/consents", class: ClassPrivate},
		{name: "query", path: "/open-banking/accounts/v2/accounts?page=2&page-size=25",
			template: "/open-banking/accounts/v2/accounts", class: ClassPrivate},
		{name: "trailing slash and query", path: "/open-banking/accounts/v2/accounts/?page=2",
			template: "/open-banking/accounts/v2/accounts", class: ClassPrivate},
		{name: "fragment", path: "/open-banking/accounts/v2/accounts#x",
			template: "/open-banking/accounts/v2/accounts", class: ClassPrivate},
		{name: "prefix before open-banking", path: "/opbk/v1/open-banking/resources/v3/resources",
			template: "/open-banking/resources/v3/resources", class: ClassPrivate},
		{name: "opendata", path: "/open-banking/opendata-loans/v1/personal-loans?page=1",
			template: "/open-banking/opendata-loans/v1/personal-loans", class: ClassOpendata},
		{name: "channels", path: "/open-banking/channels/v2/branches",
			template: "/open-banking/channels/v2/branches", class: ClassOpendata},
		{name: "credit portability", path: "/open-banking/credit-portability/v1/portabilities/p1/payment",
			template: "/open-banking/credit-portability/v1/portabilities/{portabilityId}/payment", class: ClassCreditPortability},
		{name: "bare security template", path: "/token", template: "/token", class: ClassSecurity},
		{name: "bare security template with param", path: "/register/abc-123", template: "/register/{clientId}", class: ClassSecurity},
		{name: "payments v5", path: "/open-banking/payments/v5/consents/urn:bancoex:1/pix/payments",
			template: "/open-banking/payments/v5/consents/{consentId}/pix/payments", class: ClassPrivate},

		{name: "payments v4 unlisted by default", path: "/open-banking/payments/v4/pix/payments", unmatched: true},
		{name: "empty segment does not match a param", path: "/open-banking/accounts/v2/accounts//transactions", unmatched: true},
		{name: "double slash like EPLIST's typo", path: "/open-banking/payments/v5//consents/x/pix/payments", unmatched: true},
		{name: "two trailing slashes", path: "/open-banking/accounts/v2/accounts//", unmatched: true},
		{name: "extra segment", path: "/open-banking/accounts/v2/accounts/a1/balances/extra", unmatched: true},
		{name: "missing segment", path: "/open-banking/accounts/v2", unmatched: true},
		{name: "case sensitive", path: "/open-banking/Accounts/v2/accounts", unmatched: true},
		{name: "old version", path: "/open-banking/accounts/v1/accounts", unmatched: true},
		{name: "no leading slash", path: "open-banking/accounts/v2/accounts", unmatched: true},
		{name: "empty", path: "", unmatched: true},
		{name: "root", path: "/", unmatched: true},
		{name: "only query", path: "?a=/open-banking/accounts/v2/accounts", unmatched: true},
		{name: "security suffix is not a template", path: "/as/token.oauth2", unmatched: true},
		{name: "open-banking without segment boundary", path: "/my-open-banking/accounts/v2/accounts", unmatched: true},
		{name: "health check", path: "/healthz", unmatched: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, class, ok := c.Lookup(tt.path)
			if tt.unmatched {
				assert.False(t, ok, "matched %q", got)
				assert.Empty(t, got)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.template, got)
			assert.Equal(t, tt.class, class)
		})
	}
}

func TestLookupBacktracksFromADeadEndLiteral(t *testing.T) {
	c, err := ParseCatalog([]byte(`{"private": ["/open-banking/x/v1/a/{id}/c", "/open-banking/x/v1/{kind}/b/d"]}`), nil)
	require.NoError(t, err)
	got, _, ok := c.Lookup("/open-banking/x/v1/a/b/d")
	require.True(t, ok, "the literal branch a/… dead-ends at d and must fall back to {kind}")
	assert.Equal(t, "/open-banking/x/v1/{kind}/b/d", got)
	got, _, ok = c.Lookup("/open-banking/x/v1/a/b/c")
	require.True(t, ok)
	assert.Equal(t, "/open-banking/x/v1/a/{id}/c", got)
}

func TestLookupDoesNotAllocate(t *testing.T) {
	c := DefaultCatalog()
	paths := []string{
		"/open-banking/consents/v3/consents/urn:bancoex:C1DD33123/extends?x=1",
		"/opbk/open-banking/accounts/v2/accounts/acc-1/transactions/",
		"/open-banking/payments/v4/pix/payments",
		"/token",
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, p := range paths {
			c.Lookup(p)
		}
	})
	assert.Zero(t, allocs)
}

func TestContains(t *testing.T) {
	c := DefaultCatalog()
	tests := []struct {
		template string
		api      API
		want     bool
	}{
		{"/open-banking/accounts/v2/accounts", APIPrivate, true},
		{"/token", APIPrivate, true},
		{"/register/{clientId}", APIPrivate, true},
		{"/open-banking/opendata-loans/v1/personal-loans", APIOpendata, true},
		{"/open-banking/opendata-loans/v1/personal-loans", APIPrivate, false},
		{"/open-banking/accounts/v2/accounts", APIOpendata, false},
		{"/token", APIOpendata, false},
		{"/open-banking/credit-portability/v1/portabilities", APIPrivate, false},
		{"/open-banking/accounts/v2/accounts/123", APIPrivate, false}, // concrete path, not a template
		{"/open-banking/accounts/v2/accounts/", APIPrivate, false},    // exact membership only
		{"/open-banking/payments/v4/pix/payments", APIPrivate, false},
		{"", APIPrivate, false},
		{"/open-banking/accounts/v2/accounts", 0, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, c.Contains(tt.template, tt.api), "%s %s", tt.template, tt.api)
	}
}

// Decision 9: the embedded default can be extended from a file, e.g. to re-add payments v4 from
// "history" while counterparts still serve it.
func TestDecision09_ParseCatalogExtendsWithPaymentsV4(t *testing.T) {
	v4 := []string{}
	for _, tmpl := range historyList(t, "confluence_endpoints_aceitos_v1_03_2025_11_28", "private") {
		if strings.HasPrefix(tmpl, "/open-banking/payments/v4/") {
			v4 = append(v4, tmpl)
		}
	}
	require.Len(t, v4, 6)
	file, err := json.Marshal(map[string]any{
		"version": "bank-local-1",
		"private": v4,
		"notes":   []string{"re-added until counterparts move to v5"},
		"history": map[string]any{"anything": 1},
	})
	require.NoError(t, err)

	base := DefaultCatalog()
	_, _, ok := base.Lookup("/open-banking/payments/v4/pix/payments/consents/urn:x:1")
	require.False(t, ok, "unlisted by default")

	c, err := ParseCatalog(file, base)
	require.NoError(t, err)
	got, class, ok := c.Lookup("/open-banking/payments/v4/pix/payments/consents/urn:x:1")
	require.True(t, ok)
	assert.Equal(t, "/open-banking/payments/v4/pix/payments/consents/{consentId}", got)
	assert.Equal(t, ClassPrivate, class)
	got, _, ok = c.Lookup("/open-banking/payments/v4/pix/payments/pay-1")
	require.True(t, ok)
	assert.Equal(t, "/open-banking/payments/v4/pix/payments/{paymentId}", got)
	assert.True(t, c.Contains("/open-banking/payments/v4/consents", APIPrivate))

	// Everything of the base is still there, and the base itself is unchanged.
	assert.Len(t, c.Templates(ClassPrivate), 107)
	assert.Len(t, c.Templates(ClassOpendata), 30)
	assert.Len(t, c.Templates(ClassSecurity), 6)
	_, class, ok = c.Lookup("/token")
	assert.True(t, ok)
	assert.Equal(t, ClassSecurity, class)
	assert.Len(t, base.Templates(ClassPrivate), 101)
	assert.False(t, base.Contains("/open-banking/payments/v4/consents", APIPrivate))
	assert.Equal(t, base.Version()+" + bank-local-1", c.Version())

	// Extending twice with the same templates is harmless (duplicates are merged).
	c2, err := ParseCatalog(file, c)
	require.NoError(t, err)
	assert.Len(t, c2.Templates(ClassPrivate), 107)
}

func TestParseCatalogReplaceDefault(t *testing.T) {
	file := []byte(`{
		"version": "custom-2",
		"replace_default": true,
		"private": ["/open-banking/accounts/v2/accounts", "/token"],
		"security": ["/token"],
		"opendata": ["/open-banking/channels/v2/branches"],
		"changes": [{"anything": true}]
	}`)
	c, err := ParseCatalog(file, DefaultCatalog())
	require.NoError(t, err)
	assert.Equal(t, "custom-2", c.Version())
	assert.Equal(t, []string{"/open-banking/accounts/v2/accounts", "/token"}, c.Templates(ClassPrivate))
	assert.Equal(t, []string{"/token"}, c.Templates(ClassSecurity))
	assert.Equal(t, []string{"/open-banking/channels/v2/branches"}, c.Templates(ClassOpendata))
	assert.Empty(t, c.Templates(ClassCreditPortability))
	_, _, ok := c.Lookup("/open-banking/consents/v3/consents")
	assert.False(t, ok, "replaced, not extended")
}

func TestParseCatalogWithoutBaseAndSecurityOnlyInSecurityList(t *testing.T) {
	c, err := ParseCatalog([]byte(`{"security": ["/userinfo"], "private": ["/open-banking/a/v1/b"]}`), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"/open-banking/a/v1/b", "/userinfo"}, c.Templates(ClassPrivate), "security ⊂ private")
	assert.True(t, c.Contains("/userinfo", APIPrivate))
	_, class, ok := c.Lookup("/userinfo")
	require.True(t, ok)
	assert.Equal(t, ClassSecurity, class)
	assert.Equal(t, "", c.Version())
}

func TestParseCatalogErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // substrings of the error
	}{
		{"not JSON", `{`, []string{"endpoints catalog"}},
		{"list of numbers", `{"private": [1]}`, []string{"endpoints catalog"}},
		{"no leading slash", `{"private": ["open-banking/a/v1/b"]}`, []string{`"open-banking/a/v1/b"`, "must start with"}},
		{"empty template", `{"opendata": [""]}`, []string{"empty template"}},
		{"double slash", `{"private": ["/open-banking/payments/v4//consents/{consentId}/pix/payments"]}`,
			[]string{`"/open-banking/payments/v4//consents/{consentId}/pix/payments"`, "empty segment"}},
		{"trailing slash", `{"private": ["/open-banking/a/v1/b/"]}`, []string{`"/open-banking/a/v1/b/"`, "empty segment"}},
		{"root only", `{"private": ["/"]}`, []string{"empty segment"}},
		{"query", `{"private": ["/open-banking/a/v1/b?x=1"]}`, []string{`"/open-banking/a/v1/b?x=1"`, "not allowed"}},
		{"space", `{"private": ["/open-banking/a b/v1"]}`, []string{"not allowed"}},
		{"half a brace", `{"private": ["/open-banking/a/v1/{id"]}`, []string{`"/open-banking/a/v1/{id"`, "{name}"}},
		{"brace inside a segment", `{"private": ["/open-banking/a/v1/x{id}"]}`, []string{"{name}"}},
		{"empty param", `{"private": ["/open-banking/a/v1/{}"]}`, []string{"{name}"}},
		{"same paths, other param names", `{"private": ["/open-banking/a/v1/{x}", "/open-banking/a/v1/{y}"]}`,
			[]string{`"/open-banking/a/v1/{y}"`, `"/open-banking/a/v1/{x}"`, "same paths"}},
		{"private and opendata", `{"private": ["/open-banking/a/v1/b"], "opendata": ["/open-banking/a/v1/b"]}`,
			[]string{`"/open-banking/a/v1/b"`, "both private and opendata"}},
		{"no templates", `{"replace_default": true, "notes": []}`, []string{"no templates"}},
		{"several errors named", `{"private": ["a", "b"]}`, []string{`"a"`, `"b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCatalog([]byte(tt.file), DefaultCatalog())
			require.Error(t, err)
			assert.Nil(t, c)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestNilCatalogIsEmpty(t *testing.T) {
	var c *Catalog
	_, _, ok := c.Lookup("/token")
	assert.False(t, ok)
	assert.False(t, c.Contains("/token", APIPrivate))
	assert.Nil(t, c.Templates(ClassPrivate))
	assert.Empty(t, c.Version())
}

func TestEnumStrings(t *testing.T) {
	assert.Equal(t, "private", APIPrivate.String())
	assert.Equal(t, "opendata", APIOpendata.String())
	assert.Equal(t, "API(0)", API(0).String())
	assert.Equal(t, "CLIENT", RoleClient.String())
	assert.Equal(t, "SERVER", RoleServer.String())
	assert.Equal(t, "", Role(0).String())
	assert.Equal(t, "Role(7)", Role(7).String())
	assert.Equal(t, "report", OutcomeReport.String())
	assert.Equal(t, "skipped", OutcomeSkipped.String())
	assert.Equal(t, "unlisted", OutcomeUnlisted.String())
	assert.Equal(t, "Outcome(0)", Outcome(0).String())
	assert.Equal(t, "private", ClassPrivate.String())
	assert.Equal(t, "opendata", ClassOpendata.String())
	assert.Equal(t, "security", ClassSecurity.String())
	assert.Equal(t, "credit_portability", ClassCreditPortability.String())
	assert.Equal(t, "EndpointClass(0)", EndpointClass(0).String())
}

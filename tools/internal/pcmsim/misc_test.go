package pcmsim

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCustomCatalog(t *testing.T) {
	cat, err := ParseCatalog([]byte(`{"version":"test","private":["/custom/{id}"],"opendata":["/open"],"history":{}}`))
	require.NoError(t, err)
	assert.Equal(t, "test", cat.Version)
	assert.Equal(t, 1, cat.Len(APIPrivate))
	assert.True(t, cat.Accepts(APIOpendata, "/open"))
	assert.False(t, cat.Accepts(APIOpendata, "/custom/{id}"))
	assert.False(t, cat.Accepts("other", "/open"))
	for _, bad := range []string{`{}`, `[]`, `{"private":"x"}`} {
		_, err := ParseCatalog([]byte(bad))
		assert.Error(t, err, bad)
	}

	e := newEnv(t, func(c *Config) { c.Catalog = cat })
	_, out := e.postPrivate(e.token("bank_a").AccessToken, clientReport(fapi1).with("endpoint", "/custom/{id}"), clientReport(fapi2))
	assert.Equal(t, StatusAccepted, out[0].Status)
	assert.Equal(t, "Unlisted endpoint: "+accountsEP, out[1].Message)

	def, err := DefaultCatalog()
	require.NoError(t, err)
	assert.Equal(t, 101, def.Len(APIPrivate))
	assert.Equal(t, 30, def.Len(APIOpendata))
	assert.True(t, strings.HasPrefix(def.Version, "1.06"))
}

func TestDirectoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.json")
	d := &Directory{Orgs: []Org{{Name: "a", OrgID: orgA, SoftwareStatementID: ssA, ClientID: "c"}, {Name: "d", OrgID: orgD}}}
	require.NoError(t, d.WriteFile(path))
	got, err := LoadDirectory(path)
	require.NoError(t, err)
	assert.Equal(t, d, got)

	dup := &Directory{Orgs: []Org{{OrgID: orgA, ClientID: "c"}, {OrgID: orgB, ClientID: "c"}}}
	assert.ErrorContains(t, dup.Validate(), "duplicate client_id")
	_, err = LoadDirectory(filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
}

func TestUnspecifiedListenAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.APIAddr = "0.0.0.0:0" })
	assert.True(t, strings.HasPrefix(e.srv.APIURL(), "https://127.0.0.1:"), e.srv.APIURL())
	resp, _ := e.do(http.MethodGet, "/sim/stats", "", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Error(t, e.srv.Start(context.Background()), "a server starts once")
}

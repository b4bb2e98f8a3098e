package directory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The organisations of testdata/directory/participants.json.
const (
	orgAurora    = "56218094-b49b-4779-b1d4-aa96223aa31f" // two API hosts under /opbk, AS on auth.
	orgHorizonte = "b831c1ea-d34a-4e1b-a161-d9108f46ae0c" // AS on another host, in a realm path
	orgAtlas     = "842d6037-eaaa-4f06-86e0-84f6247717f4" // api.grupoatlas.example/opbk
	orgAtlasDig  = "6ac11a7b-0a12-4db4-8328-02c53c3b982a" // api.grupoatlas.example/opbk/digital
	orgPagarJa   = "45e7cf5c-27f8-47a3-a05c-1b2ba29f9740" // api.conectabaas.example, shared without prefix
	orgBrisa     = "782fb748-076f-4965-af4c-fa2cb6d995c6" // api.conectabaas.example, shared without prefix
	orgAntigo    = "736b9983-a38c-4cb0-bf1f-fbe078a832ed" // Withdrawn; its old endpoints are on Aurora's host
	orgVeloz     = "40f0ac7a-aa90-4351-9f69-3594d665b968" // SoftwareStatements extension
)

// fixturePath is testdata/directory/participants.json at the module root (tests run in the
// package directory).
var fixturePath = filepath.Join("..", "..", "testdata", "directory", "participants.json")

func fixture(t testing.TB) []byte {
	data, err := os.ReadFile(fixturePath)
	require.NoError(t, err)
	return data
}

func fixtureIndex(t testing.TB) *Index {
	ix, err := Parse(fixture(t))
	require.NoError(t, err)
	return ix
}

// resolves asserts OrgByURL(url) == want ("" for not resolved).
func resolves(t *testing.T, ix *Index, url, want string) {
	t.Helper()
	got, ok := ix.OrgByURL(url)
	require.Equal(t, want != "", ok, "OrgByURL(%q) ok (got %q)", url, got)
	require.Equal(t, want, got, "OrgByURL(%q)", url)
}

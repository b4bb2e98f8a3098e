package pcmexporter

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pcm-otel/pcmexporter/internal/pcmconfig"
)

// validConfig is a configuration that passes Validate; each row of the agreement test changes
// one setting.
func validConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Token.ClientID = "my-client"
	cfg.Token.TLS.CertFile, cfg.Token.TLS.KeyFile = "/etc/pcm/transport.crt", "/etc/pcm/transport.key"
	cfg.OrgID = "5f3e3c9a-6f2b-4c7e-9d2a-1b2c3d4e5f60"
	cfg.SoftwareStatementID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	return cfg
}

const orgB = "9b2c6c1e-2f4d-4a8b-9c0d-1e2f3a4b5c6d"

// TestValidateAgreesWithMapping feeds the same settings to Validate and to the code that
// applies them (pcmconfig.Mapping: endpoints_file, security_endpoints, counterparts.hosts). Every
// setting Validate accepts builds the mapper, and every setting the mapper refuses is refused
// by Validate with a message naming the key.
func TestValidateAgreesWithMapping(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	extraSecurity := file("extra-security.json", `{"security": ["/userinfo"]}`)
	replacing := file("replacing.json", `{"replace_default": true, "private": ["/open-banking/accounts/v2/accounts"], "security": ["/session"]}`)
	notJSON := file("not-json.json", `<html>`)
	noLists := file("no-lists.json", `{"version": "x", "privat": ["/open-banking/x"]}`)
	badTemplate := file("bad-template.json", `{"private": ["open-banking/x"]}`)
	bothLists := file("both-lists.json", `{"opendata": ["/open-banking/accounts/v2/accounts"]}`)

	hosts := func(key string) func(*Config) {
		return func(c *Config) { c.Counterparts.Hosts = map[string]string{key: orgB} }
	}
	rule := func(endpointsFile, key, template string) func(*Config) {
		return func(c *Config) {
			c.EndpointsFile = endpointsFile
			c.SecurityEndpoints = map[string]string{key: template}
		}
	}
	tests := []struct {
		name    string
		set     func(*Config)
		wantKey string // "" when valid; else the key Validate must name
	}{
		// counterparts.hosts in every documented form
		{"host", hosts("api.bank"), ""},
		{"host in upper case", hosts("API.Bank"), ""},
		{"host with trailing dot", hosts("api.bank."), ""},
		{"host:port", hosts("api.bank:8443"), ""},
		{"IPv4:port", hosts("10.0.0.7:443"), ""},
		{"[IPv6]:port", hosts("[::1]:8443"), ""},
		{"[IPv6]", hosts("[2001:db8::1]"), ""},
		{"bare IPv6", hosts("2001:db8::1"), ""},
		{"IPv6 written in full", hosts("[0:0:0:0:0:0:0:1]:8443"), ""},
		{"URL with scheme and port", hosts("https://api.bank:8443/"), ""},
		{"URL with scheme only", hosts("https://api.bank"), ""},
		{"surrounding white space", hosts(" api.bank "), ""},
		// bad hosts keys and ports
		{"empty", hosts(""), "counterparts.hosts"},
		{"port 0", hosts("api.bank:0"), "counterparts.hosts"},
		{"port 65536", hosts("api.bank:65536"), "counterparts.hosts"},
		{"non-numeric port", hosts("api.bank:https"), "counterparts.hosts"},
		{"empty port", hosts("api.bank:"), "counterparts.hosts"},
		{"[IPv6] port 0", hosts("[::1]:0"), "counterparts.hosts"},
		{"URL with port 0", hosts("https://api.bank:0/"), "counterparts.hosts"},
		{"URL with a path", hosts("https://api.bank/open-banking/"), "counterparts.hosts"},
		{"URL with a query", hosts("https://api.bank/?x=1"), "counterparts.hosts"},
		{"URL with user information", hosts("https://user:pw@api.bank"), "counterparts.hosts"},
		{"host with a path", hosts("api.bank/open-banking"), "counterparts.hosts"},
		{"wildcard", hosts("*.bank"), "counterparts.hosts"},
		{"user@host", hosts("user@api.bank"), "counterparts.hosts"},
		{"unclosed bracket", hosts("[::1"), "counterparts.hosts"},
		{"text after the bracket", hosts("[::1]8443"), "counterparts.hosts"},
		{"name between brackets", hosts("[api.bank]:443"), "counterparts.hosts"},
		{"org that is not a UUID", func(c *Config) { c.Counterparts.Hosts = map[string]string{"api.bank": "banco-b"} }, "counterparts.hosts"},
		{"two spellings of one host for two orgs", func(c *Config) {
			c.Counterparts.Hosts = map[string]string{"api.bank": orgB, "API.bank.": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}
		}, "counterparts.hosts"},
		{"two spellings of one host for one org", func(c *Config) {
			c.Counterparts.Hosts = map[string]string{"api.bank": orgB, "https://API.bank/": orgB}
		}, ""},

		// security rules and the catalog endpoints_file builds
		{"rule to a built-in template", rule("", "/as/token.oauth2", "/token"), ""},
		{"rule with a {param}", rule("", "/as/clients/{id}", "/register/{clientId}"), ""},
		{"rule overriding a default", rule("", "/par", "/token"), ""},
		{"rule to a template endpoints_file adds", rule(extraSecurity, "/oauth/userinfo", "/userinfo"), ""},
		{"rule to a template of a replacing endpoints_file", rule(replacing, "/connect/session", "/session"), ""},
		{"rule to that template without the file", rule("", "/oauth/userinfo", "/userinfo"), "security_endpoints"},
		{"rule to a template another file adds", rule(replacing, "/oauth/userinfo", "/userinfo"), "security_endpoints"},
		{"rule to a private template", rule("", "/oauth/token", "/open-banking/accounts/v2/accounts"), "security_endpoints"},
		{"rule key without slash", rule("", "oauth/token", "/token"), "security_endpoints"},
		{"rule key with trailing slash", rule("", "/oauth/token/", "/token"), "security_endpoints"},
		{"rule key with empty segment", rule("", "/as//token", "/token"), "security_endpoints"},
		{"rule key with a broken param", rule("", "/reg/{id", "/register/{clientId}"), "security_endpoints"},
		{"rule key with a query", rule("", "/token?x", "/token"), "security_endpoints"},
		{"empty rule key", rule("", "", "/token"), "security_endpoints"},

		// endpoints_file shape
		{"endpoints_file that does not exist", func(c *Config) { c.EndpointsFile = filepath.Join(dir, "missing.json") }, "endpoints_file"},
		{"endpoints_file that is not JSON", func(c *Config) { c.EndpointsFile = notJSON }, "endpoints_file"},
		{"endpoints_file with no list", func(c *Config) { c.EndpointsFile = noLists }, "endpoints_file"},
		{"endpoints_file with a bad template", func(c *Config) { c.EndpointsFile = badTemplate }, "endpoints_file"},
		{"endpoints_file listing a private template as opendata", func(c *Config) { c.EndpointsFile = bothLists }, "endpoints_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.set(cfg)
			validateErr := cfg.Validate()
			_, _, applyErr := pcmconfig.Mapping(cfg, nil)

			if tt.wantKey == "" {
				require.NoError(t, validateErr)
			} else {
				require.Error(t, validateErr)
				assert.Contains(t, validateErr.Error(), tt.wantKey+": ", "the message names the key")
			}
			// The agreement itself.
			if validateErr == nil {
				assert.NoError(t, applyErr, "Validate accepted what Mapping refuses")
			}
			if applyErr != nil {
				require.Error(t, validateErr, "Mapping refused what Validate accepted: %v", applyErr)
			}
		})
	}
}

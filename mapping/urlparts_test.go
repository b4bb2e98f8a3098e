package mapping

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw                            string
		scheme, host, hostPort, path   string
		port                           int
		userinfo                       bool
		base, upToOpenBanking, wholeNQ string
	}{
		{
			raw: "https://api.bank.example/opbk/open-banking/x?y=1#z", scheme: "https", host: "api.bank.example",
			hostPort: "api.bank.example", path: "/opbk/open-banking/x", base: "https://api.bank.example",
			upToOpenBanking: "https://api.bank.example/opbk", wholeNQ: "https://api.bank.example/opbk/open-banking/x",
		},
		{
			raw: "HTTP://Host:8080/open-banking/x", scheme: "HTTP", host: "Host", hostPort: "Host:8080", port: 8080,
			path: "/open-banking/x", base: "HTTP://Host:8080", upToOpenBanking: "HTTP://Host:8080", wholeNQ: "HTTP://Host:8080/open-banking/x",
		},
		{
			raw: "https://user:pw@h.example:443/a/open-banking/x", scheme: "https", host: "h.example", hostPort: "h.example:443",
			port: 443, userinfo: true, path: "/a/open-banking/x", base: "https://h.example:443",
			upToOpenBanking: "https://h.example:443/a", wholeNQ: "https://h.example:443/a/open-banking/x",
		},
		{
			raw: "//user@h.example/open-banking/x", host: "h.example", hostPort: "h.example", userinfo: true,
			path: "/open-banking/x", base: "//h.example", upToOpenBanking: "//h.example", wholeNQ: "//h.example/open-banking/x",
		},
		{
			raw: "https://a@b@h.example/open-banking/x", scheme: "https", host: "h.example", hostPort: "h.example", userinfo: true,
			path: "/open-banking/x", base: "https://h.example", upToOpenBanking: "https://h.example", wholeNQ: "https://h.example/open-banking/x",
		},
		{
			raw: "https://[2001:db8::1]:8443/open-banking/x", scheme: "https", host: "2001:db8::1", hostPort: "[2001:db8::1]:8443",
			port: 8443, path: "/open-banking/x", base: "https://[2001:db8::1]:8443", upToOpenBanking: "https://[2001:db8::1]:8443",
			wholeNQ: "https://[2001:db8::1]:8443/open-banking/x",
		},
		{
			raw: "https://[2001:db8::1/open-banking/x", scheme: "https", host: "2001:db8::1", hostPort: "[2001:db8::1",
			path: "/open-banking/x", base: "https://[2001:db8::1", upToOpenBanking: "https://[2001:db8::1", wholeNQ: "https://[2001:db8::1/open-banking/x",
		},
		{
			raw: "https://h.example:99999/x", scheme: "https", host: "h.example", hostPort: "h.example:99999",
			path: "/x", base: "https://h.example:99999", wholeNQ: "https://h.example:99999/x",
		},
		{
			raw: "https://h.example:http/x", scheme: "https", host: "h.example", hostPort: "h.example:http",
			path: "/x", base: "https://h.example:http", wholeNQ: "https://h.example:http/x",
		},
		{
			raw: "https://h.example?q=/open-banking/x", scheme: "https", host: "h.example", hostPort: "h.example",
			path: "", base: "https://h.example", wholeNQ: "https://h.example",
		},
		{raw: "/open-banking/x?q", path: "/open-banking/x", upToOpenBanking: "", wholeNQ: "/open-banking/x"},
		{
			raw: "h.example/open-banking/x", host: "h.example", hostPort: "h.example", path: "/open-banking/x",
			base: "h.example", upToOpenBanking: "h.example", wholeNQ: "h.example/open-banking/x",
		},
		{
			raw: "1http://h/x", host: "1http", hostPort: "1http:", path: "//h/x", base: "1http:", wholeNQ: "1http://h/x",
		},
		{raw: "", path: ""},
	}
	for _, tt := range tests {
		u := parseURL(tt.raw)
		assert.Equal(t, tt.scheme, u.scheme, tt.raw)
		assert.Equal(t, tt.host, u.host, tt.raw)
		assert.Equal(t, tt.hostPort, u.hostPort, tt.raw)
		assert.Equal(t, tt.port, u.port, tt.raw)
		assert.Equal(t, tt.userinfo, u.userinfo, tt.raw)
		assert.Equal(t, tt.path, u.path, tt.raw)
		if tt.hostPort != "" {
			assert.Equal(t, tt.base, u.base(), tt.raw)
		}
		if i := indexOB(u.path); i >= 0 {
			assert.Equal(t, tt.upToOpenBanking, u.upTo(i), tt.raw)
		}
		assert.Equal(t, tt.wholeNQ, u.upTo(len(u.path)), tt.raw)
	}
}

func indexOB(p string) int {
	for i := 0; i+len(obSegment) <= len(p); i++ {
		if p[i:i+len(obSegment)] == obSegment {
			return i
		}
	}
	return -1
}

func TestURLHelpers(t *testing.T) {
	assert.Equal(t, 443, defaultPort("HTTPS"))
	assert.Equal(t, 80, defaultPort("http"))
	assert.Equal(t, 0, defaultPort("grpc"))
	assert.Equal(t, 0, parsePort(""))
	assert.Equal(t, 0, parsePort("123456"))
	assert.Equal(t, 0, parsePort("65536"))
	assert.Equal(t, 65535, parsePort("65535"))
	assert.Equal(t, "/p", pathOnly("/p#f?q"))
	assert.Equal(t, "/", cleanPath("/"))
	assert.Equal(t, "/a/", cleanPath("/a//?x"))
}

package directory

import "testing"

// FuzzParseAndResolve: Parse never panics, fails only with a nil Index, and whatever an Index
// resolves is one of its organisations.
func FuzzParseAndResolve(f *testing.F) {
	// Small seeds only: the fuzzer minimises every new interesting input, and minimising one grown
	// from the 13 KB fixture would take the whole -fuzztime (the fixture has its own tests).
	small := []byte("[" + org(idA, "Active", []string{"https://api.x.example/opbk/open-banking/a/v1/a", "https://api.x.example/opbk/d/open-banking/a"},
		[]string{"https://auth.x.example/r/a/.well-known/openid-configuration"}) + "," +
		org(idB, "Withdrawn", []string{"https://API.x.example:443/open-banking/b"}, nil) + "]")
	f.Add(small, "https://api.x.example/opbk/d/open-banking/accounts", "veloz-pix-7Qm2")
	f.Add(small, "HTTPS://API.X.EXAMPLE:443/opbk/./x/../open-banking?x#y", idB)
	f.Add(small, "//[::1]:0/", "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA")
	f.Add([]byte(`[`+org(idA, "", []string{"h/p/open-banking/x"}, []string{"https://h/.well-known/openid-configuration/t"})+`]`), "h/p", idA)
	f.Add([]byte(`[{"OrganisationId": "`+idA+`", "SoftwareStatements": {"s": {"SoftwareDetails": {"ClientId": "c"}}}}]`), "https://x@y:/", "c")
	f.Add([]byte(`[{"OrganisationId": "`+idB+`", "SoftwareStatements": [{"SoftwareStatementId": "s", "ClientIds": ["c", "`+idA+`"]}]}, {"OrganisationId": "`+idA+`"}]`), "", idA)
	f.Add([]byte(`[null, 1, "x", [], {"OrganisationId": {}}]`), "", "")
	f.Add([]byte(`{"a": 1}`), "/", " ")
	f.Add([]byte("\xEF\xBB\xBF[] "), "https://[", "\x00")
	f.Fuzz(func(t *testing.T, data []byte, rawURL, id string) {
		ix, err := Parse(data)
		if err != nil {
			if ix != nil {
				t.Fatalf("Parse failed (%v) but returned an Index", err)
			}
			return
		}
		st := ix.Stats()
		if st.Organisations < 0 || st.Skipped < 0 || st.Organisations != len(ix.orgs) {
			t.Fatalf("bad stats %+v", st)
		}
		check := func(what, org string, ok bool) {
			if ok != (org != "") {
				t.Fatalf("%s: ok=%v with org %q", what, ok, org)
			}
			if !ok {
				return
			}
			if !validOrgID(org) || lowerASCII(org) != org {
				t.Fatalf("%s: resolved to %q, not a lower-case OrganisationId", what, org)
			}
			if _, known := ix.byID[org]; !known {
				t.Fatalf("%s: resolved to %q, not an organisation of the file", what, org)
			}
		}
		org, ok := ix.OrgByURL(rawURL)
		check("OrgByURL("+rawURL+")", org, ok)
		org, ok = ix.OrgByClient(id)
		check("OrgByClient("+id+")", org, ok)
		org, ok = ix.OrgByURL(id)
		check("OrgByURL("+id+")", org, ok)
		_ = ix.Name(id)
	})
}

// FuzzDiscoveryAliases: a discovery document or cache file of any shape never panics, and an
// alias resolves only to an organisation of the participants file that lists the document.
func FuzzDiscoveryAliases(f *testing.F) {
	participants := []byte("[" + org(idA, "Active", []string{"https://api.x.example/open-banking/a"},
		[]string{"https://auth.x.example/.well-known/openid-configuration"}) + "]")
	const docURL = "https://auth.x.example/.well-known/openid-configuration"
	f.Add([]byte(`{"token_endpoint":"https://auth.x.example/token","mtls_endpoint_aliases":{"token_endpoint":"https://matls.x.example/t"}}`), "https://matls.x.example/t/x")
	f.Add([]byte(`{"mtls_endpoint_aliases":{"registration_endpoint":"matls.x.example:8443/./r/../r"}}`), "https://MATLS.x.example.:8443/r")
	f.Add([]byte(`{"mtls_endpoint_aliases":null,"token_endpoint":"http://[::1]:0/"}`), "//[::1]/")
	f.Add([]byte(`{"version":1,"documents":{"x":{"token_endpoint":"https://h/t"}}}`), "https://h/t")
	f.Fuzz(func(t *testing.T, data []byte, rawURL string) {
		ix, err := Parse(participants)
		if err != nil {
			t.Fatal(err)
		}
		docs := map[string]discoveryDoc{}
		if doc, err := parseDiscovery(data); err == nil {
			if len(doc.endpoints()) == 0 {
				t.Fatal("a document without endpoints was accepted")
			}
			docs[docURL] = doc
		}
		if cached, err := decodeDiscoveryCache(data); err == nil {
			for u, d := range cached {
				docs[u] = d
			}
		}
		u, ok := parseURL(rawURL)
		if !ok {
			return
		}
		if id, ok := buildAliases(ix, docs).orgByURL(u); ok && id != idA {
			t.Fatalf("resolved %q to %q, not the organisation listing the document", rawURL, id)
		}
	})
}

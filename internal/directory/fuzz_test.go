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

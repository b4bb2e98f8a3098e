package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// EndpointClass says which PCM list a template belongs to, and therefore where (and whether) a
// report for it is sent.
type EndpointClass uint8

const (
	// ClassPrivate: Open Finance APIs between participants → private report API.
	ClassPrivate EndpointClass = iota + 1
	// ClassOpendata: phase-1 open data APIs → opendata report API (server side only).
	ClassOpendata
	// ClassSecurity: /token, /register, … → private report API; the template is bare and the
	// real URL goes in endpointUriPrefix (client side).
	ClassSecurity
	// ClassCreditPortability: credit-portability API, reported through its own PCM API which this
	// exporter does not implement.
	ClassCreditPortability
)

// String returns the endpoints.json list name: "private", "opendata", "security",
// "credit_portability".
func (c EndpointClass) String() string {
	switch c {
	case ClassPrivate:
		return "private"
	case ClassOpendata:
		return "opendata"
	case ClassSecurity:
		return "security"
	case ClassCreditPortability:
		return "credit_portability"
	}
	return "EndpointClass(" + strconv.Itoa(int(c)) + ")"
}

// Catalog is an immutable set of accepted endpoint templates with a matcher. It is safe for
// concurrent use.
type Catalog struct {
	version string
	classOf map[string]EndpointClass
	lists   [ClassCreditPortability + 1][]string // sorted; lists[ClassPrivate] includes security
	root    trieNode
}

// catalogFile is the JSON shape of endpoints.json. Keys not listed here (version history,
// notes, changes, …) are ignored so that users can keep their own annotations in the file.
type catalogFile struct {
	Version           string   `json:"version"`
	ReplaceDefault    bool     `json:"replace_default"`
	Private           []string `json:"private"`
	Opendata          []string `json:"opendata"`
	Security          []string `json:"security"`
	CreditPortability []string `json:"credit_portability"`
}

var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := ParseCatalog(embeddedEndpoints, nil)
	if err != nil {
		// The embedded file is part of the build and covered by tests.
		panic("mapping: embedded endpoints.json: " + err.Error())
	}
	return c
})

// DefaultCatalog returns the catalog embedded in the binary: the top-level lists private
// (including security), opendata, security and credit_portability of endpoints.json. It is
// parsed once and shared.
func DefaultCatalog() *Catalog { return defaultCatalog() }

// ParseCatalog reads a catalog file with the same JSON shape as endpoints.json. By default its
// lists EXTEND base (e.g. to re-add payments v4 templates while counterparts still serve them);
// with top-level "replace_default": true they replace it. A nil base is an empty catalog.
// Unknown top-level keys (history, notes, changes…) are ignored. Every template must start with
// "/" and have non-empty segments; errors name the offending template.
func ParseCatalog(data []byte, base *Catalog) (*Catalog, error) {
	var f catalogFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("endpoints catalog: %w", err)
	}
	var lists [ClassCreditPortability + 1][]string
	version := f.Version
	if base != nil && !f.ReplaceDefault {
		lists = base.lists
		// base's private list already includes its security templates; they keep their class
		// because base's security list is merged too.
		switch {
		case version == "":
			version = base.version
		case base.version != "":
			version = base.version + " + " + version
		}
	}
	add := func(class EndpointClass, ts []string) {
		lists[class] = append(slices.Clip(lists[class]), ts...)
	}
	add(ClassPrivate, f.Private)
	add(ClassOpendata, f.Opendata)
	add(ClassSecurity, f.Security)
	add(ClassCreditPortability, f.CreditPortability)
	c, err := buildCatalog(version, lists)
	if err != nil {
		return nil, fmt.Errorf("endpoints catalog: %w", err)
	}
	return c, nil
}

func buildCatalog(version string, lists [ClassCreditPortability + 1][]string) (*Catalog, error) {
	c := &Catalog{version: version, classOf: make(map[string]EndpointClass)}
	var errs []error
	// Security first: a security template also appears in the private list (it is reported
	// through the private API) and must keep the more precise class.
	for _, class := range []EndpointClass{ClassSecurity, ClassPrivate, ClassOpendata, ClassCreditPortability} {
		for _, t := range lists[class] {
			if err := checkTemplate(t); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", class, err))
				continue
			}
			prev, seen := c.classOf[t]
			switch {
			case !seen:
				c.classOf[t] = class
			case prev == class || prev == ClassSecurity && class == ClassPrivate:
				// duplicate, or the security ⊂ private overlap
			default:
				errs = append(errs, fmt.Errorf("template %q is listed as both %s and %s", t, prev, class))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(c.classOf) == 0 {
		return nil, errors.New("no templates")
	}
	templates := make([]string, 0, len(c.classOf))
	for t := range c.classOf {
		templates = append(templates, t)
	}
	slices.Sort(templates) // deterministic conflict messages
	for _, t := range templates {
		class := c.classOf[t]
		if err := c.root.insert(t, class); err != nil {
			errs = append(errs, err)
		}
		c.lists[class] = append(c.lists[class], t)
		if class == ClassSecurity {
			c.lists[ClassPrivate] = append(c.lists[ClassPrivate], t)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.Sort(c.lists[ClassPrivate])
	return c, nil
}

// Version returns the catalog's list version ("version" key of the file; "<base> + <file>" when a
// file extends a versioned base).
func (c *Catalog) Version() string {
	if c == nil {
		return ""
	}
	return c.version
}

// Templates returns a sorted copy of one list. ClassPrivate includes the security templates,
// as the private list of endpoints.json does.
func (c *Catalog) Templates(class EndpointClass) []string {
	if c == nil || class == 0 || int(class) >= len(c.lists) {
		return nil
	}
	return slices.Clone(c.lists[class])
}

// Contains reports exact template membership in the private (incl. security), opendata or
// credit-portability list.
func (c *Catalog) Contains(template string, api API) bool {
	if c == nil {
		return false
	}
	class, ok := c.classOf[template]
	if !ok {
		return false
	}
	switch api {
	case APIPrivate:
		return class == ClassPrivate || class == ClassSecurity
	case APIOpendata:
		return class == ClassOpendata
	case APICreditPortability:
		return class == ClassCreditPortability
	}
	return false
}

// Lookup matches a concrete path (already reduced to start at /open-banking, or a bare security
// template path) against the templates: it ignores a query/fragment and one trailing slash,
// `{param}` matches exactly one non-empty segment, literal segments win over params (most
// specific template), and segment counts must be equal. A prefix before the first
// /open-banking/ segment is tolerated and dropped. It does not allocate.
func (c *Catalog) Lookup(path string) (template string, class EndpointClass, ok bool) {
	p := cleanPath(path)
	if i := strings.Index(p, obSegment); i > 0 {
		p = p[i:]
	}
	return c.lookupClean(p, 0)
}

// lookupClean matches a path already passed through cleanPath; bit i of paramMask forces its
// segment i to match a parameter (see trieNode.match).
func (c *Catalog) lookupClean(p string, paramMask uint64) (string, EndpointClass, bool) {
	if c == nil || p == "" || p[0] != '/' {
		return "", 0, false
	}
	n := c.root.match(p, paramMask)
	if n == nil {
		return "", 0, false
	}
	return n.template, n.class, true
}

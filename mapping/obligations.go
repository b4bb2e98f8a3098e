package mapping

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// embeddedObligations is the table of additionalInfo keys PCM obliges (docs/pcm-rules.md §6),
// each rule with its public source.
//
//go:embed obligations.json
var embeddedObligations []byte

// Status classes of an Obligation.
const (
	StatusAny       = "any"
	Status2xx       = "2xx"
	Status4xx5xx    = "4xx5xx"
	StatusNot4xx5xx = "not4xx5xx"
)

// Obligation says which additionalInfo keys a report must carry: reports of Role whose endpoint
// template is in Endpoints (exact, or a prefix ending in "/") and not in Except, with one of
// Methods (any when empty), whose status is in the Status class and whose additionalInfo holds
// one of When's values (when set).
type Obligation struct {
	ID        string              `json:"id"`
	Role      string              `json:"role"`
	Endpoints []string            `json:"endpoints"`
	Except    []string            `json:"except,omitempty"`
	Methods   []string            `json:"methods,omitempty"`
	Status    string              `json:"status"`
	Keys      []string            `json:"keys,omitempty"`   // all must be present
	OneOf     []string            `json:"one_of,omitempty"` // at least one must be present
	When      map[string][]string `json:"when,omitempty"`
	Source    string              `json:"source"`
}

// Obligations is a rule table; DefaultObligations is PCM's as published.
type Obligations struct {
	Rules []Obligation `json:"rules"`
}

var defaultObligations = sync.OnceValue(func() *Obligations {
	o, err := ParseObligations(embeddedObligations)
	if err != nil {
		panic(err) // the embedded table is checked by the package's tests
	}
	return o
})

// DefaultObligations returns the embedded table (shared; do not modify).
func DefaultObligations() *Obligations { return defaultObligations() }

// ParseObligations reads a table in the shape of obligations.json and checks it.
func ParseObligations(data []byte) (*Obligations, error) {
	var o Obligations
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("obligations: %w", err)
	}
	for i, r := range o.Rules {
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("obligations: rule %d has no id", i)
		case r.Role != RoleClient.String() && r.Role != RoleServer.String():
			return nil, fmt.Errorf("obligations: rule %s: role must be CLIENT or SERVER", r.ID)
		case len(r.Endpoints) == 0:
			return nil, fmt.Errorf("obligations: rule %s: no endpoints", r.ID)
		case len(r.Keys) == 0 && len(r.OneOf) == 0:
			return nil, fmt.Errorf("obligations: rule %s: no keys", r.ID)
		case r.Source == "":
			return nil, fmt.Errorf("obligations: rule %s: no source", r.ID)
		}
		switch r.Status {
		case StatusAny, Status2xx, Status4xx5xx, StatusNot4xx5xx:
		default:
			return nil, fmt.Errorf("obligations: rule %s: unknown status class %q", r.ID, r.Status)
		}
	}
	return &o, nil
}

// Missing appends to dst the obliged keys r lacks ("a|b" for a one-of rule) and returns it;
// nothing for opendata reports, which carry clientIp only (Decision 17). It allocates only when
// a key is missing and dst has no room.
func (o *Obligations) Missing(r *Report, dst []string) []string {
	if o == nil || r.API != APIPrivate {
		return dst
	}
	role := r.Role.String()
	for i := range o.Rules {
		rule := &o.Rules[i]
		if rule.Role != role || !rule.applies(r) {
			continue
		}
		for _, k := range rule.Keys {
			if !hasInfo(r, k) && !containsString(dst, k) {
				dst = append(dst, k)
			}
		}
		if len(rule.OneOf) > 0 {
			found := false
			for _, k := range rule.OneOf {
				found = found || hasInfo(r, k)
			}
			if !found {
				if name := strings.Join(rule.OneOf, "|"); !containsString(dst, name) {
					dst = append(dst, name)
				}
			}
		}
	}
	return dst
}

func (rule *Obligation) applies(r *Report) bool {
	if !statusIn(rule.Status, r.StatusCode) || !templateIn(rule.Endpoints, r.Endpoint) || exactIn(rule.Except, r.Endpoint) {
		return false
	}
	if len(rule.Methods) > 0 && !exactIn(rule.Methods, r.HTTPMethod) {
		return false
	}
	for key, values := range rule.When {
		v, ok := infoValue(r, key)
		if !ok || !exactIn(values, strings.ToUpper(v)) {
			return false
		}
	}
	return true
}

func statusIn(class string, code int) bool {
	bad := code >= 400 && code <= 599
	switch class {
	case Status2xx:
		return code >= 200 && code <= 299
	case Status4xx5xx:
		return bad
	case StatusNot4xx5xx:
		return !bad
	}
	return true
}

// templateIn: an exact template, or a prefix ending in "/".
func templateIn(patterns []string, template string) bool {
	for _, p := range patterns {
		if template == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(template, p)) {
			return true
		}
	}
	return false
}

func exactIn(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool { return exactIn(list, s) }

func hasInfo(r *Report, key string) bool {
	for _, f := range r.AdditionalInfo {
		if f.Key == key {
			return true
		}
	}
	return false
}

func infoValue(r *Report, key string) (string, bool) {
	for _, f := range r.AdditionalInfo {
		if f.Key == key {
			if f.Value == (pcommon.Value{}) {
				return "", true
			}
			return f.Value.AsString(), true
		}
	}
	return "", false
}

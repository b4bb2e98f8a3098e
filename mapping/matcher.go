package mapping

import (
	"fmt"
	"strings"
)

// The template matcher is a segment trie: one node per path segment, literal children in a small
// slice and at most one parameter child. It is built once per catalog and walked for every span,
// so matching must not allocate: segments are substrings of the input. Literal children are
// compared in place against the rest of the path (first byte, then the whole segment and the
// '/' after it), so the end of a segment is only searched for when a {param} has to consume it.

// obSegment marks an Open Finance API path. With both slashes it can only match on segment
// boundaries, so "/my-open-banking/" or "/open-banking-x/" do not count.
const obSegment = "/open-banking/"

type trieNode struct {
	lits     []litEdge // literal children
	param    *trieNode // child for a {param} segment
	template string    // non-empty when a template ends here
	class    EndpointClass
}

type litEdge struct {
	first byte // seg[0], a cheap reject before comparing strings
	seg   string
	child *trieNode
}

// literal returns the child for the literal segment seg, nil if none.
func (n *trieNode) literal(seg string) *trieNode {
	for i := range n.lits {
		if n.lits[i].seg == seg {
			return n.lits[i].child
		}
	}
	return nil
}

// literalPrefix returns the child whose segment starts rest ("seg" or "seg/…") and the rest of
// the path after it. Sibling segments are distinct, so at most one can match.
func (n *trieNode) literalPrefix(rest string) (*trieNode, string) {
	if rest == "" {
		return nil, ""
	}
	c := rest[0]
	for i := range n.lits {
		e := &n.lits[i]
		if e.first != c || len(rest) < len(e.seg) || rest[:len(e.seg)] != e.seg {
			continue
		}
		if after := rest[len(e.seg):]; after == "" || after[0] == '/' {
			return e.child, after
		}
	}
	return nil, ""
}

// insert adds template (already validated by checkTemplate) to the trie. Two templates that
// differ only in parameter names would match exactly the same paths, so the second one is
// rejected instead of silently shadowing the first.
func (n *trieNode) insert(template string, class EndpointClass) error {
	cur := n
	rest := template
	for rest != "" {
		var seg string
		seg, rest = nextSegment(rest)
		if isParamSegment(seg) {
			if cur.param == nil {
				cur.param = &trieNode{}
			}
			cur = cur.param
			continue
		}
		child := cur.literal(seg)
		if child == nil {
			child = &trieNode{}
			cur.lits = append(cur.lits, litEdge{first: seg[0], seg: seg, child: child})
		}
		cur = child
	}
	if cur.template != "" && cur.template != template {
		return fmt.Errorf("template %q matches the same paths as %q", template, cur.template)
	}
	cur.template = template
	cur.class = class
	return nil
}

// match walks p ("" or "/seg/seg…") and returns the node of the most specific template: at every
// level a literal segment is tried before the parameter, backtracking to the parameter when the
// literal branch dead-ends. Depth is bounded by the catalog's longest template.
//
// Bit i of paramMask forces segment i of p to match a parameter: the server's route said it is
// one (see routeFits), even if its value happens to equal a literal of another template.
func (n *trieNode) match(p string, paramMask uint64) *trieNode {
	if p == "" {
		if n.template != "" {
			return n
		}
		return nil
	}
	rest := p[1:] // p starts with '/'
	if paramMask&1 == 0 {
		if child, after := n.literalPrefix(rest); child != nil {
			if found := child.match(after, paramMask>>1); found != nil {
				return found
			}
		}
	}
	if n.param == nil {
		return nil
	}
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	if end == 0 { // "//" or a trailing "/": an empty segment matches no {param}
		return nil
	}
	return n.param.match(rest[end:], paramMask>>1)
}

// nextSegment splits "/seg/rest…" into "seg" and "/rest…" (rest is "" after the last segment).
func nextSegment(p string) (seg, rest string) {
	p = p[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// isParamSegment reports whether a template segment is a {param}.
func isParamSegment(seg string) bool {
	return len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// checkTemplate validates one template of a catalog or a security rule key: it must start with
// "/", have no empty segment (so no "//" and no trailing slash), contain only printable ASCII
// without query or fragment characters, and use braces only as whole "{name}" segments.
func checkTemplate(t string) error {
	if t == "" {
		return fmt.Errorf("empty template")
	}
	if t[0] != '/' {
		return fmt.Errorf("template %q must start with \"/\"", t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= ' ' || c >= 0x7f || c == '?' || c == '#' {
			return fmt.Errorf("template %q: character %q not allowed", t, c)
		}
	}
	rest := t
	for rest != "" {
		var seg string
		seg, rest = nextSegment(rest)
		if seg == "" {
			return fmt.Errorf("template %q has an empty segment", t)
		}
		if strings.ContainsAny(seg, "{}") {
			if !isParamSegment(seg) || len(seg) == 2 || strings.ContainsAny(seg[1:len(seg)-1], "{}") {
				return fmt.Errorf("template %q: segment %q must be a literal or a whole {name} parameter", t, seg)
			}
		}
	}
	return nil
}

// cleanPath drops a query or fragment and one trailing slash: the form in which paths are
// matched and reported.
func cleanPath(p string) string {
	return trimSlash(pathOnly(p))
}

// trimSlash drops one trailing slash (but keeps a lone "/").
func trimSlash(p string) string {
	if len(p) > 1 && p[len(p)-1] == '/' {
		return p[:len(p)-1]
	}
	return p
}

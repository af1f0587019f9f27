package adminservice

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
)

// Server-driven paging. The @odata.nextLink of a page that more follow
// carries $skiptoken: the position of the page's last instance in the
// list's order (provider.Position), so the next page starts right after
// it through the index, at the cost of the first page however far into
// the list, and an instance added or removed meanwhile neither repeats
// nor hides another. The token is opaque to clients: base64url of
// {"o": the order it belongs to, "v": the order's values, "k": the key}.
// It is validated, not signed: a token made for another $orderby, or one
// whose values do not fit the order's properties, is refused with 400; a
// client that forges a well-formed one only moves its own start, with
// its own filter and rights applied as ever.

// skipToken is the decoded form of a $skiptoken.
type skipToken struct {
	Order  string            `json:"o"`
	Values []json.RawMessage `json:"v"`
	Key    string            `json:"k"`
}

// orderSignature names an order for a token: its properties, lower case,
// each with its direction.
func orderSignature(orders []store.Order) string {
	parts := make([]string, len(orders))
	for i, o := range orders {
		dir := " asc"
		if o.Desc {
			dir = " desc"
		}
		parts[i] = strings.ToLower(o.Property) + dir
	}
	return strings.Join(parts, ",")
}

// encodeSkipToken is the $skiptoken of the position of in, an instance of
// class c, in the order orders.
func encodeSkipToken(c *cim.Class, in *cim.Instance, orders []store.Order) string {
	pos := provider.PositionOf(in, orders)
	tok := skipToken{Order: orderSignature(orders), Key: pos.Key, Values: make([]json.RawMessage, len(orders))}
	for i, o := range orders {
		p, _ := c.Property(o.Property) // the orders were checked against c
		raw, err := json.Marshal(cim.JSONValue(p.Type, pos.Values[i]))
		if err != nil {
			raw = []byte("null")
		}
		tok.Values[i] = raw
	}
	b, _ := json.Marshal(tok) // strings and raw JSON only
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeSkipToken reads a $skiptoken for a list of class c in the order
// orders. Outcomes: the position; an error of kind errs.Invalid naming
// $skiptoken when the token is not one this server wrote, was written
// for another order, or holds values its properties cannot take.
func (h *Handler) decodeSkipToken(v string, c *cim.Class, orders []store.Order) (*provider.Position, error) {
	bad := func(why string) error {
		return errs.Target(errs.Invalid, "$skiptoken", "$skiptoken: %s; follow @odata.nextLink as the server gave it, or start again without $skiptoken", why)
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad("not a token this server wrote")
	}
	var tok skipToken
	if err := unmarshalStrictJSON(b, &tok); err != nil || tok.Key == "" || cim.CheckText(tok.Key) != nil {
		return nil, bad("not a token this server wrote")
	}
	if tok.Order != orderSignature(orders) || len(tok.Values) != len(orders) {
		return nil, bad("it belongs to another $orderby")
	}
	pos := &provider.Position{Key: tok.Key, Values: make([]any, len(orders))}
	for i, o := range orders {
		p, _ := c.Property(o.Property)
		val, err := h.reg.DecodeValue(p.Type, tok.Values[i], "$skiptoken")
		if s, ok := val.(string); err != nil || (ok && cim.CheckText(s) != nil) {
			return nil, bad("a value does not fit " + p.Name)
		}
		pos.Values[i] = val
	}
	return pos, nil
}

// unmarshalStrictJSON decodes b into v, refusing members v lacks.
func unmarshalStrictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

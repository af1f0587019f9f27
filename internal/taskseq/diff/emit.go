package diff

import (
	"strconv"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// emit reports the changes under a matched group of the "to" side, in its
// order: removed steps where they were, moved ones where they went.
func (m *matcher) emit(g *node, add func(Change)) {
	for _, o := range g.script {
		switch {
		case o.a != nil && o.b != nil:
			m.pairChanges(o.a, o.b, add)
		case o.a != nil:
			if o.a.peer == nil {
				c := o.a.change(Removed)
				c.Steps = o.a.count()
				add(c)
			}
		default:
			m.arrived(o.b, add)
		}
	}
}

// arrived reports a step of the "to" side outside the aligned lists: added,
// or matched by a rename or a move.
func (m *matcher) arrived(b *node, add func(Change)) {
	if b.peer != nil {
		m.pairChanges(b.peer, b, add)
		return
	}
	c := b.change(Added)
	c.Steps = b.count()
	add(c)
	// steps moved into an added group
	var walk func(n *node)
	walk = func(n *node) {
		for _, c := range n.children {
			if c.peer != nil {
				m.pairChanges(c.peer, c, add)
			} else {
				walk(c)
			}
		}
	}
	walk(b)
}

// pairChanges reports how a matched step changed, then its children.
func (m *matcher) pairChanges(a, b *node, add func(Change)) {
	if b.how == movedByName || b.how == movedByBody {
		c := b.change(Moved)
		c.FromPath, c.FromIndex = a.path()
		add(c)
	}
	if a.name != b.name {
		c := b.change(Renamed)
		c.Property = "Name"
		c.Old, c.New = text(a.name), text(b.name)
		add(c)
	}
	if ea, eb := taskseq.IsEnabled(a.step), taskseq.IsEnabled(b.step); ea != eb {
		k := Enabled
		if !eb {
			k = Disabled
		}
		add(b.change(k))
	}
	stepChanges(b, a.step, b.step, add)
	if b.group {
		m.emit(b, add)
	}
}

// stepChanges reports the properties, condition, attributes and variables
// of a step that changed.
func stepChanges(at *node, a, b *cim.Instance, add func(Change)) {
	ca, _ := a.Values["Condition"].(*cim.Instance)
	cb, _ := b.Values["Condition"].(*cim.Instance)
	if !cim.Equal(a.Values["Condition"], b.Values["Condition"]) {
		c := at.change(ConditionChanged)
		c.Property = "Condition"
		c.Old, c.New = conditionText(ca), conditionText(cb)
		add(c)
	}
	for _, p := range comparedCache.Of(b.Class) {
		va, vb := a.Values[p.Name], b.Values[p.Name]
		if cim.Equal(va, vb) {
			continue
		}
		c := at.change(PropertyChanged)
		c.Property = p.Name
		c.Old, c.New = text(render(p, va)), text(render(p, vb))
		add(c)
	}
	xa, xb := taskseq.ExtraAttributes(a), taskseq.ExtraAttributes(b)
	for _, k := range sortedKeys(union(xa, xb)) {
		va, oka := xa[k]
		vb, okb := xb[k]
		if oka == okb && va == vb {
			continue
		}
		c := at.change(PropertyChanged)
		c.Property = k
		if oka {
			c.Old = text(strconv.Quote(va))
		}
		if okb {
			c.New = text(strconv.Quote(vb))
		}
		add(c)
	}
	compareVariables(at, taskseq.ListedVariables(a), taskseq.ListedVariables(b), add)
}

func conditionText(c *cim.Instance) *string {
	if c == nil {
		return nil
	}
	return text(taskseq.DescribeCondition(c))
}

func union(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

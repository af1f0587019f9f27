package diff

import (
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/taskseq"
)

// how says how a pair of steps was matched.
type how uint8

const (
	unmatched   how = iota
	aligned         // same type and name, in the longest common subsequence of a matched group pair
	inPlace         // same type, same gap between aligned neighbours, mostly the same content: renamed
	movedByName     // same type and name elsewhere
	movedByBody     // same type and content elsewhere: renamed and moved
)

// node is a step or group of one side (the root is the sequence).
type node struct {
	step     *cim.Instance
	parent   *node
	children []*node
	index    int // among its siblings
	key      int // interned type and name
	name     string
	typ      string
	group    bool
	peer     *node
	how      how
	gap      int    // for a child of an aligned group: aligned siblings before it
	script   []op   // for a matched group of the "to" side: its children merged with its peer's
	order    int    // preorder position
	body     string // content fingerprint, computed on demand
	hasBody  bool
}

// op is one entry of a merged child list: a pair, or a step of one side.
type op struct{ a, b *node }

type matcher struct {
	rootA, rootB *node
	keys         map[string]int
	preA, preB   []*node
}

func newMatcher(a, b *cim.Instance) *matcher {
	m := &matcher{keys: map[string]int{}}
	m.rootA = m.build(a, nil, 0, &m.preA)
	m.rootB = m.build(b, nil, 0, &m.preB)
	m.rootA.peer, m.rootB.peer = m.rootB, m.rootA
	m.rootA.how, m.rootB.how = aligned, aligned
	return m
}

func (m *matcher) build(in *cim.Instance, parent *node, index int, pre *[]*node) *node {
	n := &node{step: in, parent: parent, index: index, order: len(*pre), group: true}
	if parent != nil {
		n.name = in.String("Name")
		n.typ = taskseq.StepType(in)
		n.group = in.Class.IsA("SMS_TaskSequence_Group")
		k := n.typ + "\x00" + n.name
		id, ok := m.keys[k]
		if !ok {
			id = len(m.keys) + 1
			m.keys[k] = id
		}
		n.key = id
		*pre = append(*pre, n)
	}
	steps, _ := in.Values["Steps"].([]any)
	for _, s := range steps {
		if c, ok := s.(*cim.Instance); ok {
			n.children = append(n.children, m.build(c, n, len(n.children), pre))
		}
	}
	return n
}

// match pairs the steps of the two sides.
func (m *matcher) match() {
	m.align(m.rootA, m.rootB)
	for m.renameInPlace() || m.moveByName() || m.moveByBody() {
	}
}

func pair(a, b *node, h how) {
	a.peer, b.peer = b, a
	a.how, b.how = h, h
}

// align pairs the children of a matched pair of groups by their longest
// common subsequence of keys, records the merged list, and aligns the
// groups it pairs.
func (m *matcher) align(a, b *node) {
	ac, bc := unpaired(a.children), unpaired(b.children)
	pairs := lcs(ac, bc)
	var script []op
	i, j, gap := 0, 0, 0
	for _, p := range append(pairs, [2]int{len(ac), len(bc)}) {
		for ; i < p[0]; i++ {
			ac[i].gap = gap
			script = append(script, op{a: ac[i]})
		}
		for ; j < p[1]; j++ {
			bc[j].gap = gap
			script = append(script, op{b: bc[j]})
		}
		if i < len(ac) && j < len(bc) {
			pair(ac[i], bc[j], aligned)
			script = append(script, op{a: ac[i], b: bc[j]})
			i, j, gap = i+1, j+1, gap+1
		}
	}
	b.script = script
	for _, o := range script {
		if o.a != nil && o.b != nil && o.b.group {
			m.align(o.a, o.b)
		}
	}
}

// unpaired returns the children not matched yet (a child paired by a move
// before its group was matched stays where it was paired).
func unpaired(list []*node) []*node {
	out := make([]*node, 0, len(list))
	for _, n := range list {
		if n.peer == nil {
			out = append(out, n)
		}
	}
	return out
}

// maxCells bounds the table of one longest-common-subsequence alignment;
// beyond it (thousands of changed steps in one group) the steps are paired
// greedily in order instead.
const maxCells = 1 << 22

// lcs returns the index pairs of a longest common subsequence of the
// lists' keys, in order.
func lcs(a, b []*node) [][2]int {
	var out [][2]int
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre].key == b[pre].key {
		out = append(out, [2]int{pre, pre})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf].key == b[len(b)-1-suf].key {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma) > 0 && len(mb) > 0 {
		if len(ma)*len(mb) <= maxCells {
			out = append(out, table(ma, mb, pre)...)
		} else {
			out = append(out, greedy(ma, mb, pre)...)
		}
	}
	for k := suf; k > 0; k-- {
		out = append(out, [2]int{len(a) - k, len(b) - k})
	}
	return out
}

// table is the classic dynamic programme, walked back from the start.
func table(a, b []*node, off int) [][2]int {
	n, m := len(a), len(b)
	t := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return t[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			v := at(i+1, j)
			if w := at(i, j+1); w > v {
				v = w
			}
			if a[i].key == b[j].key {
				if w := at(i+1, j+1) + 1; w > v {
					v = w
				}
			}
			t[i*(m+1)+j] = v
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[i].key == b[j].key && at(i, j) == at(i+1, j+1)+1:
			out = append(out, [2]int{off + i, off + j})
			i, j = i+1, j+1
		case at(i+1, j) >= at(i, j+1):
			i++
		default:
			j++
		}
	}
	return out
}

// greedy pairs each step of b with the next unused step of a with its key,
// keeping the order.
func greedy(a, b []*node, off int) [][2]int {
	pos := map[int][]int{}
	for i, n := range a {
		pos[n.key] = append(pos[n.key], i)
	}
	var out [][2]int
	last := -1
	for j, n := range b {
		list := pos[n.key]
		for len(list) > 0 && list[0] <= last {
			list = list[1:]
		}
		pos[n.key] = list
		if len(list) > 0 {
			last = list[0]
			out = append(out, [2]int{off + last, off + j})
			pos[n.key] = list[1:]
		}
	}
	return out
}

// renameInPlace pairs, within each gap of each aligned group pair, the
// unmatched steps of the same type in order when their content is mostly
// the same.
func (m *matcher) renameInPlace() bool {
	found := false
	for _, b := range m.preB {
		if b.peer != nil || b.parent.peer == nil || b.parent.script == nil {
			continue
		}
		for _, o := range b.parent.script {
			a := o.a
			if o.b != nil || a.peer != nil || a.gap != b.gap || a.typ != b.typ {
				continue
			}
			if similar(a, b) {
				pair(a, b, inPlace)
				if b.group {
					m.align(a, b)
				}
				found = true
				break
			}
		}
	}
	return found
}

// moveByName pairs unmatched steps of the same type and name anywhere, in
// document order.
func (m *matcher) moveByName() bool {
	return moveBy(m, func(n *node) int { return n.key }, movedByName)
}

// moveByBody pairs unmatched steps of the same type whose content, the
// name left out, is the same.
func (m *matcher) moveByBody() bool {
	return moveBy(m, (*node).fingerprint, movedByBody)
}

// moveBy pairs each unmatched step of A with the first unmatched step of
// B that has the same key, in document order, matched as h. It reports
// whether it paired any.
func moveBy[K comparable](m *matcher, key func(*node) K, h how) bool {
	byKey := map[K][]*node{}
	for _, b := range m.preB {
		if b.peer == nil {
			k := key(b)
			byKey[k] = append(byKey[k], b)
		}
	}
	found := false
	for _, a := range m.preA {
		if a.peer != nil {
			continue
		}
		k := key(a)
		list := byKey[k]
		for len(list) > 0 && list[0].peer != nil {
			list = list[1:]
		}
		if len(list) == 0 {
			continue
		}
		b := list[0]
		byKey[k] = list[1:]
		pair(a, b, h)
		if b.group {
			m.align(a, b)
		}
		found = true
	}
	return found
}

// fingerprint is the step's type and content without its name: for a
// step its properties and listed variables and attributes; for a group its
// properties and its children's types and names.
func (n *node) fingerprint() string {
	if n.hasBody {
		return n.body
	}
	var b strings.Builder
	b.WriteString(n.typ)
	for _, p := range comparedCache.Of(n.step.Class) {
		b.WriteByte('\x01')
		canon(&b, n.step.Values[p.Name])
	}
	b.WriteString(strconv.FormatBool(taskseq.IsEnabled(n.step)))
	canon(&b, n.step.Values["Condition"])
	for _, k := range sortedKeys(taskseq.ExtraAttributes(n.step)) {
		b.WriteString("\x02" + k)
	}
	for _, v := range taskseq.ListedVariables(n.step) {
		b.WriteString("\x03" + v.Name + "=" + v.Value)
	}
	for _, c := range n.children {
		b.WriteString("\x04" + c.typ + "\x00" + c.name)
	}
	n.body, n.hasBody = b.String(), true
	return n.body
}

// similar reports whether two steps of the same type are mostly the same:
// at least half of the properties compared are equal (for groups: at
// least half of the children's types and names are shared).
func similar(a, b *node) bool {
	if a.group {
		if len(a.children) == 0 && len(b.children) == 0 {
			return true
		}
		keys := map[int]int{}
		for _, c := range a.children {
			keys[c.key]++
		}
		shared := 0
		for _, c := range b.children {
			if keys[c.key] > 0 {
				keys[c.key]--
				shared++
			}
		}
		return 2*shared >= max(len(a.children), len(b.children))
	}
	props := comparedCache.Of(a.step.Class)
	if len(props) == 0 {
		return true
	}
	same := 0
	for _, p := range props {
		if cim.Equal(a.step.Values[p.Name], b.step.Values[p.Name]) {
			same++
		}
	}
	return 2*same >= len(props)
}

// path returns the names from the top of the sequence to n, and the
// 1-based positions.
func (n *node) path() ([]string, string) {
	var names, idx []string
	for x := n; x != nil && x.parent != nil; x = x.parent {
		names = append(names, x.name)
		idx = append(idx, strconv.Itoa(x.index+1))
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
		idx[i], idx[j] = idx[j], idx[i]
	}
	return names, strings.Join(idx, ".")
}

// change returns a change of kind k placed at n.
func (n *node) change(k Kind) Change {
	c := Change{Kind: k}
	if n.parent != nil {
		c.Path, c.Index = n.path()
		c.Type, c.Group = n.typ, n.group
	}
	return c
}

// count returns how many steps a group holds, at any depth.
func (n *node) count() int {
	total := 0
	for _, c := range n.children {
		total += 1 + c.count()
	}
	return total
}

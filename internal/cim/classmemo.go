package cim

import "sync"

// ClassMemo holds what a package derives from a class's schema (which
// properties hold secrets, name packages, take command-line arguments, …):
// derived the first time a class is asked for, then shared, since a class
// does not change once its registry is loaded.
type ClassMemo[T any] struct {
	derive  func(*Class) T
	byClass sync.Map // *Class → T
}

// NewClassMemo returns a memo of derive.
func NewClassMemo[T any](derive func(*Class) T) *ClassMemo[T] {
	return &ClassMemo[T]{derive: derive}
}

// Of returns derive(c), derived once per class.
func (m *ClassMemo[T]) Of(c *Class) T {
	if v, ok := m.byClass.Load(c); ok {
		return v.(T)
	}
	v := m.derive(c)
	m.byClass.Store(c, v)
	return v
}

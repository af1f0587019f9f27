package errs

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestKindsSurviveWrapping(t *testing.T) {
	base := Target(Invalid, "Name", "property Name: %w", io.ErrUnexpectedEOF)
	wrapped := fmt.Errorf("update X: %w", base)
	if KindOf(wrapped) != Invalid || TargetOf(wrapped) != "Name" {
		t.Errorf("kind %v target %q", KindOf(wrapped), TargetOf(wrapped))
	}
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) {
		t.Error("cause lost")
	}
	if got := wrapped.Error(); got != "update X: property Name: unexpected EOF" {
		t.Errorf("Error() = %q (the cause must appear once)", got)
	}
	if got := Message(wrapped); got != "property Name: unexpected EOF" {
		t.Errorf("Message() = %q", got)
	}
	w := Wrap(Internal, io.EOF, "read file")
	if KindOf(w) != Internal || w.Error() != "read file: EOF" || !errors.Is(w, io.EOF) {
		t.Errorf("Wrap: %v %v", KindOf(w), w)
	}
	if KindOf(Wrap(Internal, base, "again")) != Invalid {
		t.Error("Wrap replaced an existing kind")
	}
	if KindOf(io.EOF) != Other || Message(io.EOF) != "EOF" {
		t.Error("plain errors have no kind")
	}
}

// TestEveryKindHasAStatus: the table gives each kind its status; an error
// without a kind is a 500.
func TestEveryKindHasAStatus(t *testing.T) {
	for k := range kindNames {
		if _, ok := httpStatus[k]; !ok {
			t.Errorf("kind %v has no HTTP status", k)
		}
	}
	for err, want := range map[error]int{
		E(NotFound, "no package"):                    404,
		fmt.Errorf("ctx: %w", E(TooLarge, "a bomb")): 413,
		E(Locked, "held by another"):                 423,
		io.EOF:                                       500,
	} {
		if got := HTTPStatus(err); got != want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", err, got, want)
		}
	}
}

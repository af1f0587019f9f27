// Package errs defines the typed error kinds that every layer of tsprov
// returns. The kinds are mapped to HTTP status codes in exactly one place,
// HTTPStatus, and the one OData error body is written by
// adminservice.WriteError.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	// Other is an error with no kind; it is reported as Internal.
	Other Kind = iota
	// NotFound: the class, instance, method or route does not exist.
	NotFound
	// Invalid: the request is malformed or breaks a class rule.
	Invalid
	// Conflict: the request contradicts the stored state (duplicate key).
	Conflict
	// PreconditionFailed: an If-Match or SedoObjectVersion check failed.
	PreconditionFailed
	// Forbidden: the caller may not do this.
	Forbidden
	// Unauthenticated: the caller did not prove who it is.
	Unauthenticated
	// TooLarge: the request or a value in it exceeds a limit.
	TooLarge
	// Locked: the object is locked by another site or user (SEDO).
	Locked
	// NotImplemented: the capability exists in the API but not yet here.
	NotImplemented
	// Unavailable: the server is shutting down, a dependency is down, or
	// the server is too busy to take the request now (try again later).
	Unavailable
	// Internal: a bug or an unexpected failure of a dependency.
	Internal
	// RateLimited: the caller sent too many requests or failed to sign
	// in too often; it may try again later.
	RateLimited
	// MethodNotAllowed: the resource exists but does not answer this
	// request method.
	MethodNotAllowed
	// UnsupportedMediaType: the request body is not in a form the
	// resource reads (its Content-Type).
	UnsupportedMediaType
	// Gone: what the request asks for existed but is no longer kept (a
	// change feed position older than the feed's retention).
	Gone
	// RangeNotSatisfiable: the byte range asked for lies outside the
	// resource (HTTP Range).
	RangeNotSatisfiable
)

var kindNames = map[Kind]string{
	Other:                "Other",
	NotFound:             "NotFound",
	Invalid:              "Invalid",
	Conflict:             "Conflict",
	PreconditionFailed:   "PreconditionFailed",
	Forbidden:            "Forbidden",
	Unauthenticated:      "Unauthenticated",
	TooLarge:             "TooLarge",
	Locked:               "Locked",
	NotImplemented:       "NotImplemented",
	Unavailable:          "Unavailable",
	Internal:             "Internal",
	RateLimited:          "RateLimited",
	MethodNotAllowed:     "MethodNotAllowed",
	UnsupportedMediaType: "UnsupportedMediaType",
	Gone:                 "Gone",
	RangeNotSatisfiable:  "RangeNotSatisfiable",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is an error with a kind and, optionally, the name of the thing it
// is about (a property, a parameter, a query position).
type Error struct {
	Kind   Kind
	Target string // property, parameter or field the error is about; may be empty
	Msg    string // the whole message, the cause's text included
	Err    error  // underlying cause; may be nil
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Kind.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E returns a new error of kind k with a formatted message. A %w verb in
// format wraps its argument as usual.
func E(k Kind, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: k, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Target returns a new error of kind k about the named target.
func Target(k Kind, target, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: k, Target: target, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Wrap gives err the kind k unless err already carries a kind, and prefixes
// its message. It returns nil when err is nil.
func Wrap(k Kind, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	if KindOf(err) != Other {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return &Error{Kind: k, Msg: msg + ": " + err.Error(), Err: err}
}

// Message returns the message of the first *Error in err's chain — the one
// that says what went wrong, without the context that callers wrapped
// around it — or err's whole text when there is none.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// KindOf returns the kind of the outermost *Error in err's chain, or Other.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		if e.Kind == Other && e.Err != nil {
			return KindOf(e.Err)
		}
		return e.Kind
	}
	return Other
}

// TargetOf returns the target of the first *Error in err's chain that names
// one, or "".
func TargetOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Target != "" {
			return e.Target
		}
		err = e.Err
	}
	return ""
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

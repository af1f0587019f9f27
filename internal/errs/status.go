package errs

import "net/http"

// httpStatus maps every kind to its HTTP status: the one table. Every
// HTTP surface (AdminService, the strict OData root, the extensions, the
// server's own refusals) answers an error with the status HTTPStatus
// gives.
var httpStatus = map[Kind]int{
	NotFound:             http.StatusNotFound,
	Invalid:              http.StatusBadRequest,
	Conflict:             http.StatusConflict,
	PreconditionFailed:   http.StatusPreconditionFailed,
	Forbidden:            http.StatusForbidden,
	Unauthenticated:      http.StatusUnauthorized,
	TooLarge:             http.StatusRequestEntityTooLarge,
	RateLimited:          http.StatusTooManyRequests,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	Locked:               http.StatusLocked,
	Gone:                 http.StatusGone,
	RangeNotSatisfiable:  http.StatusRequestedRangeNotSatisfiable,
	NotImplemented:       http.StatusNotImplemented,
	Unavailable:          http.StatusServiceUnavailable,
	Internal:             http.StatusInternalServerError,
	Other:                http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status of err's kind (500 for an error
// without one).
func HTTPStatus(err error) int {
	if s, ok := httpStatus[KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Package authtest serves tests that call the AdminService handler or the
// provider directly, without the server's authentication in front: they
// state whose rights they run with.
package authtest

import (
	"context"
	"net/http"

	"github.com/tsprov/tsprov/internal/auth"
)

// AsFullAdministrator serves h to callers who are a Full Administrator
// with every scope.
func AsFullAdministrator(h http.Handler) http.Handler {
	return As(h, auth.System())
}

// As serves h to callers who are pr.
func As(h http.Handler, pr *auth.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), pr)))
	})
}

// Context returns a background context whose caller is a Full
// Administrator with every scope, for tests that call the provider.
func Context() context.Context {
	return auth.WithPrincipal(context.Background(), auth.System())
}

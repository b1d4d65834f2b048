package gateway

import (
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

func errUnknownModel(name string) error { return routing.ErrUnknownModel(name) }

func errUnavailableModel(name string) error {
	return &errkind.Error{Kind: errkind.Invalid, Code: "model_not_available",
		Message: name + " is not available: no configured provider serves it"}
}

func errModelNotAllowed(name string) error {
	return &errkind.Error{Kind: errkind.Forbidden, Code: "model_not_allowed",
		Message: "this API key may not use model " + name + "; ask an admin to add it to the key's model allowlist"}
}

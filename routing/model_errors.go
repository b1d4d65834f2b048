package routing

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// providerEnv names the setting that enables each built-in provider.
var providerEnv = map[string]string{
	"openai":               "OPENAI_API_KEY",
	"anthropic":            "ANTHROPIC_API_KEY",
	OpenRouterProviderName: "OPENROUTER_API_KEY",
	SimProviderName:        "TOLLGATE_SIM=1",
}

// ErrUnknownModel is the refusal of a model the catalog does not have: 404
// model_not_found, as OpenAI answers, with where to look instead.
func ErrUnknownModel(name string) error {
	return &errkind.Error{Kind: errkind.NotFound, Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("the model `%s` does not exist or you do not have access to it; GET /v1/models lists the models you can use", name)}
}

// ErrModelUnavailable is the refusal of a catalog model no configured provider
// serves: 404 model_not_found, saying which setting would enable it.
func ErrModelUnavailable(m Model) error {
	enable := "configure its provider " + m.Provider
	if env, ok := providerEnv[m.Provider]; ok {
		enable = "an operator can enable it by setting " + env + " (or the provider's credentials on the console's Providers page)"
	}
	return &errkind.Error{Kind: errkind.NotFound, Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("the model `%s` is not available: no configured provider serves it; %s; GET /v1/models lists the models you can use", m.ID, enable)}
}

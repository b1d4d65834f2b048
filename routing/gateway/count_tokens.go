package gateway

import (
	"context"

	"github.com/tollgate-dev/tollgate/routing"
)

// CountTokens estimates the prompt tokens of req as its model would count
// them, without reserving or forwarding anything (Anthropic's count_tokens).
// A named model must be one the caller may use; "auto" counts with the
// default tokenizer.
func (s *Service) CountTokens(ctx context.Context, c Caller, req *routing.ChatRequest) (int, error) {
	model := req.Model
	if model == routing.ModelAuto {
		model = "gpt-4o" // the tokenizer the reservation of an auto request counts with
	} else {
		cat, err := s.catalog(ctx, c)
		if err != nil {
			return 0, err
		}
		m, ok := cat.Lookup(model)
		if !ok || m.Embedding {
			return 0, errUnknownModel(model)
		}
		if !c.allows(m.ID) {
			return 0, errModelNotAllowed(m.ID)
		}
		model = m.ID
	}
	n, _ := s.d.Estimator.PromptTokens(model, req)
	return n, nil
}

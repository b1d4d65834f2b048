package routing

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// OpenRouterSyncConfig configures the OpenRouter model sync.
type OpenRouterSyncConfig struct {
	// Base is the catalog the synced prices are layered onto (the built-in one).
	Base *Catalog
	// Apply receives each synced catalog (the gateway swaps it in as the base).
	Apply func(*Catalog)
	// Enabled reports whether OpenRouter is configured now; a sync is skipped
	// while it is not. Nil means always.
	Enabled func() bool
	// BaseURL returns OpenRouter's API root; empty means the public one.
	BaseURL func(ctx context.Context) string
	// HTTPClient fetches the list; nil means NewHTTPClient().
	HTTPClient *http.Client
	// Interval between syncs; 0 means 24h. Timeout bounds one sync; 0 means 30s.
	Interval time.Duration
	Timeout  time.Duration
}

// OpenRouterSync refreshes the catalog's OpenRouter prices (and adds models
// OpenRouter lists) from its public models list. It is optional: a failed sync
// is logged and the catalog in force stays as it was.
type OpenRouterSync struct {
	cfg    OpenRouterSyncConfig
	logger *slog.Logger
}

// NewOpenRouterSync returns the sync.
func NewOpenRouterSync(cfg OpenRouterSyncConfig, logger *slog.Logger) (*OpenRouterSync, error) {
	if logger == nil || cfg.Base == nil || cfg.Apply == nil {
		return nil, errors.New("routing: NewOpenRouterSync needs a logger, a base catalog and Apply")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 24 * time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &OpenRouterSync{cfg: cfg, logger: logger.With("component", "routing.openrouter_sync")}, nil
}

// SyncOnce fetches the list and applies the merged catalog. It returns the
// number of synced models; (0, nil) when OpenRouter is not configured.
func (s *OpenRouterSync) SyncOnce(ctx context.Context) (int, error) {
	if s.cfg.Enabled != nil && !s.cfg.Enabled() {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	base := ""
	if s.cfg.BaseURL != nil {
		base = s.cfg.BaseURL(ctx)
	}
	synced, skipped, err := FetchOpenRouterModels(ctx, s.cfg.HTTPClient, base)
	if err != nil {
		return 0, err
	}
	cat, n, err := MergeOpenRouterModels(s.cfg.Base, synced)
	if err != nil {
		return 0, err
	}
	s.cfg.Apply(cat)
	s.logger.InfoContext(ctx, "OpenRouter models synced", "models", n, "skipped", len(skipped))
	return n, nil
}

// Run syncs now and then every Interval until ctx ends; failures are logged
// and ignored (the previous catalog stays in force).
func (s *OpenRouterSync) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.SyncOnce(ctx); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "OpenRouter model sync failed; keeping the current catalog", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MergeOpenRouterModels layers synced OpenRouter models onto base: built-in
// openrouter entries get the synced prices and limits, new models are added.
// A synced entry that would change a model of another provider, or has
// negative limits, is dropped, so a sync can never reprice OpenAI or Anthropic.
func MergeOpenRouterModels(base *Catalog, synced []Model) (*Catalog, int, error) {
	var keep []ModelOverride
	for _, o := range OverridesFromModels(base, synced) {
		if m, ok := base.Lookup(o.ID); ok && m.Provider != OpenRouterProviderName {
			continue
		}
		if o.ContextWindow < 0 || o.MaxOutputTokens < 0 {
			continue
		}
		keep = append(keep, o)
	}
	cat, err := base.WithOverrides(keep)
	return cat, len(keep), err
}

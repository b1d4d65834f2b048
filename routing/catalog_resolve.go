package routing

import (
	"regexp"
	"strings"
)

// dateSuffix matches a model snapshot's date ("-2024-08-06", "-20250514").
var dateSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{8})$`)

// Resolve finds the catalog model another gateway's name stands for: the id
// itself, a provider's own id (UpstreamID), or the name without its provider
// prefix ("openai/gpt-4o"), OpenRouter variant (":free"), snapshot date
// ("gpt-4o-2024-08-06") or dotted version ("claude-sonnet-4.5"). Imported
// usage is priced and replayed under the id it resolves to.
func (c *Catalog) Resolve(name string) (Model, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return Model{}, false
	}
	try := func(n string) (Model, bool) {
		if m, ok := c.byID[n]; ok {
			return m, true
		}
		for _, id := range c.ids {
			if m := c.byID[id]; m.UpstreamID != "" && strings.ToLower(m.UpstreamID) == n {
				return m, true
			}
		}
		return Model{}, false
	}
	if m, ok := try(name); ok {
		return m, true
	}
	if base, _, ok := strings.Cut(name, ":"); ok {
		name = base
		if m, ok := try(name); ok {
			return m, true
		}
	}
	if _, after, ok := strings.Cut(name, "/"); ok {
		name = after
		if m, ok := try(name); ok {
			return m, true
		}
	}
	for _, n := range []string{dateSuffix.ReplaceAllString(name, ""), strings.ReplaceAll(name, ".", "-"),
		strings.ReplaceAll(dateSuffix.ReplaceAllString(name, ""), ".", "-")} {
		if m, ok := try(n); ok {
			return m, true
		}
	}
	return Model{}, false
}

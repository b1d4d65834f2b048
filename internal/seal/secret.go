package seal

import "log/slog"

// Secret is a credential: a provider API key, a webhook secret, a configured key, or a
// token shown to its owner once (an API key, a refresh token, a generated password).
// It is Tollgate's one secret type: it prints, logs and marshals as "[redacted]" so
// it cannot leak through fmt, slog or JSON; Reveal returns the value for the one
// place that hands it on.
type Secret string

// Reveal returns the secret value. Call it only where the value leaves the process.
func (s Secret) Reveal() string { return string(s) }

// String redacts the value for fmt verbs %s and %v.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the value for %#v.
func (s Secret) GoString() string { return `seal.Secret("[redacted]")` }

// LogValue redacts the value in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts the value, so a config struct dumped as JSON (or logged
// by slog's JSON handler) never carries the key.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

package config

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// KnownEnv names exactly the variables config.go reads: every quoted variable name
// in its source is listed, and every listed name appears there.
func TestKnownEnvMatchesParse(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("config.go")
	require.NoError(t, err)
	re := regexp.MustCompile(`"((?:TOLLGATE|STRIPE|OPENAI|OPENROUTER|ANTHROPIC|OTEL)_[A-Z_]+)"`)
	var inSource []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		inSource = append(inSource, m[1])
	}
	slices.Sort(inSource)
	inSource = slices.Compact(inSource)
	require.Equal(t, inSource, KnownEnv())
	require.True(t, slices.IsSorted(KnownEnv()))
}

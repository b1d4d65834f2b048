package infra

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The image checks its own health through /healthz (not `tollgate version`, which
// always passes), carries the OCI labels, and its build context leaves the host's
// build outputs and secrets out.
func TestDockerfileHealthcheckLabelsAndContext(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(raw)
	hc := regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD (\[.*\])$`).FindStringSubmatch(df)
	require.NotNil(t, hc, "a HEALTHCHECK")
	require.Contains(t, hc[1], `"tollgate", "healthcheck"`)
	for _, label := range []string{"title", "description", "source", "version", "revision", "created"} {
		require.Contains(t, df, "org.opencontainers.image."+label+"=", label)
	}
	require.Contains(t, df, "-X main.commit=${COMMIT} -X main.date=${DATE}", "the image's binary is stamped like make dist's")

	ignore, err := os.ReadFile("../.dockerignore")
	require.NoError(t, err)
	lines := strings.Split(string(ignore), "\n")
	for _, p := range []string{"**/node_modules", ".git", ".env", "bin", "dist", "data"} {
		require.Contains(t, lines, p, ".dockerignore must leave out %s", p)
	}
}

// Every shipped binary is built with the same tags: make build, make dist and the
// image (a binary without nomsgpack works, but carries gin's unused MessagePack
// codec: 9 MB more, ~8 MB more resident at start).
func TestShippedBuildsShareTheirTags(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"../Makefile":        `GO_TAGS ?= nomsgpack`,
		"../scripts/dist.sh": `-tags "${GO_TAGS:-nomsgpack}"`,
		"Dockerfile":         `go build -trimpath -tags nomsgpack `,
	} {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		require.Contains(t, string(raw), want, "%s builds the binary with the shipped tags", file)
	}
	mk, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^\t\$\(GO\) build -trimpath -tags "\$\(GO_TAGS\)" `, string(mk), "make binary passes GO_TAGS")
}

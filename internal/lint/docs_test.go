package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSecurityDocNamesRealTests keeps docs/security.md honest: every Go file and
// every test it names as covering a case must exist, so a moved or renamed test
// shows up here instead of leaving the threat model pointing at nothing.
func TestSecurityDocNamesRealTests(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "security.md"))
	require.NoError(t, err)

	funcs := map[string]bool{}
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?m)^func (?:\([^)]*\) )?(\w+)\(`).FindAllSubmatch(src, -1) {
			funcs[string(m[1])] = true
		}
		return nil
	}))

	files := regexp.MustCompile("`([\\w/.-]+\\.go)(?::(\\w+))?`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, files, "docs/security.md names no tests")
	for _, m := range files {
		_, err := os.Stat(filepath.Join(root, m[1]))
		require.NoError(t, err, "docs/security.md names %s, which does not exist", m[1])
	}
	names := regexp.MustCompile("`(?:[\\w/.-]+\\.go:)?((?:Test|Fuzz|Run)\\w+)`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, names)
	for _, m := range names {
		require.True(t, funcs[m[1]], "docs/security.md names %s, which no Go file defines", m[1])
	}
}

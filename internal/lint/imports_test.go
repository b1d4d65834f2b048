package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// module is the import path prefix of the repository's packages.
const module = "github.com/tollgate-dev/tollgate"

// importRule forbids packages under one of from (folders relative to the
// repository root; "" is every package) to import a package under one of to.
// Test files count: a test is part of its package.
type importRule struct {
	name string
	from []string
	to   []string
	// codeOnly exempts test files (plumbing tests may build realistic data
	// with the domain packages they serve).
	codeOnly bool
}

// importRules are the layering rules docs/architecture.md refers to:
//
//	| rule                                   | from                      | may not import  |
//	|----------------------------------------|---------------------------|-----------------|
//	| api never imports worker               | api/...                   | worker/...      |
//	| worker never imports routing           | worker/...                | routing/...     |
//	| nothing imports cmd                    | every package             | cmd/...         |
//	| domain packages never import api       | billing, routing, tenants | api/...         |
//	| billing never imports routing          | billing/...               | routing/...     |
//	| tenants never imports other domains    | tenants/...               | billing, routing, worker |
//	| plumbing never imports a domain        | internal/... (not tests)  | api, billing, routing, tenants, worker |
var importRules = []importRule{
	{name: "api never imports worker: services enqueue jobs through interfaces", from: []string{"api"}, to: []string{"worker"}},
	{name: "worker never imports routing", from: []string{"worker"}, to: []string{"routing"}},
	{name: "nothing imports cmd", from: []string{""}, to: []string{"cmd"}},
	{name: "domain packages never import api", from: []string{"billing", "routing", "tenants"}, to: []string{"api"}},
	{name: "billing never imports routing: the request path calls billing, not the reverse", from: []string{"billing"}, to: []string{"routing"}},
	{name: "tenants never imports other domains", from: []string{"tenants"}, to: []string{"billing", "routing", "worker"}},
	{name: "plumbing never imports a domain", from: []string{"internal"}, to: []string{"api", "billing", "routing", "tenants", "worker"}, codeOnly: true},
}

// within reports whether the folder rel is dir or under it ("" holds everything).
func within(rel, dir string) bool {
	return dir == "" || rel == dir || strings.HasPrefix(rel, dir+"/")
}

// checkImports parses the imports of every .go file in fsys (a repository
// tree) and returns the broken rules, one "file: import: rule" line each.
func checkImports(t *testing.T, fsys fs.FS, rules []importRule) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != "." && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := path.Dir(p)
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(ip, module+"/") {
				continue
			}
			target := strings.TrimPrefix(ip, module+"/")
			for _, r := range rules {
				if r.codeOnly && strings.HasSuffix(p, "_test.go") {
					continue
				}
				if matchesAny(dir, r.from) && matchesAny(target, r.to) {
					out = append(out, p+": "+ip+": "+r.name)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

func matchesAny(rel string, dirs []string) bool {
	for _, d := range dirs {
		if within(rel, d) {
			return true
		}
	}
	return false
}

// TestImportRules fails when a package imports across a layer it may not.
func TestImportRules(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	require.Empty(t, checkImports(t, os.DirFS(root), importRules))
}

// TestImportRulesCatchViolations runs the checker on a synthetic tree that
// breaks every rule once, next to files that keep them.
func TestImportRulesCatchViolations(t *testing.T) {
	t.Parallel()
	file := func(pkg string, imports ...string) *fstest.MapFile {
		src := "package " + pkg + "\n\nimport (\n"
		for _, i := range imports {
			src += "\t" + strconv.Quote(module+"/"+i) + "\n"
		}
		return &fstest.MapFile{Data: []byte(src + ")\n")}
	}
	fsys := fstest.MapFS{
		"api/jobs.go":              file("api", "worker"),
		"api/ok.go":                file("api", "internal/jobs", "billing/webhook"),
		"worker/sub/x.go":          file("sub", "routing/gateway"),
		"worker/ok.go":             file("worker", "billing/webhook", "workerish"),
		"billing/budget/x_test.go": file("budget", "api", "cmd/tollgate"),
		"routing/ok.go":            file("routing", "apix"),
		"cmd/tollgate/main.go":     file("main", "api", "worker"),
		"billing/ledger/x.go":      file("ledger", "routing"),
		"tenants/apikeys/x.go":     file("apikeys", "billing/meter", "tenants"),
		"internal/seal/x.go":       file("seal", "tenants"),
		"internal/seal/x_test.go":  file("seal", "tenants", "billing"),
	}
	require.Equal(t, []string{
		"api/jobs.go: " + module + "/worker: " + importRules[0].name,
		"billing/budget/x_test.go: " + module + "/api: " + importRules[3].name,
		"billing/budget/x_test.go: " + module + "/cmd/tollgate: " + importRules[2].name,
		"billing/ledger/x.go: " + module + "/routing: " + importRules[4].name,
		"internal/seal/x.go: " + module + "/tenants: " + importRules[6].name,
		"tenants/apikeys/x.go: " + module + "/billing/meter: " + importRules[5].name,
		"worker/sub/x.go: " + module + "/routing/gateway: " + importRules[1].name,
	}, checkImports(t, fsys, importRules))
}

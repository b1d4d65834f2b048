// Package lint enforces the repository's rules (STYLE.md convention 24) as a test, so
// `make test` fails when one is broken.
package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type violation struct{ pos, rule string }

// rule inspects one selector (pkg.Name) in a file and reports whether it breaks a rule.
type rule struct {
	name    string
	pkg     string // import path of the selector's package
	sel     string // selected name; "" matches any
	allowed func(rel string, isTest bool) bool
}

func under(rel string, dirs ...string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

var rules = []rule{
	{name: "use an injected *slog.Logger, never slog.Default", pkg: "log/slog", sel: "Default",
		allowed: func(string, bool) bool { return false }},
	{name: "only internal/config reads the environment", pkg: "os", sel: "Getenv",
		allowed: func(rel string, isTest bool) bool {
			return isTest || under(rel, "internal/config", "internal/testdb", "internal/testredis", "internal/teststripe")
		}},
	{name: "only internal/config reads the environment", pkg: "os", sel: "LookupEnv",
		allowed: func(rel string, isTest bool) bool {
			return isTest || under(rel, "internal/config", "internal/testdb", "internal/testredis", "internal/teststripe")
		}},
	{name: "no context.Background outside cmd, scripts and tests", pkg: "context", sel: "Background",
		allowed: func(rel string, isTest bool) bool {
			return isTest || under(rel, "cmd", "scripts", "internal/testdb", "internal/testredis", "internal/teststripe")
		}},
	{name: "use require, not assert", pkg: "github.com/stretchr/testify/assert", sel: "",
		allowed: func(string, bool) bool { return false }},
	{name: "only api and tenants extract the tenant from the context", pkg: "github.com/tollgate-dev/tollgate/tenants", sel: "PrincipalFrom",
		allowed: func(rel string, isTest bool) bool { return under(rel, "api", "tenants") }},
}

// The identity subpackages of tenants import tenants, never the reverse: the core
// (registry, handles, principal, change feed) knows nothing of users, roles or keys.
func init() {
	for _, sub := range []string{"accounts", "access", "apikeys", "audit"} {
		rules = append(rules, rule{name: "tenants never imports tenants/" + sub, pkg: "github.com/tollgate-dev/tollgate/tenants/" + sub,
			allowed: func(rel string, _ bool) bool { return path.Dir(rel) != "tenants" }})
	}
}

func TestRepositoryRules(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	var found []violation
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "dist", "bin", "data":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		isTest := strings.HasSuffix(rel, "_test.go")
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		imports := map[string]string{} // local name → path
		for _, im := range f.Imports {
			p := strings.Trim(im.Path.Value, `"`)
			name := p[strings.LastIndex(p, "/")+1:]
			if strings.HasPrefix(name, "v") && len(name) <= 3 { // github.com/x/y/v2
				trimmed := strings.TrimSuffix(p, "/"+name)
				name = trimmed[strings.LastIndex(trimmed, "/")+1:]
			}
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			se, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := se.X.(*ast.Ident)
			if !ok {
				return true
			}
			p, ok := imports[id.Name]
			if !ok {
				return true
			}
			for _, r := range rules {
				if r.pkg == p && (r.sel == "" || r.sel == se.Sel.Name) && !r.allowed(rel, isTest) {
					found = append(found, violation{fset.Position(se.Pos()).String(), r.name})
				}
			}
			return true
		})
		// Money in billing is integer nano-USD: no float field or conversion there.
		if strings.HasPrefix(rel, "billing/") && !isTest {
			ast.Inspect(f, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && (id.Name == "float64" || id.Name == "float32") {
					found = append(found, violation{fset.Position(id.Pos()).String(), "money in billing is integer nano-USD: no floats"})
				}
				return true
			})
		}
		return nil
	})
	require.NoError(t, err)
	for _, v := range found {
		t.Errorf("%s: %s", v.pos, v.rule)
	}
}

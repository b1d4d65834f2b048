// Package frontend holds the Tollgate admin console (React + TypeScript, built
// with Vite) and embeds its production bundle into the Go binary.
//
// The bundle is built into dist/ by `npm run build` (`make run` does so first).
// dist/ is git-ignored except for dist/.gitkeep, so `go build` and `go vet`
// work on a clean checkout; the server then checks Built and shows a
// "console not built" page instead of a broken SPA.
package frontend

import (
	"embed"
	"io/fs"
)

// Dist is the console bundle as written by `vite build`: index.html at its
// root (under "dist/") and content-hashed files under dist/assets/. Use
// fs.Sub(Dist, "dist") to serve it.
//
//go:embed all:dist
var Dist embed.FS

// Built reports whether the embedded bundle holds an index.html, i.e. whether
// the console was built before the binary. With only the dist/.gitkeep
// placeholder it returns false.
func Built() bool {
	_, err := fs.Stat(Dist, "dist/index.html")
	return err == nil
}

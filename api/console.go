package api

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

const consoleNotBuilt = `<!doctype html><html><head><meta charset="utf-8"><title>Tollgate</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>Tollgate is running</h1>
<p>The web console was not built into this binary. Run <code>make run</code> (which builds it), or
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild the binary.</p>
<p>The APIs work without it: <code>/v1</code> (OpenAI-compatible), <code>/api/v1</code> (admin),
<code>/healthz</code>.</p></body></html>`

// registerConsole serves the embedded console: hashed assets cached for a year,
// index.html never cached, unknown GET paths falling back to index.html (SPA
// routes), while misses under /api and /v1 stay JSON 404s.
func (s *Server) registerConsole(e *gin.Engine) {
	console := s.deps.Console
	e.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/v1/") || p == "/api" || p == "/v1" ||
			(c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
			writeError(c, errkind.New(errkind.NotFound, "no route for %s %s", c.Request.Method, p))
			return
		}
		if console == nil {
			c.Header("Cache-Control", "no-store")
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(consoleNotBuilt))
			return
		}
		name := strings.TrimPrefix(path.Clean(p), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(console, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					c.Header("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					c.Header("Cache-Control", "public, max-age=3600")
				}
				c.FileFromFS(name, http.FS(console))
				return
			}
			if strings.HasPrefix(name, "assets/") {
				c.Status(http.StatusNotFound)
				return
			}
		}
		index, err := fs.ReadFile(console, "index.html")
		if err != nil {
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(consoleNotBuilt))
			return
		}
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	})
}

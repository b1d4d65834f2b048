package api

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

const consoleNotBuilt = `<!doctype html><html><head><meta charset="utf-8"><title>Tollgate</title></head>
<body>
<h1>Tollgate is running</h1>
<p>The web console was not built into this binary. Run <code>make run</code> (which builds it), or
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild the binary.</p>
<p>The APIs work without it: <code>/v1</code> (OpenAI-compatible), <code>/api/v1</code> (admin),
<code>/healthz</code>.</p></body></html>`

// ConsoleCSP is the Content-Security-Policy of every console response: scripts,
// styles and connections from this origin only (the live feed's WebSocket
// included), images also as data: URLs (the favicon), no plugins, and the console
// may not be framed (clickjacking) nor post forms or set a base URL elsewhere.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// consoleHeaders sets the browser hardening headers of a console response.
func consoleHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", ConsoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// noSniff makes browsers trust the declared Content-Type of every response (API
// JSON, metrics, console files) instead of guessing one from the body.
func noSniff() gin.HandlerFunc {
	// Every response carries it: one value for all, never written (its
	// capacity is its length, so even an Add copies).
	nosniff := []string{"nosniff"}
	return func(c *gin.Context) {
		c.Writer.Header()["X-Content-Type-Options"] = nosniff
		c.Next()
	}
}

// consoleFiles serves the embedded bundle, gzipping text files once on first
// request: the files never change while the binary runs.
type consoleFiles struct {
	fsys fs.FS
	mu   sync.Mutex
	gz   map[string][]byte
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".css", ".html", ".svg", ".json", ".map", ".txt":
		return true
	}
	return false
}

// serve writes one file, gzipped when the client accepts it.
func (cf *consoleFiles) serve(c *gin.Context, name, cacheControl string) {
	raw, err := fs.ReadFile(cf.fsys, name)
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(raw)
	}
	c.Header("Cache-Control", cacheControl)
	c.Header("Vary", "Accept-Encoding")
	if compressible(name) && strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		c.Header("Content-Encoding", "gzip")
		c.Data(http.StatusOK, ctype, cf.gzipped(name, raw))
		return
	}
	c.Data(http.StatusOK, ctype, raw)
}

func (cf *consoleFiles) gzipped(name string, raw []byte) []byte {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if b, ok := cf.gz[name]; ok {
		return b
	}
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(raw)
	_ = w.Close()
	cf.gz[name] = buf.Bytes()
	return cf.gz[name]
}

// registerConsole serves the embedded console: hashed assets cached for a year,
// index.html never cached, unknown GET paths falling back to index.html (SPA
// routes), while misses under /api and /v1 stay JSON 404s.
func (s *Server) registerConsole(e *gin.Engine) {
	var files *consoleFiles
	if s.deps.Console != nil {
		files = &consoleFiles{fsys: s.deps.Console, gz: map[string][]byte{}}
	}
	e.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/v1/") || p == "/api" || p == "/v1" ||
			(c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
			writeError(c, errkind.New(errkind.NotFound, "no route for %s %s", c.Request.Method, p))
			return
		}
		consoleHeaders(c)
		if files == nil {
			c.Header("Cache-Control", "no-store")
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(consoleNotBuilt))
			return
		}
		name := strings.TrimPrefix(path.Clean(p), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(files.fsys, name); err == nil && !st.IsDir() {
				cache := "public, max-age=3600"
				if strings.HasPrefix(name, "assets/") {
					cache = "public, max-age=31536000, immutable"
				}
				files.serve(c, name, cache)
				return
			}
			if strings.HasPrefix(name, "assets/") {
				c.Status(http.StatusNotFound)
				return
			}
		}
		if _, err := fs.Stat(files.fsys, "index.html"); err != nil {
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(consoleNotBuilt))
			return
		}
		files.serve(c, "index.html", "no-cache")
	})
}

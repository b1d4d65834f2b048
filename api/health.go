package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

func (s *Server) registerHealth(e *gin.Engine) {
	e.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	e.GET("/readyz", s.readyz)
	if s.deps.Metrics != nil {
		e.GET("/metrics", gin.WrapH(MetricsHandler(s.deps.Metrics, s.deps.Config.MetricsToken)))
	} else {
		// Not the console's fallback page: a scraper pointed here learns where to go.
		e.GET("/metrics", h(func(*gin.Context) error {
			return errkind.New(errkind.NotFound, "/metrics is not served on this listener (see TOLLGATE_METRICS_ADDR)")
		}))
	}
}

type readyCheckResult struct {
	OK    bool   `json:"ok"`
	State string `json:"state,omitempty"`
	// Advisory checks do not decide readiness.
	Advisory bool   `json:"advisory,omitempty"`
	Error    string `json:"error,omitempty"`
}

// readyz checks every dependency with a short deadline; 503 when one is down.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]readyCheckResult{}
	ok := true
	for _, rc := range s.deps.Ready {
		res := readyCheckResult{OK: true, Advisory: rc.Advisory}
		if err := rc.Check(ctx); err != nil {
			res.OK, res.Error = false, err.Error()
			if !rc.Advisory {
				ok = false
			}
		}
		if rc.State != nil {
			res.State = rc.State()
		}
		checks[rc.Name] = res
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": ok, "mode": s.deps.Config.Mode, "checks": checks})
}

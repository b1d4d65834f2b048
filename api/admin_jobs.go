package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// Jobs serves the job queue's state to superadmins.
type Jobs struct {
	client jobs.Client
}

// NewJobs returns the jobs endpoints over the queue's River client.
func NewJobs(client jobs.Client) *Jobs { return &Jobs{client: client} }

// Routes returns the registrar of GET /api/v1/jobs, protected by ident (a session
// with the platform read permission: superadmins).
func (j *Jobs) Routes(ident *Identity) func(*gin.Engine) {
	return func(e *gin.Engine) {
		e.GET("/api/v1/jobs", ident.requireSession, ident.AuthorizePlatform(access.ActionRead), h(j.list))
	}
}

// list: GET /api/v1/jobs?state=completed,retryable&kind=invoice_run&limit=&cursor=.
func (j *Jobs) list(c *gin.Context) error {
	in := jobs.ListInput{States: splitList(c.Query("state")), Kinds: splitList(c.Query("kind")), Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errkind.New(errkind.Invalid, "limit: want a number from 1 to 500")
		}
		in.Limit = n
	}
	views, next, err := jobs.List(c.Request.Context(), j.client, in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, listResponse[jobs.View]{Data: views, NextCursor: next})
	return nil
}

// splitList splits "a,b" into its non-empty parts.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

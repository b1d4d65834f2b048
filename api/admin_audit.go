package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/tenants/audit"
)

type auditDTO struct {
	// ID is a decimal string (JavaScript numbers lose precision past 2^53).
	ID         string `json:"id"`
	ActorID    string `json:"actor_id"`
	ActorEmail string `json:"actor_email"`
	Action     string `json:"action"`
	Target     string `json:"target"`
	// TargetName names the target when Target is an id; empty when unknown.
	TargetName string `json:"target_name"`
	// Before and After are the target's state around the change; null when the
	// entry recorded none (creations have no before, removals no after).
	Before    map[string]any `json:"before"`
	After     map[string]any `json:"after"`
	IP        string         `json:"ip"`
	CreatedAt time.Time      `json:"created_at"`
	Details   map[string]any `json:"details"`
}

// listAudit: GET /api/v1/tenants/{tenant}/audit?limit=&cursor=&q=.
func (id *Identity) listAudit(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	return id.writeAudit(c, audit.ListAuditInput{TenantID: p.TenantID(), Limit: limit, Cursor: c.Query("cursor"), Query: c.Query("q")})
}

// listPlatformAudit: GET /api/v1/audit?limit=&cursor=&q= (superadmins). The platform
// log: account changes, user deletions, superadmin grants.
func (id *Identity) listPlatformAudit(c *gin.Context) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	return id.writeAudit(c, audit.ListAuditInput{Platform: true, Limit: limit, Cursor: c.Query("cursor"), Query: c.Query("q")})
}

func (id *Identity) writeAudit(c *gin.Context, in audit.ListAuditInput) error {
	page, err := id.d.Audit.List(c.Request.Context(), in)
	if err != nil {
		return err
	}
	out := listResponse[auditDTO]{Data: make([]auditDTO, len(page.Entries)), NextCursor: page.NextCursor}
	for i, e := range page.Entries {
		out.Data[i] = auditDTO{ID: strconv.FormatInt(e.ID, 10), ActorID: e.ActorID, ActorEmail: e.ActorEmail, Action: e.Action,
			Target: e.Target, TargetName: e.TargetName, Before: e.Before, After: e.After, IP: e.IP, CreatedAt: e.CreatedAt, Details: e.Details}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

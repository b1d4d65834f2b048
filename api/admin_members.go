package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

type memberDTO struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// LiveKeys is how many working API keys the member created (revoked with the
	// member unless kept).
	LiveKeys int `json:"live_keys"`
}

func mapMember(m accounts.Member) memberDTO {
	return memberDTO{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: string(m.Role), CreatedAt: m.CreatedAt}
}

// listMembers: GET /api/v1/tenants/{tenant}/members.
func (id *Identity) listMembers(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	page, err := id.d.Users.MembersPage(ctx, p.TenantID(), tenants.PageInput{Query: c.Query("q"), Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		return err
	}
	keys, err := id.d.Users.LiveKeyCounts(ctx, p.TenantID())
	if err != nil {
		return err
	}
	out := listResponse[memberDTO]{Data: make([]memberDTO, len(page.Members)), NextCursor: page.NextCursor}
	for i, m := range page.Members {
		out.Data[i] = mapMember(m)
		out.Data[i].LiveKeys = keys[m.UserID]
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type changeRoleRequest struct {
	Role string `json:"role"`
}

// changeMemberRole: PATCH /api/v1/tenants/{tenant}/members/{user_id}.
func (id *Identity) changeMemberRole(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req changeRoleRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	m, err := id.d.Users.ChangeRole(c.Request.Context(), accounts.ChangeRoleInput{TenantID: p.TenantID(), UserID: c.Param("user_id"),
		Role: access.Role(req.Role), MayManageOwners: id.may(c, p, access.ResourceMembers, access.ActionManageOwners), Actor: actor(c)})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapMember(m))
	return nil
}

// removeMember: DELETE /api/v1/tenants/{tenant}/members/{user_id}[?keep_keys=true].
// The API keys the member created are revoked unless keep_keys=true.
func (id *Identity) removeMember(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	keep, err := queryBool(c, "keep_keys")
	if err != nil {
		return err
	}
	_, err = id.d.Users.RemoveMember(c.Request.Context(), accounts.RemoveMemberInput{TenantID: p.TenantID(), UserID: c.Param("user_id"),
		KeepKeys: keep, MayManageOwners: id.may(c, p, access.ResourceMembers, access.ActionManageOwners), Actor: actor(c)})
	if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// queryBool reads an optional true/false query parameter (absent is false).
func queryBool(c *gin.Context, name string) (bool, error) {
	switch c.Query(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, &errkind.Error{Kind: errkind.Invalid, Code: "invalid_" + name, Message: name + " must be true or false"}
}

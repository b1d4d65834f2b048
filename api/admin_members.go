package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/tenants"
)

type memberDTO struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// TemporaryPassword is set once, when an invitation created the user.
	TemporaryPassword string `json:"temporary_password,omitempty"`
}

func mapMember(m tenants.Member) memberDTO {
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
	page, err := id.d.Users.MembersPage(c.Request.Context(), p.TenantID(),
		tenants.PageInput{Query: c.Query("q"), Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		return err
	}
	out := listResponse[memberDTO]{Data: make([]memberDTO, len(page.Members)), NextCursor: page.NextCursor}
	for i, m := range page.Members {
		out.Data[i] = mapMember(m)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type inviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// inviteMember: POST /api/v1/tenants/{tenant}/members.
func (id *Identity) inviteMember(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req inviteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	res, err := id.d.Users.Invite(c.Request.Context(), tenants.InviteInput{TenantID: p.TenantID(), Email: req.Email,
		Role: tenants.Role(req.Role), MayManageOwners: id.may(c, p, tenants.ResourceMembers, tenants.ActionManageOwners), Actor: actor(c)})
	if err != nil {
		return err
	}
	out := mapMember(res.Member)
	out.TemporaryPassword = res.TemporaryPassword.Reveal()
	if out.TemporaryPassword != "" {
		c.Header("Cache-Control", "no-store")
	}
	c.JSON(http.StatusCreated, out)
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
	m, err := id.d.Users.ChangeRole(c.Request.Context(), tenants.ChangeRoleInput{TenantID: p.TenantID(), UserID: c.Param("user_id"),
		Role: tenants.Role(req.Role), MayManageOwners: id.may(c, p, tenants.ResourceMembers, tenants.ActionManageOwners), Actor: actor(c)})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapMember(m))
	return nil
}

// removeMember: DELETE /api/v1/tenants/{tenant}/members/{user_id}.
func (id *Identity) removeMember(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	err = id.d.Users.RemoveMember(c.Request.Context(), tenants.RemoveMemberInput{TenantID: p.TenantID(), UserID: c.Param("user_id"),
		MayManageOwners: id.may(c, p, tenants.ResourceMembers, tenants.ActionManageOwners), Actor: actor(c)})
	if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

type userDTO struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Superadmin bool   `json:"superadmin"`
}

type membershipDTO struct {
	TenantID   string `json:"tenant_id"`
	TenantSlug string `json:"tenant_slug"`
	TenantName string `json:"tenant_name"`
	Role       string `json:"role"`
}

type meResponse struct {
	User        userDTO         `json:"user"`
	Memberships []membershipDTO `json:"memberships"`
	// SessionTenant is set when the session was started through a tenant's
	// single sign-on: it reaches that tenant only.
	SessionTenant string `json:"session_tenant,omitempty"`
}

// scopeMemberships keeps only the session's tenant for a tenant-confined session.
func scopeMemberships(s *accounts.Session, ms []accounts.MembershipWithTenant) []accounts.MembershipWithTenant {
	if s.Tenant == "" {
		return ms
	}
	out := ms[:0:0]
	for _, m := range ms {
		if m.Tenant.ID == s.Tenant {
			out = append(out, m)
		}
	}
	return out
}

// me: GET /api/v1/me. The signed-in user, their tenants and roles.
func (id *Identity) me(c *gin.Context) error {
	s, ok := sessionOf(c)
	if !ok {
		return errkind.New(errkind.Unauthenticated, "sign in first")
	}
	ms, err := id.d.Users.MembershipsOf(c.Request.Context(), s.User.ID)
	if err != nil {
		return err
	}
	ms = scopeMemberships(s, ms)
	out := meResponse{User: userDTO{ID: s.User.ID, Email: s.User.Email, Name: s.User.Name, Superadmin: s.User.Superadmin && s.Tenant == ""},
		Memberships: make([]membershipDTO, len(ms)), SessionTenant: string(s.Tenant)}
	for i, m := range ms {
		out.Memberships[i] = membershipDTO{TenantID: string(m.Tenant.ID), TenantSlug: m.Tenant.Slug, TenantName: m.Tenant.Name, Role: string(m.Role)}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword: POST /api/v1/me/password. Needs the current password; every other
// session of the user is signed out, this one stays.
func (id *Identity) changePassword(c *gin.Context) error {
	s, ok := sessionOf(c)
	if !ok {
		return errkind.New(errkind.Unauthenticated, "sign in first")
	}
	var req changePasswordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := id.d.Sessions.Throttle(c.ClientIP(), s.User.Email); err != nil {
		return err
	}
	if err := id.d.Users.ChangePassword(c.Request.Context(), accounts.ChangePasswordInput{UserID: s.User.ID,
		Current: seal.Secret(req.CurrentPassword), New: seal.Secret(req.NewPassword),
		KeepFamily: s.Family, Actor: actor(c)}); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// signOutEverywhere: POST /api/v1/me/sign-out-everywhere. Revokes every session of
// the user, this one included.
func (id *Identity) signOutEverywhere(c *gin.Context) error {
	s, ok := sessionOf(c)
	if !ok {
		return errkind.New(errkind.Unauthenticated, "sign in first")
	}
	if err := id.d.Users.SignOutEverywhere(c.Request.Context(), s.User.ID, actor(c)); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

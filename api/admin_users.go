package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

// Platform account management (superadmins: platform:manage_users). Tenant admins
// remove members from their tenant instead (DELETE .../members/{user_id}).

type platformUserDTO struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Superadmin bool       `json:"superadmin"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at"`
}

func mapPlatformUser(u accounts.User) platformUserDTO {
	return platformUserDTO{ID: u.ID, Email: u.Email, Name: u.Name, Superadmin: u.Superadmin, CreatedAt: u.CreatedAt, DisabledAt: u.DisabledAt}
}

// listUsers: GET /api/v1/users[?q=&limit=&cursor=].
func (id *Identity) listUsers(c *gin.Context) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	page, err := id.d.Users.UsersPage(c.Request.Context(), tenants.PageInput{Query: c.Query("q"), Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		return err
	}
	out := listResponse[platformUserDTO]{Data: make([]platformUserDTO, len(page.Users)), NextCursor: page.NextCursor}
	for i, u := range page.Users {
		out.Data[i] = mapPlatformUser(u)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// disableUser: POST /api/v1/users/{user_id}/disable. Signs the user out everywhere.
func (id *Identity) disableUser(c *gin.Context) error { return id.setDisabled(c, true) }

// enableUser: POST /api/v1/users/{user_id}/enable.
func (id *Identity) enableUser(c *gin.Context) error { return id.setDisabled(c, false) }

func (id *Identity) setDisabled(c *gin.Context, disabled bool) error {
	u, err := id.d.Users.SetDisabled(c.Request.Context(), accounts.SetDisabledInput{UserID: c.Param("user_id"), Disabled: disabled, Actor: actor(c)})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapPlatformUser(u))
	return nil
}

// signOutUser: POST /api/v1/users/{user_id}/sign-out. Revokes every session.
func (id *Identity) signOutUser(c *gin.Context) error {
	if err := id.d.Users.SignOutEverywhere(c.Request.Context(), c.Param("user_id"), actor(c)); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// deleteUser: DELETE /api/v1/users/{user_id}[?keep_keys=true].
func (id *Identity) deleteUser(c *gin.Context) error {
	keep, err := queryBool(c, "keep_keys")
	if err != nil {
		return err
	}
	if err := id.d.Users.DeleteUser(c.Request.Context(), accounts.DeleteUserInput{UserID: c.Param("user_id"), KeepKeys: keep, Actor: actor(c)}); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// grantSuperadmin: PUT /api/v1/users/{user_id}/superadmin.
func (id *Identity) grantSuperadmin(c *gin.Context) error { return id.setSuperadmin(c, true) }

// revokeSuperadmin: DELETE /api/v1/users/{user_id}/superadmin.
func (id *Identity) revokeSuperadmin(c *gin.Context) error { return id.setSuperadmin(c, false) }

func (id *Identity) setSuperadmin(c *gin.Context, on bool) error {
	if err := id.d.Users.SetSuperadmin(c.Request.Context(), accounts.SetSuperadminInput{UserID: c.Param("user_id"), Superadmin: on, Actor: actor(c)}); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

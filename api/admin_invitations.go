package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

type invitationDTO struct {
	ID             string    `json:"id"`
	Email          string    `json:"email"`
	Role           string    `json:"role"`
	InvitedByEmail string    `json:"invited_by_email"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`
	// URL is the one-time link, set only in the answer that creates it: it is shown
	// once and stored only as a hash.
	URL string `json:"url,omitempty"`
}

func mapInvitation(inv accounts.Invitation) invitationDTO {
	return invitationDTO{ID: inv.ID, Email: inv.Email, Role: string(inv.Role), InvitedByEmail: inv.InvitedByEmail,
		CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

// linkURL is the console URL of a one-time link: the configured public URL, or the
// origin the caller reached this server at.
func (id *Identity) linkURL(c *gin.Context, l accounts.Link) string {
	return id.publicBase(c) + l.Path()
}

// publicBase is the configured public URL, or the origin the caller reached
// this server at.
func (id *Identity) publicBase(c *gin.Context) string {
	base := strings.TrimRight(id.d.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	return base
}

// listInvitations: GET /api/v1/tenants/{tenant}/invitations. Pending invitations.
func (id *Identity) listInvitations(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	invs, err := id.d.Users.PendingInvitations(c.Request.Context(), p.TenantID())
	if err != nil {
		return err
	}
	out := listResponse[invitationDTO]{Data: make([]invitationDTO, len(invs))}
	for i, inv := range invs {
		out.Data[i] = mapInvitation(inv)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type inviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// createInvitation: POST /api/v1/tenants/{tenant}/invitations. Returns the one-time
// link once; nothing about an existing account changes.
func (id *Identity) createInvitation(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req inviteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	link, err := id.d.Users.Invite(c.Request.Context(), accounts.InviteInput{TenantID: p.TenantID(), Email: req.Email,
		Role: access.Role(req.Role), MayManageOwners: id.may(c, p, access.ResourceMembers, access.ActionManageOwners), Actor: actor(c)})
	if err != nil {
		return err
	}
	out := mapInvitation(link.Invitation)
	out.URL = id.linkURL(c, link)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
	return nil
}

// revokeInvitation: DELETE /api/v1/tenants/{tenant}/invitations/{invitation_id}.
func (id *Identity) revokeInvitation(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if err := id.d.Users.RevokeInvitation(c.Request.Context(), accounts.RevokeInvitationInput{TenantID: p.TenantID(),
		InvitationID: c.Param("invitation_id"), Actor: actor(c)}); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

type linkRequest struct {
	Token string `json:"token"`
}

type linkSummaryDTO struct {
	Purpose        string    `json:"purpose"`
	Email          string    `json:"email"`
	Role           string    `json:"role,omitempty"`
	TenantSlug     string    `json:"tenant_slug,omitempty"`
	TenantName     string    `json:"tenant_name,omitempty"`
	InvitedByEmail string    `json:"invited_by_email"`
	ExpiresAt      time.Time `json:"expires_at"`
	AccountExists  bool      `json:"account_exists"`
}

// lookupLink: POST /api/v1/links/lookup (public). What a one-time link is for. The
// token travels in the body, never in a URL the server or a proxy would log.
func (id *Identity) lookupLink(c *gin.Context) error {
	var req linkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	s, err := id.d.Users.LookupLink(c.Request.Context(), seal.Secret(req.Token))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, linkSummaryDTO{Purpose: string(s.Purpose), Email: s.Email, Role: string(s.Role), TenantSlug: s.TenantSlug,
		TenantName: s.TenantName, InvitedByEmail: s.InvitedByEmail, ExpiresAt: s.ExpiresAt, AccountExists: s.AccountExists})
	return nil
}

type acceptLinkRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

type acceptLinkResponse struct {
	Purpose    string `json:"purpose"`
	Email      string `json:"email"`
	TenantSlug string `json:"tenant_slug,omitempty"`
	Role       string `json:"role,omitempty"`
	// Session signs in a user who has just set their password with the link.
	Session *tokenResponse `json:"session,omitempty"`
}

// acceptLink: POST /api/v1/links/accept (public). A new account sets its password;
// an existing account accepts an invitation with its own session (Authorization:
// Bearer) and no password; a reset link sets a new password.
func (id *Identity) acceptLink(c *gin.Context) error {
	var req acceptLinkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	in := accounts.AcceptLinkInput{Token: seal.Secret(req.Token), Password: seal.Secret(req.Password), Name: req.Name, IP: c.ClientIP()}
	if tok, ok := bearer(c); ok {
		if strings.HasPrefix(tok, apikeys.APIKeyPrefix) {
			return errkind.New(errkind.Unauthenticated, "accept an invitation with a user session, not an API key")
		}
		s, err := id.d.Sessions.Verify(ctx, tok)
		if err != nil {
			return err
		}
		in.SessionUserID = s.User.ID
	}
	res, err := id.d.Users.AcceptLink(ctx, in)
	if err != nil {
		return err
	}
	out := acceptLinkResponse{Purpose: string(res.Purpose), Email: res.User.Email, Role: string(res.Role)}
	if res.TenantID != "" {
		if t, err := id.d.Registry.Get(ctx, string(res.TenantID)); err == nil {
			out.TenantSlug = t.Slug
		}
	}
	if res.PasswordSet {
		pair, err := id.d.Sessions.Login(ctx, accounts.LoginInput{Email: res.User.Email, Password: in.Password, IP: c.ClientIP()})
		if err == nil {
			tr := mapTokens(pair)
			out.Session = &tr
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
	return nil
}

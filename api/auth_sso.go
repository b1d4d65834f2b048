package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants/sso"
)

// ssoCookie binds a single sign-on attempt to the browser that started it; it
// is sent only to the sign-on endpoints and never readable by script.
const (
	ssoCookie     = "tollgate_sso"
	ssoCookiePath = "/api/v1/auth/sso"
	// ssoCallbackPath is the redirect URI to register at the identity provider.
	ssoCallbackPath = "/api/v1/auth/sso/callback"
)

func (id *Identity) ssoService() (*sso.Service, error) {
	if id.d.SSO == nil {
		return nil, &errkind.Error{Kind: errkind.NotFound, Code: "sso_not_configured",
			Message: "single sign-on is not set up on this server; sign in with your password"}
	}
	return id.d.SSO, nil
}

// ssoRedirectURL is this server's callback URL, the same at start and callback.
func (id *Identity) ssoRedirectURL(c *gin.Context) string { return id.publicBase(c) + ssoCallbackPath }

func (id *Identity) setSSOCookie(c *gin.Context, value string, maxAge int) {
	secure := c.Request.TLS != nil || strings.HasPrefix(id.d.PublicURL, "https://")
	http.SetCookie(c.Writer, &http.Cookie{Name: ssoCookie, Value: value, Path: ssoCookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func ssoBrowser(c *gin.Context) seal.Secret {
	v, err := c.Cookie(ssoCookie)
	if err != nil {
		return ""
	}
	return seal.Secret(v)
}

type ssoInfoResponse struct {
	// Enabled says the sign-in page should offer "Sign in with SSO".
	Enabled bool `json:"enabled"`
	// Source is "environment" (one provider for this self-host server) or
	// "tenant" (each tenant configures its own), "" when disabled.
	Source string `json:"source"`
}

// ssoInfo: GET /api/v1/auth/sso. Whether the sign-in page offers single sign-on.
func (id *Identity) ssoInfo(c *gin.Context) error {
	out := ssoInfoResponse{}
	if id.d.SSO != nil && id.d.SSO.Store().Available() {
		out.Enabled, out.Source = true, "tenant"
		if id.d.SSO.Store().EnvConfigured() {
			out.Source = "environment"
		}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type ssoStartRequest struct {
	Email string `json:"email"`
	// Tenant (slug or id) is needed only when several tenants share the domain.
	Tenant string `json:"tenant"`
	// ReturnTo is the console path to open after signing in.
	ReturnTo string `json:"return_to"`
}

type ssoStartResponse struct {
	// AuthorizeURL is the identity provider's sign-in page; send the browser there.
	AuthorizeURL string `json:"authorize_url"`
}

// ssoStart: POST /api/v1/auth/sso/start {email, tenant?, return_to?}. Finds the
// email's identity provider and answers its authorization URL, setting the
// cookie that binds the attempt to this browser. Counted against the same
// per-IP sign-in limit as passwords.
func (id *Identity) ssoStart(c *gin.Context) error {
	svc, err := id.ssoService()
	if err != nil {
		return err
	}
	var req ssoStartRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := id.d.Sessions.Throttle(c.ClientIP(), "sso:"+req.Email); err != nil {
		return err
	}
	res, err := svc.Start(c.Request.Context(), sso.StartInput{Email: req.Email, Tenant: req.Tenant, ReturnTo: req.ReturnTo,
		RedirectURL: id.ssoRedirectURL(c)})
	if err != nil {
		return err
	}
	id.setSSOCookie(c, res.Browser.Reveal(), int(res.TTL.Seconds()))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, ssoStartResponse{AuthorizeURL: res.AuthURL})
	return nil
}

// ssoCallback: GET /api/v1/auth/sso/callback?code&state. The identity
// provider sends the browser here. On success the browser goes on to the
// console's /login/sso page with a one-time hand-off in the fragment (kept out
// of logs and Referer); on failure to /login with the reason.
func (id *Identity) ssoCallback(c *gin.Context) error {
	svc, err := id.ssoService()
	if err != nil {
		return err
	}
	res, err := svc.Callback(c.Request.Context(), sso.CallbackInput{State: c.Query("state"), Code: c.Query("code"),
		Error: c.Query("error"), ErrorDescription: c.Query("error_description"), Browser: ssoBrowser(c),
		RedirectURL: id.ssoRedirectURL(c), IP: c.ClientIP()})
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	if err != nil {
		msg := "single sign-on failed; try again"
		var e *errkind.Error
		if errors.As(err, &e) {
			msg = e.Message
		} else {
			id.d.Logger.ErrorContext(c.Request.Context(), "single sign-on callback failed", "error", err)
		}
		c.Redirect(http.StatusSeeOther, "/login?sso_error="+url.QueryEscape(msg))
		return nil
	}
	frag := url.Values{"handoff": {res.Handoff.Reveal()}}
	if res.ReturnTo != "" {
		frag.Set("next", res.ReturnTo)
	}
	c.Redirect(http.StatusSeeOther, "/login/sso#"+frag.Encode())
	return nil
}

type ssoExchangeRequest struct {
	Handoff string `json:"handoff"`
}

// ssoExchange: POST /api/v1/auth/sso/exchange {handoff}. Trades the one-time
// hand-off (from the browser that signed in) for the same token pair a
// password sign-in returns.
func (id *Identity) ssoExchange(c *gin.Context) error {
	svc, err := id.ssoService()
	if err != nil {
		return err
	}
	var req ssoExchangeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	pair, err := svc.Exchange(c.Request.Context(), sso.ExchangeInput{Handoff: seal.Secret(req.Handoff), Browser: ssoBrowser(c)})
	if err != nil {
		return err
	}
	id.setSSOCookie(c, "", -1)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, mapTokens(pair))
	return nil
}

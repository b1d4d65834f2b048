package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
}

func mapTokens(p accounts.TokenPair) tokenResponse {
	return tokenResponse{AccessToken: p.AccessToken.Reveal(), RefreshToken: p.RefreshToken.Reveal(), TokenType: "Bearer",
		ExpiresIn: int64(p.ExpiresIn / time.Second)}
}

// login: POST /api/v1/auth/login.
func (id *Identity) login(c *gin.Context) error {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	pair, err := id.d.Sessions.Login(c.Request.Context(), accounts.LoginInput{Email: req.Email,
		Password: seal.Secret(req.Password), IP: c.ClientIP()})
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, mapTokens(pair))
	return nil
}

// refresh: POST /api/v1/auth/refresh.
func (id *Identity) refresh(c *gin.Context) error {
	var req refreshRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	pair, err := id.d.Sessions.Refresh(c.Request.Context(), seal.Secret(req.RefreshToken))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, mapTokens(pair))
	return nil
}

// logout: POST /api/v1/auth/logout. Revokes the session's refresh family and with
// it every access token of the session.
func (id *Identity) logout(c *gin.Context) error {
	var req refreshRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := id.d.Sessions.Logout(c.Request.Context(), seal.Secret(req.RefreshToken)); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

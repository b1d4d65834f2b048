package worker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is returned when a webhook resolves to an address the worker
// will not reach (loopback, private, link-local, CGNAT, multicast, unspecified).
var ErrPrivateAddress = errors.New("webhook address is private, loopback or link-local; set TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1 to allow it")

// cgnat is 100.64.0.0/10 (carrier-grade NAT), private in all but name.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// PublicAddr reports whether ip is a public unicast address: where alert webhooks
// may go unless the operator allows private ones.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified() && !cgnat.Contains(ip)
}

// NewWebhookClient returns the HTTP client alerts (and the console's test
// deliveries) are posted with. Unless
// allowPrivate, its dialer checks every address it connects to, after DNS
// resolution (so a hostname that resolves, or re-resolves, to 127.0.0.1 or
// 169.254.169.254 is refused), and it uses no proxy and follows no redirect.
func NewWebhookClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return fmt.Errorf("%w (%s)", ErrPrivateAddress, address)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          10,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// SignatureHeader is the header carrying a delivery's signature.
const SignatureHeader = "X-Tollgate-Signature"

// Sign returns the X-Tollgate-Signature value of body sent at t with secret:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">". Receivers
// recompute v1 and reject stale t to stop replays.
func Sign(secret string, t time.Time, body []byte) string {
	ts := fmt.Sprintf("%d", t.Unix())
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

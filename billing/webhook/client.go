package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateAddress is returned when a webhook resolves to an address the worker
// will not reach (loopback, private, link-local, CGNAT, multicast, unspecified,
// reserved, or an IPv6 form that embeds an IPv4 address).
var ErrPrivateAddress = errors.New("webhook address is private, loopback or link-local; set TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1 to allow it")

// blockedPrefixes are the ranges alert webhooks may not reach beyond those netip's
// predicates name (private, loopback, link-local, multicast, unspecified). The
// IPv6 forms that embed an IPv4 address are refused whole: through NAT64, 6to4 or
// Teredo, or read as IPv4-mapped, they can reach 127.0.0.1 or 169.254.169.254.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, private in all but name
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated), ::, ::1
	netip.MustParsePrefix("::ffff:0:0/96"),  // IPv4-mapped
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/32"),      // Teredo
	netip.MustParsePrefix("2001:2::/48"),    // benchmarking
	netip.MustParsePrefix("2002::/16"),      // 6to4
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
}

// PublicAddr reports whether ip is a public unicast address: where alert webhooks
// may go unless the operator allows private ones.
func PublicAddr(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// privateSuffixes are special-use names that never name a public host.
var privateSuffixes = []string{".localhost", ".internal", ".local", ".home.arpa"}

// PrivateHostname reports whether host is a name for this machine or a private
// network ("localhost", "*.internal", "*.local", "*.home.arpa"), with or without
// the trailing dot of a fully qualified name ("localhost.").
func PrivateHostname(host string) bool {
	host = strings.ToLower(strings.TrimRight(host, "."))
	if host == "localhost" {
		return true
	}
	for _, s := range privateSuffixes {
		if host == s[1:] || strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// NewClient returns the HTTP client alerts (and the console's test
// deliveries) are posted with. Unless
// allowPrivate, its dialer checks every address it connects to, after DNS
// resolution (so a hostname that resolves, or re-resolves, to 127.0.0.1 or
// 169.254.169.254 is refused), and it uses no proxy and follows no redirect.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
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

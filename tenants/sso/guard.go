package sso

import (
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// guardedClient calls tenants' providers: a tenant admin chooses the issuer,
// so its address is checked after resolution, at dial time (a name that
// resolves to an inside address, or re-resolves to one later, is refused).
func guardedClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return errPrivateAddress
		}
		a := ap.Addr().Unmap()
		if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a.IsMulticast() ||
			(a.Is4() && a.As4()[0] == 100 && a.As4()[1]&0xc0 == 64) { // carrier-grade NAT 100.64/10
			return errPrivateAddress
		}
		return nil
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = d.DialContext
	return &http.Client{Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

package webhook

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicAddr: every range a webhook could use to reach the host, its network
// or a cloud metadata service is refused, including the IPv6 forms that embed an
// IPv4 address; ordinary public addresses pass.
func TestPublicAddr(t *testing.T) {
	t.Parallel()
	for addr, public := range map[string]bool{
		// Public.
		"8.8.8.8":              true,
		"1.1.1.1":              true,
		"203.0.113.7":          true,
		"2606:4700:4700::1111": true,
		"2001:4860:4860::8888": true,
		// The ranges refused before.
		"127.0.0.1":       false,
		"10.1.2.3":        false,
		"172.16.0.1":      false,
		"192.168.1.1":     false,
		"169.254.169.254": false,
		"100.64.0.1":      false, // CGNAT
		"224.0.0.1":       false,
		"::1":             false,
		"fc00::1":         false, // ULA
		"fd00:ec2::254":   false, // AWS metadata over IPv6 (ULA)
		"fe80::1":         false,
		"ff02::1":         false,
		"::":              false,
		// IPv4 ranges added.
		"0.0.0.0":         false,
		"0.1.2.3":         false, // "this network"
		"192.0.0.1":       false, // IETF protocol assignments
		"192.0.0.170":     false, // NAT64 discovery
		"198.18.0.1":      false, // benchmarking
		"198.19.255.254":  false,
		"240.0.0.1":       false, // reserved
		"255.255.255.255": false,
		// IPv6 forms embedding IPv4 (here all 127.0.0.1 or 169.254.169.254).
		"::ffff:127.0.0.1":     false, // IPv4-mapped
		"::ffff:8.8.8.8":       false, // mapped, even to a public address
		"::127.0.0.1":          false, // IPv4-compatible
		"::a9fe:a9fe":          false,
		"64:ff9b::7f00:1":      false, // NAT64
		"64:ff9b::a9fe:a9fe":   false,
		"64:ff9b:1::a9fe:a9fe": false, // local-use NAT64
		"2002:7f00:1::1":       false, // 6to4
		"2002:a9fe:a9fe::":     false,
		"2001:0:4136:e378::1":  false, // Teredo
		"2001:2::1":            false, // benchmarking
		"fec0::1":              false, // site-local
		"100::1":               false, // discard-only
	} {
		ip, err := netip.ParseAddr(addr)
		require.NoError(t, err, addr)
		require.Equal(t, public, PublicAddr(ip), addr)
	}
	require.False(t, PublicAddr(netip.Addr{}), "the zero address")
}

// TestPrivateHostname: names of this machine or a private network are refused,
// with or without the trailing dot of a fully qualified name.
func TestPrivateHostname(t *testing.T) {
	t.Parallel()
	for host, private := range map[string]bool{
		"localhost":                 true,
		"localhost.":                true,
		"LOCALHOST..":               true,
		"api.localhost":             true,
		"api.localhost.":            true,
		"foo.internal":              true,
		"foo.internal.":             true,
		"metadata.google.internal.": true,
		"printer.local.":            true,
		"router.home.arpa":          true,
		"internal":                  true,
		"hooks.example.com":         false,
		"hooks.example.com.":        false,
		"internal.example.com":      false,
		"notlocalhost.com":          false,
		"localhost.example.com":     false,
	} {
		require.Equal(t, private, PrivateHostname(host), host)
	}
}

package ledger

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewRequestID returns the server's id for a request made at: "req_" and 16
// bytes in hex, the time in milliseconds (6 bytes, big-endian) then 10 random
// bytes. Leading with the time puts each new ledger row at the end of the
// request-id index instead of on a random page of it (half the index pages
// written per batch); the 80 random bits keep ids of the same millisecond, on
// any number of replicas, from colliding.
func NewRequestID(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli()) //nolint:gosec // times before 1970 are not served
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return "req_" + hex.EncodeToString(b[:])
}

package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// Event types, sent in X-Tollgate-Event and as the body's "type".
const (
	EventBudgetAlert = "budget.alert"
	EventTest        = "webhook.test"
)

// secretPrefix marks Tollgate webhook signing secrets.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: 32 random bytes.
func NewSecret() (seal.Secret, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return seal.Secret(secretPrefix + base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// CheckURL validates what a tenant may point alerts at: http(s), no credentials
// in the URL, and (unless allowPrivate) no private, loopback or link-local host.
// Names are resolved here for a clear error now; NewClient checks the resolved
// address again at every delivery, so DNS that changes later is refused then.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	var errs []error
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case raw == "":
		errs = append(errs, errors.New("url is required"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		errs = append(errs, errors.New("url must be an absolute http:// or https:// URL"))
	case u.User != nil:
		errs = append(errs, errors.New("url must not carry credentials; the signature authenticates deliveries"))
	case len(raw) > 2048:
		errs = append(errs, errors.New("url must be at most 2048 characters"))
	case !allowPrivate:
		// "localhost." and "127.0.0.1." are the same hosts as without the dot.
		host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
		if ip, perr := netip.ParseAddr(host); perr == nil {
			if !PublicAddr(ip) {
				errs = append(errs, ErrPrivateAddress)
			}
			break
		}
		if PrivateHostname(host) {
			errs = append(errs, ErrPrivateAddress)
			break
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		// A name that does not resolve yet is accepted: delivery will say why it fails.
		if addrs, lerr := net.DefaultResolver.LookupNetIP(rctx, "ip", host); lerr == nil {
			for _, ip := range addrs {
				if !PublicAddr(ip) {
					errs = append(errs, fmt.Errorf("%w (%s resolves to %s)", ErrPrivateAddress, host, ip))
					break
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid webhook: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// NewRequest builds one signed delivery of body to hook: a POST with the event
// type, the delivery id and X-Tollgate-Signature computed at now.
func NewRequest(ctx context.Context, hook Webhook, event, deliveryID string, body []byte, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "the stored webhook URL is not usable; set a new one")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tollgate-Webhook/1")
	req.Header.Set("X-Tollgate-Event", event)
	req.Header.Set("X-Tollgate-Delivery", deliveryID)
	req.Header.Set(SignatureHeader, Sign(hook.Secret.Reveal(), now, body))
	return req, nil
}

// Post sends one signed delivery with client and returns the endpoint's HTTP
// status (0 when no answer came). Any status other than 2xx is an error;
// ErrPrivateAddress when the dialer refused the address.
func Post(ctx context.Context, client *http.Client, hook Webhook, event, deliveryID string, body []byte, now time.Time) (int, error) {
	req, err := NewRequest(ctx, hook, event, deliveryID, body, now)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

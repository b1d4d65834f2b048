// Package tenants owns tenants, their provisioning (a Postgres schema or a SQLite
// file each, with the tenant migrations applied) and the only way to reach a
// tenant's data: a Handle built from an authenticated Principal. It also holds the
// principal's context inject/extract pair, the per-tenant settings cache, the
// identity change feed and list paging. Identity lives in its subpackages
// (accounts, access, apikeys, audit), which import tenants, never the reverse.
package tenants

import (
	"regexp"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID identifies a tenant: a lowercase ULID, never user text.
type ID string

// Status is a tenant's lifecycle state.
type Status string

// Statuses.
const (
	// StatusActive tenants are served.
	StatusActive Status = "active"
	// StatusSuspended tenants keep their data but every request is refused.
	StatusSuspended Status = "suspended"
)

// Tenant is one customer organisation.
type Tenant struct {
	ID         ID
	Slug       string
	Name       string
	SchemaName string
	// Cluster is the Postgres cluster that holds the schema (MainCluster: the
	// control database). Empty when the tenant came from a key or session lookup:
	// handles resolve the cluster through the registry, never from this field.
	Cluster string
	Status  Status
	// StripeCustomerID is empty until the first invoice run creates the customer.
	StripeCustomerID string
	BillingEmail     string
	// Plan is the tenant's pricing plan as JSON (markup, per-model prices, fee).
	Plan        string
	CreatedAt   time.Time
	SuspendedAt *time.Time
}

var (
	slugStrip = regexp.MustCompile(`[^a-z0-9]+`)
)

// NewID returns a fresh tenant id.
func NewID() ID { return ID(strings.ToLower(ulid.Make().String())) }

// Valid reports whether id has the generated shape. Anything else (user text, "..",
// quotes, "public") is rejected before it reaches a query.
// Every request checks it (Registry.Handle), so it is a loop, not a regexp:
// 26 of [0-9a-z].
func (id ID) Valid() bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// SchemaName returns the tenant's Postgres schema name (and SQLite file stem).
func (id ID) SchemaName() string { return "t_" + string(id) }

// ValidSchemaName reports whether s is a generated schema name. Every schema name is
// checked with it right before it is spliced into SQL.
// It is "t_" and a valid ID.
func ValidSchemaName(s string) bool { return len(s) == 28 && s[:2] == "t_" && ID(s[2:]).Valid() }

// Slugify makes the URL-safe slug of a tenant name: lowercase letters, digits and
// dashes, at most 40 characters.
func Slugify(name string) string {
	s := slugStrip.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-")
	s = strings.Trim(s, "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	return s
}

// NewULID returns a fresh lowercase ULID, the id format of users and keys.
func NewULID() string { return strings.ToLower(ulid.Make().String()) }

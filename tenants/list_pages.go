package tenants

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// PageInput is one page of a list: at most Limit items after Cursor (opaque, from
// the previous page's NextCursor), matching Query (a case-insensitive substring).
type PageInput struct {
	Query string
	// Limit is 1..500; 0 means 50.
	Limit  int
	Cursor string
}

// Size is the page size to fetch: Limit, or 50 when it is unset or out of range.
func (in PageInput) Size() int {
	if in.Limit <= 0 || in.Limit > 500 {
		return 50
	}
	return in.Limit
}

// After decodes the cursor: the sort key of the last item of the previous page.
func (in PageInput) After() (string, error) {
	if in.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(in.Cursor)
	if err != nil || len(b) == 0 || len(b) > 320 {
		return "", errkind.New(errkind.Invalid, "cursor is not one this API returned; start again without it")
	}
	return string(b), nil
}

// PageCursor encodes a sort key as the opaque cursor After decodes.
func PageCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// LikePattern turns a search query into a case-insensitive LIKE substring pattern,
// with the wildcards in q escaped.
func LikePattern(q string) string {
	q = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(strings.TrimSpace(q)))
	return "%" + q + "%"
}

// TenantPage is one page of tenants, ordered by slug.
type TenantPage struct {
	Tenants    []Tenant
	NextCursor string
}

// Page lists tenants by slug, searchable by name or slug, with keyset pagination.
func (r *Registry) Page(ctx context.Context, in PageInput) (TenantPage, error) {
	after, err := in.After()
	if err != nil {
		return TenantPage{}, err
	}
	q := r.db.Gorm.WithContext(ctx).Model(&TenantRow{})
	if in.Query != "" {
		p := LikePattern(in.Query)
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR slug LIKE ? ESCAPE '\')`, p, p)
	}
	if after != "" {
		q = q.Where("slug > ?", after)
	}
	var rows []TenantRow
	if err := q.Order("slug").Limit(in.Size() + 1).Find(&rows).Error; err != nil {
		return TenantPage{}, err
	}
	page := TenantPage{Tenants: []Tenant{}}
	for i, row := range rows {
		if i == in.Size() {
			page.NextCursor = PageCursor(rows[i-1].Slug)
			break
		}
		page.Tenants = append(page.Tenants, MapTenantRow(row))
	}
	return page, nil
}

// ListLimit applies the default and cap of list endpoints.
func ListLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 200)
}

// ValidateList checks the common list inputs.
func ValidateList(tenant ID, limit int, cursor, query string, cursorOK func(string) bool) error {
	var errs []error
	if !tenant.Valid() {
		errs = append(errs, errors.New("tenant is required"))
	}
	return errkind.JoinInvalid("invalid list request", append(errs, ListProblems(limit, cursor, query, cursorOK)...))
}

// ListProblems lists what is wrong with a page request's limit, cursor and query.
func ListProblems(limit int, cursor, query string, cursorOK func(string) bool) []error {
	var errs []error
	if limit < 0 || limit > 200 {
		errs = append(errs, errors.New("limit must be between 1 and 200"))
	}
	if cursor != "" && !cursorOK(cursor) {
		errs = append(errs, errors.New("cursor is not one this API returned; start again without it"))
	}
	if len(query) > 100 {
		errs = append(errs, errors.New("q must be at most 100 characters"))
	}
	return errs
}

// EscapeLike escapes LIKE wildcards in user text (with '\' as the escape character).
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// NowUTC is the current time in UTC, truncated to microseconds (Postgres' precision),
// so a value read back equals the value written and keyset cursors are exact.
func NowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

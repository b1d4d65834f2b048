package tenants

import (
	"context"
	"encoding/base64"
	"strings"

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

func (in PageInput) limit() int {
	if in.Limit <= 0 || in.Limit > 500 {
		return 50
	}
	return in.Limit
}

// after decodes the cursor: the sort key of the last item of the previous page.
func (in PageInput) after() (string, error) {
	if in.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(in.Cursor)
	if err != nil || len(b) == 0 || len(b) > 320 {
		return "", errkind.New(errkind.Invalid, "cursor is not one this API returned; start again without it")
	}
	return string(b), nil
}

func pageCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func likePattern(q string) string {
	q = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(strings.TrimSpace(q)))
	return "%" + q + "%"
}

// MemberPage is one page of members, ordered by email.
type MemberPage struct {
	Members    []Member
	NextCursor string
}

// MembersPage lists a tenant's members by email, searchable by email or name, with
// keyset pagination (email is unique), so a tenant of any size pages in constant time.
func (s *Users) MembersPage(ctx context.Context, tenant ID, in PageInput) (MemberPage, error) {
	after, err := in.after()
	if err != nil {
		return MemberPage{}, err
	}
	q := s.db.Gorm.WithContext(ctx).Table("memberships m").
		Select("m.tenant_id, m.user_id, m.role, m.created_at, u.email, u.name").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.tenant_id = ?", string(tenant))
	if in.Query != "" {
		p := likePattern(in.Query)
		q = q.Where(`(LOWER(u.email) LIKE ? ESCAPE '\' OR LOWER(u.name) LIKE ? ESCAPE '\')`, p, p)
	}
	if after != "" {
		q = q.Where("u.email > ?", after)
	}
	var rows []memberRow
	if err := q.Order("u.email").Limit(in.limit() + 1).Scan(&rows).Error; err != nil {
		return MemberPage{}, err
	}
	page := MemberPage{Members: []Member{}}
	for i, r := range rows {
		if i == in.limit() {
			page.NextCursor = pageCursor(rows[i-1].Email)
			break
		}
		page.Members = append(page.Members, Member{Membership: Membership{TenantID: ID(r.TenantID), UserID: r.UserID,
			Role: Role(r.Role), CreatedAt: r.CreatedAt.UTC()}, Email: r.Email, Name: r.Name})
	}
	return page, nil
}

// TenantPage is one page of tenants, ordered by slug.
type TenantPage struct {
	Tenants    []Tenant
	NextCursor string
}

// Page lists tenants by slug, searchable by name or slug, with keyset pagination.
func (r *Registry) Page(ctx context.Context, in PageInput) (TenantPage, error) {
	after, err := in.after()
	if err != nil {
		return TenantPage{}, err
	}
	q := r.db.Gorm.WithContext(ctx).Model(&tenantRow{})
	if in.Query != "" {
		p := likePattern(in.Query)
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR slug LIKE ? ESCAPE '\')`, p, p)
	}
	if after != "" {
		q = q.Where("slug > ?", after)
	}
	var rows []tenantRow
	if err := q.Order("slug").Limit(in.limit() + 1).Find(&rows).Error; err != nil {
		return TenantPage{}, err
	}
	page := TenantPage{Tenants: []Tenant{}}
	for i, row := range rows {
		if i == in.limit() {
			page.NextCursor = pageCursor(rows[i-1].Slug)
			break
		}
		page.Tenants = append(page.Tenants, mapTenant(row))
	}
	return page, nil
}

// UserPage is one page of users (platform view), ordered by email.
type UserPage struct {
	Users      []User
	NextCursor string
}

// UsersPage lists every user by email, searchable by email or name, with keyset
// pagination (email is unique).
func (s *Users) UsersPage(ctx context.Context, in PageInput) (UserPage, error) {
	after, err := in.after()
	if err != nil {
		return UserPage{}, err
	}
	q := s.db.Gorm.WithContext(ctx).Model(&userRow{})
	if in.Query != "" {
		p := likePattern(in.Query)
		q = q.Where(`(LOWER(email) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, p, p)
	}
	if after != "" {
		q = q.Where("email > ?", after)
	}
	var rows []userRow
	if err := q.Order("email").Limit(in.limit() + 1).Find(&rows).Error; err != nil {
		return UserPage{}, err
	}
	page := UserPage{Users: []User{}}
	for i, row := range rows {
		if i == in.limit() {
			page.NextCursor = pageCursor(rows[i-1].Email)
			break
		}
		page.Users = append(page.Users, mapUser(row))
	}
	return page, nil
}

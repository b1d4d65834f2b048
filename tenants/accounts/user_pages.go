package accounts

import (
	"context"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// MemberPage is one page of members, ordered by email.
type MemberPage struct {
	Members    []Member
	NextCursor string
}

// MembersPage lists a tenant's members by email, searchable by email or name, with
// keyset pagination (email is unique), so a tenant of any size pages in constant time.
func (s *Users) MembersPage(ctx context.Context, tenant tenants.ID, in tenants.PageInput) (MemberPage, error) {
	after, err := in.After()
	if err != nil {
		return MemberPage{}, err
	}
	q := s.db.Gorm.WithContext(ctx).Table("memberships m").
		Select("m.tenant_id, m.user_id, m.role, m.created_at, u.email, u.name").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.tenant_id = ?", string(tenant))
	if in.Query != "" {
		p := tenants.LikePattern(in.Query)
		q = q.Where(`(LOWER(u.email) LIKE ? ESCAPE '\' OR LOWER(u.name) LIKE ? ESCAPE '\')`, p, p)
	}
	if after != "" {
		q = q.Where("u.email > ?", after)
	}
	var rows []memberRow
	if err := q.Order("u.email").Limit(in.Size() + 1).Scan(&rows).Error; err != nil {
		return MemberPage{}, err
	}
	page := MemberPage{Members: []Member{}}
	for i, r := range rows {
		if i == in.Size() {
			page.NextCursor = tenants.PageCursor(rows[i-1].Email)
			break
		}
		page.Members = append(page.Members, Member{Membership: Membership{TenantID: tenants.ID(r.TenantID), UserID: r.UserID,
			Role: access.Role(r.Role), CreatedAt: r.CreatedAt.UTC()}, Email: r.Email, Name: r.Name})
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
func (s *Users) UsersPage(ctx context.Context, in tenants.PageInput) (UserPage, error) {
	after, err := in.After()
	if err != nil {
		return UserPage{}, err
	}
	q := s.db.Gorm.WithContext(ctx).Model(&userRow{})
	if in.Query != "" {
		p := tenants.LikePattern(in.Query)
		q = q.Where(`(LOWER(email) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, p, p)
	}
	if after != "" {
		q = q.Where("email > ?", after)
	}
	var rows []userRow
	if err := q.Order("email").Limit(in.Size() + 1).Find(&rows).Error; err != nil {
		return UserPage{}, err
	}
	page := UserPage{Users: []User{}}
	for i, row := range rows {
		if i == in.Size() {
			page.NextCursor = tenants.PageCursor(rows[i-1].Email)
			break
		}
		page.Users = append(page.Users, mapUser(row))
	}
	return page, nil
}

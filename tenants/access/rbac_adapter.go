package access

import (
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// casbinRule is one row of casbin_rule (created by the control-plane migrations).
// Unused trailing values are stored as "" rather than NULL so that the unique index
// over (ptype, v0..v5) also catches duplicate short rules.
type casbinRule struct {
	ID    int64  `gorm:"primaryKey"`
	Ptype string `gorm:"column:ptype"`
	V0    string `gorm:"column:v0"`
	V1    string `gorm:"column:v1"`
	V2    string `gorm:"column:v2"`
	V3    string `gorm:"column:v3"`
	V4    string `gorm:"column:v4"`
	V5    string `gorm:"column:v5"`
}

// TableName pins the table the migrations create.
func (casbinRule) TableName() string { return "casbin_rule" }

// values returns the rule's non-empty trailing values in order.
func (r casbinRule) values() []string {
	vs := []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
	n := len(vs)
	for n > 0 && vs[n-1] == "" {
		n--
	}
	return vs[:n]
}

func newCasbinRule(ptype string, rule []string) (casbinRule, error) {
	if len(rule) > 6 {
		return casbinRule{}, fmt.Errorf("casbin rule has %d values; at most 6 are stored", len(rule))
	}
	r := casbinRule{Ptype: ptype}
	dst := []*string{&r.V0, &r.V1, &r.V2, &r.V3, &r.V4, &r.V5}
	for i, v := range rule {
		*dst[i] = v
	}
	return r, nil
}

// ruleAdapter persists Casbin policies in casbin_rule over Tollgate's own gorm
// handle. It replaces Casbin's gorm adapter, which links the MySQL and SQL Server
// drivers into the binary; it needs only the five persist.Adapter methods and the
// two batch ones the enforcer uses when seeding.
type ruleAdapter struct {
	db *gorm.DB
}

var _ persist.BatchAdapter = (*ruleAdapter)(nil)

// LoadPolicy reads every stored rule into m.
func (a *ruleAdapter) LoadPolicy(m model.Model) error {
	var rows []casbinRule
	if err := a.db.Order("id").Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if err := persist.LoadPolicyArray(append([]string{r.Ptype}, r.values()...), m); err != nil {
			return err
		}
	}
	return nil
}

// SavePolicy replaces every stored rule with those in m, in one transaction.
func (a *ruleAdapter) SavePolicy(m model.Model) error {
	var rows []casbinRule
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, rule := range ast.Policy {
				r, err := newCasbinRule(ptype, rule)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
		}
	}
	return a.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("1 = 1").Delete(&casbinRule{}).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Create(&rows).Error
	})
}

// AddPolicy stores one rule; a rule that is already stored is left as it is.
func (a *ruleAdapter) AddPolicy(_ string, ptype string, rule []string) error {
	return a.AddPolicies("", ptype, [][]string{rule})
}

// AddPolicies stores rules; those already stored (another replica seeding at the
// same time) are skipped.
func (a *ruleAdapter) AddPolicies(_ string, ptype string, rules [][]string) error {
	if len(rules) == 0 {
		return nil
	}
	rows := make([]casbinRule, 0, len(rules))
	for _, rule := range rules {
		r, err := newCasbinRule(ptype, rule)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	return a.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
}

// RemovePolicy deletes one rule.
func (a *ruleAdapter) RemovePolicy(_ string, ptype string, rule []string) error {
	return a.RemovePolicies("", ptype, [][]string{rule})
}

// RemovePolicies deletes rules in one transaction.
func (a *ruleAdapter) RemovePolicies(_ string, ptype string, rules [][]string) error {
	return a.db.Transaction(func(tx *gorm.DB) error {
		for _, rule := range rules {
			r, err := newCasbinRule(ptype, rule)
			if err != nil {
				return err
			}
			if err := tx.Where("ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = ? AND v5 = ?",
				r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5).Delete(&casbinRule{}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveFilteredPolicy deletes the rules whose values from fieldIndex on match
// fieldValues ("" matches anything).
func (a *ruleAdapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > 6 {
		return errors.New("casbin filter is out of range")
	}
	q := a.db.Where("ptype = ?", ptype)
	for i, v := range fieldValues {
		if v != "" {
			q = q.Where(fmt.Sprintf("v%d = ?", fieldIndex+i), v)
		}
	}
	return q.Delete(&casbinRule{}).Error
}

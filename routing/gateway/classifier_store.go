package gateway

import (
	"context"
	"errors"
	"regexp"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

var classifierName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// InstallClassifier stores a trained model file (tollgate route train) as the
// tenant's classifier name; a policy selects it with "classifier": name.
// Installing under an existing name replaces the model.
func InstallClassifier(ctx context.Context, h *tenants.Handle, name string, model []byte, now time.Time) (*routing.Classifier, error) {
	if !classifierName.MatchString(name) || name == "builtin" {
		return nil, errkind.InvalidParam("name", `classifier name must be 1-64 lowercase letters, digits, ".", "_" or "-" (and not "builtin")`)
	}
	c, err := routing.ParseClassifier(model)
	if err != nil {
		return nil, err
	}
	c.Name = name
	err = h.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO route_classifiers (name, model, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET model = excluded.model, created_at = excluded.created_at`, name, model, now.UTC()).Error
	})
	return c, err
}

// loadClassifier reads the tenant's classifier name; NotFound when missing.
func loadClassifier(ctx context.Context, h *tenants.Handle, name string) (*routing.Classifier, error) {
	var rows []struct{ Model []byte }
	if err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Raw("SELECT model FROM route_classifiers WHERE name = ?", name).Scan(&rows).Error
	}); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errkind.New(errkind.NotFound, "routing classifier %q is not installed; install it with `tollgate route install --name %s`", name, name)
	}
	c, err := routing.ParseClassifier(rows[0].Model)
	if err != nil {
		return nil, err
	}
	c.Name = name
	return c, nil
}

// attachClassifier loads the classifier the policy names. A classifier that
// went missing after the policy was saved leaves the built-in one in force
// rather than failing requests.
func attachClassifier(ctx context.Context, h *tenants.Handle, p routing.Policy) (routing.Policy, error) {
	if p.Classifier == "" {
		return p, nil
	}
	c, err := loadClassifier(ctx, h, p.Classifier)
	if errors.Is(err, errkind.NotFound) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	return p.WithModel(c), nil
}

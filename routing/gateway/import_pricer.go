package gateway

import (
	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/routing"
)

// ImportPricer prices imported usage (billing/usageimport) at a catalog's
// prices, normally the tenant's (TenantCatalog), resolving other gateways'
// model names with Catalog.Resolve.
type ImportPricer struct {
	Catalog *routing.Catalog
}

// Price returns the catalog id name resolves to and the cost of the tokens.
func (p ImportPricer) Price(name string, input, cached, output int64) (string, billing.NanoUSD, bool) {
	m, ok := p.Catalog.Resolve(name)
	if !ok {
		return "", 0, false
	}
	return m.ID, m.Cost(int(input), int(cached), int(output)), true
}

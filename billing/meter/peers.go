package meter

import (
	"context"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Peers is the durable record, outside Redis, of which lease-meter instances may
// hold budget of a tenant (leases, live reservations, spending not yet flushed).
//
// Why: when Redis loses a tenant's counters, only the instances themselves know
// what they hold; each puts it back when it notices the loss. An instance that
// recovers the tenant must not lease again until every peer holding budget of it
// has done so, or the two together could pass a hard limit. Waiting a fixed time
// for them fails under load (a starved peer notices late); the peer list makes the
// wait exact: the recovering instance waits for exactly the live holders, and a
// crashed holder stops counting once its heartbeat is older than the live window.
type Peers interface {
	// Join records, durably before it returns, that instance may hold budget of
	// the tenant. Idempotent.
	Join(ctx context.Context, instance, tenantID string) error
	// Leave forgets instance's record of the tenants (it holds nothing of them).
	Leave(ctx context.Context, instance string, tenantIDs []string) error
	// Beat marks instance alive now.
	Beat(ctx context.Context, instance string) error
	// Retire removes instance and its records (graceful shutdown).
	Retire(ctx context.Context, instance string) error
	// Holders returns the live instances that joined the tenant.
	Holders(ctx context.Context, tenantID string) ([]string, error)
}

// PeerLiveWindow is how long after its last heartbeat an instance still counts as
// alive; instances beat every PeerBeatEvery.
const (
	PeerLiveWindow = 8 * time.Second
	PeerBeatEvery  = time.Second
)

// MemoryPeers is Peers for instances in one process (tests): an instance is
// alive from its first Join or Beat until Retire or Kill.
type MemoryPeers struct {
	mu      sync.Mutex
	alive   map[string]bool
	holders map[string]map[string]bool // tenant -> instances
}

// NewMemoryPeers returns an empty in-process peer record.
func NewMemoryPeers() *MemoryPeers {
	return &MemoryPeers{alive: map[string]bool{}, holders: map[string]map[string]bool{}}
}

func (p *MemoryPeers) Join(_ context.Context, instance, tenantID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alive[instance] = true
	if p.holders[tenantID] == nil {
		p.holders[tenantID] = map[string]bool{}
	}
	p.holders[tenantID][instance] = true
	return nil
}

func (p *MemoryPeers) Leave(_ context.Context, instance string, tenantIDs []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range tenantIDs {
		delete(p.holders[t], instance)
	}
	return nil
}

func (p *MemoryPeers) Beat(_ context.Context, instance string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alive[instance] = true
	return nil
}

func (p *MemoryPeers) Retire(_ context.Context, instance string) error {
	p.Kill(instance)
	return nil
}

// Kill marks instance dead without removing its records, as a crash would once
// its heartbeat is older than the live window.
func (p *MemoryPeers) Kill(instance string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.alive, instance)
}

func (p *MemoryPeers) Holders(_ context.Context, tenantID string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for inst := range p.holders[tenantID] {
		if p.alive[inst] {
			out = append(out, inst)
		}
	}
	slices.Sort(out)
	return out, nil
}

// SQLPeers keeps Peers in the control database (tables meter_instances and
// meter_holders), Postgres or SQLite. Heartbeats are written with this process's
// clock: replicas must keep their clocks in sync (NTP), well within PeerLiveWindow.
type SQLPeers struct {
	db  *gorm.DB
	now func() time.Time
}

// NewSQLPeers returns Peers over the control database.
func NewSQLPeers(db *gorm.DB) *SQLPeers { return NewSQLPeersAt(db, time.Now) }

// NewSQLPeersAt is NewSQLPeers with the clock heartbeats are written and read with.
func NewSQLPeersAt(db *gorm.DB, now func() time.Time) *SQLPeers { return &SQLPeers{db: db, now: now} }

type meterInstance struct {
	InstanceID string `gorm:"column:instance_id;primaryKey"`
	BeatAtMs   int64  `gorm:"column:beat_at_ms"`
}

func (meterInstance) TableName() string { return "meter_instances" }

type meterHolder struct {
	TenantID   string `gorm:"column:tenant_id;primaryKey"`
	InstanceID string `gorm:"column:instance_id;primaryKey"`
}

func (meterHolder) TableName() string { return "meter_holders" }

func (p *SQLPeers) beat(db *gorm.DB, instance string) error {
	return db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "instance_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"beat_at_ms"}),
	}).Create(&meterInstance{InstanceID: instance, BeatAtMs: p.now().UnixMilli()}).Error
}

func (p *SQLPeers) Join(ctx context.Context, instance, tenantID string) error {
	return p.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := p.beat(tx, instance); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&meterHolder{TenantID: tenantID, InstanceID: instance}).Error
	})
}

func (p *SQLPeers) Leave(ctx context.Context, instance string, tenantIDs []string) error {
	if len(tenantIDs) == 0 {
		return nil
	}
	return p.db.WithContext(ctx).Where("instance_id = ? AND tenant_id IN ?", instance, tenantIDs).Delete(&meterHolder{}).Error
}

// Beat marks instance alive and, now and then, forgets instances dead for an hour.
func (p *SQLPeers) Beat(ctx context.Context, instance string) error {
	db := p.db.WithContext(ctx)
	if err := p.beat(db, instance); err != nil {
		return err
	}
	if p.now().Second()%30 == 0 {
		cutoff := p.now().Add(-time.Hour).UnixMilli()
		dead := db.Model(&meterInstance{}).Select("instance_id").Where("beat_at_ms < ?", cutoff)
		if err := db.Where("instance_id IN (?)", dead).Delete(&meterHolder{}).Error; err != nil {
			return err
		}
		return db.Where("beat_at_ms < ?", cutoff).Delete(&meterInstance{}).Error
	}
	return nil
}

func (p *SQLPeers) Retire(ctx context.Context, instance string) error {
	return p.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("instance_id = ?", instance).Delete(&meterHolder{}).Error; err != nil {
			return err
		}
		return tx.Where("instance_id = ?", instance).Delete(&meterInstance{}).Error
	})
}

func (p *SQLPeers) Holders(ctx context.Context, tenantID string) ([]string, error) {
	var out []string
	err := p.db.WithContext(ctx).Table("meter_holders AS h").
		Joins("JOIN meter_instances AS i ON i.instance_id = h.instance_id").
		Where("h.tenant_id = ? AND i.beat_at_ms > ?", tenantID, p.now().Add(-PeerLiveWindow).UnixMilli()).
		Order("h.instance_id").Pluck("h.instance_id", &out).Error
	return out, err
}

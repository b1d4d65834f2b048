package respcache

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: one string per entry with its TTL, keyed
// "<prefix>{t:<tenant>}:rc:<key>" so a tenant's entries share the hash slot
// of its meter counters in a Cluster.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a store on client; prefix is "tollgate:" in production.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// RedisKey is where the tenant's entry lives.
func (r *Redis) RedisKey(tenantID, key string) string {
	return r.prefix + "{t:" + tenantID + "}:rc:" + key
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, tenantID, key string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.RedisKey(tenantID, key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, tenantID, key string, val []byte, ttl time.Duration) error {
	return r.client.Set(ctx, r.RedisKey(tenantID, key), val, ttl).Err()
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/tier"
)

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration and the host"}
	cmd.AddCommand(newConfigDetectCmd(g), newConfigEnvCmd(g))
	return cmd
}

func newConfigDetectCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	detect := &cobra.Command{
		Use:   "detect [--json]",
		Short: "Print the configuration Tollgate would run with, the host's scale tier, and why",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			profile, err := applyTier(cmd.Context(), &cfg)
			if err != nil {
				return err
			}
			meter := "in-process (TOLLGATE_REDIS_URL empty)"
			switch {
			case cfg.RedisCluster():
				meter = fmt.Sprintf("Redis Cluster, %d seed(s)", len(cfg.RedisAddrs()))
			case cfg.Redis.URL != "":
				meter = "Redis standalone"
			}
			r := profile.Resources
			out := map[string]any{
				"mode":            cfg.Mode,
				"addr":            cfg.Addr,
				"database_driver": cfg.DatabaseDriver(),
				"database_url":    database.Redact(cfg.Database.URL),
				"data_dir":        cfg.DataDir(),
				"redis_url":       database.Redact(cfg.Redis.URL),
				"meter":           meter,
				"billing":         billingOn(cfg),
				"sim_provider":    cfg.Providers.Sim,
				"tier":            profile,
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, k := range []string{"mode", "addr", "database_driver", "database_url", "data_dir", "meter", "redis_url", "billing", "sim_provider"} {
				fmt.Fprintf(w, "%s\t%v\n", k, out[k])
			}
			fmt.Fprintf(w, "tier\t%d %s\n", profile.Tier, profile.Tier)
			fmt.Fprintf(w, "deployment\t%s (%s)\n", r.Mode, r.ModeEvidence)
			fmt.Fprintf(w, "cpus\t%d effective (host %d, cgroup v%d limit %dm)\n", r.EffectiveCPUs(), r.HostCPUs, r.CgroupVersion, r.CPULimitMillis)
			fmt.Fprintf(w, "memory\t%d MiB effective (host %d MiB)\n", r.EffectiveMemoryBytes()>>20, r.HostMemoryBytes>>20)
			gpu := "none"
			if r.GPU {
				gpu = r.GPUEvidence
			}
			fmt.Fprintf(w, "gpu\t%s\n", gpu)
			k := profile.Knobs
			fmt.Fprintf(w, "knobs\tworker_concurrency=%d db_max_open_conns=%d db_max_idle_conns=%d ledger_batch_size=%d key_cache_size=%d max_body_bytes=%d\n",
				k.WorkerConcurrency, k.DBMaxOpenConns, k.DBMaxIdleConns, k.LedgerBatchSize, k.KeyCacheSize, k.MaxBodyBytes)
			for _, reason := range profile.Reasons {
				fmt.Fprintf(w, "why\t%s\n", reason)
			}
			return w.Flush()
		},
	}
	detect.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return detect
}

func newConfigEnvCmd(g *globalFlags) *cobra.Command {
	var target, outPath, cpus, memory string
	var force bool
	cmd := &cobra.Command{
		Use:   "env --target desktop|container|kubernetes [--cpus 4 --memory 4Gi] [--out FILE] [--force]",
		Short: "Write a configuration sized for the target: a .env, or for kubernetes a ConfigMap and a Secret template",
		Long: `Writes the configuration for a deployment target, sized by tier.

For desktop and container it is a .env sized for this host. For kubernetes it is
YAML for infra/k8s: the ConfigMap tollgate-config (with the sizing knobs pinned)
and a Secret template tollgate-secrets. Pass the pod's limits with --cpus and
--memory (Kubernetes quantities: 4, 500m; 4Gi, 512Mi) to size for the pod rather
than for the machine the command runs on.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode := tier.Mode(target)
			if !mode.Valid() {
				return errkind.New(errkind.Invalid, "--target %q: use desktop, container or kubernetes", target)
			}
			if (cpus == "") != (memory == "") {
				return errkind.New(errkind.Invalid, "--cpus and --memory go together: give both (the pod's limits) or neither")
			}
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			var res tier.Resources
			if cpus != "" {
				if res, err = tier.PodResources(cpus, memory); err != nil {
					return err
				}
			} else if res, err = detectResources(cmd.Context(), cfg); err != nil {
				return err
			}
			// Size for the target's deployment mode (its tier cap).
			res.Mode = mode
			if cpus == "" {
				res.ModeEvidence = "--target " + target
			}
			var text string
			if mode == tier.ModeKubernetes {
				text = tier.RenderKubernetes(tier.Classify(res))
			} else if text, err = tier.RenderEnv(tier.Classify(res), mode); err != nil {
				return err
			}
			if outPath == "" {
				_, err = io.WriteString(cmd.OutOrStdout(), text)
				return err
			}
			return writeEnvFile(outPath, text, force)
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "deployment target: desktop, container or kubernetes")
	cmd.Flags().StringVar(&cpus, "cpus", "", "size for this CPU limit (a Kubernetes quantity: 4, 1.5, 500m) instead of this host")
	cmd.Flags().StringVar(&memory, "memory", "", "size for this memory limit (4Gi, 512Mi, 8G) instead of this host")
	cmd.Flags().StringVar(&outPath, "out", "", "write to this file instead of stdout (e.g. .env)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite --out if it exists")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

// writeEnvFile writes text to path, refusing to replace an existing file unless force.
func writeEnvFile(path, text string, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return errkind.New(errkind.Conflict, "%s exists; pass --force to overwrite it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// detectResources reads the host through internal/tier, with the merged environment
// (process over .env) for the deployment markers.
func detectResources(ctx context.Context, cfg config.Config) (tier.Resources, error) {
	env := cfg.Env
	return tier.Detect(ctx, tier.Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
}

// applyTier detects the host's tier and fills every sizing knob the environment
// left unset (worker concurrency, DB pool, ledger batch, key cache, body limit)
// with the tier's value; explicit settings win and are listed in the profile.
func applyTier(ctx context.Context, cfg *config.Config) (tier.Profile, error) {
	res, err := detectResources(ctx, *cfg)
	if err != nil {
		return tier.Profile{}, fmt.Errorf("detect host resources: %w", err)
	}
	var maxBody int64
	if strings.TrimSpace(cfg.Env[tier.EnvMaxBodyBytes]) != "" {
		maxBody = cfg.HTTP.MaxBodyBytes
	}
	p, err := tier.Classify(res).WithOverrides(tier.Overrides{
		WorkerConcurrency: cfg.Tier.WorkerConcurrency,
		DBMaxOpenConns:    cfg.Database.MaxOpenConns,
		DBMaxIdleConns:    cfg.Database.MaxIdleConns,
		LedgerBatchSize:   cfg.Tier.LedgerBatchSize,
		KeyCacheSize:      cfg.Tier.KeyCacheSize,
		MaxBodyBytes:      maxBody,
	})
	if err != nil {
		return p, err
	}
	k := p.Knobs
	cfg.Tier.WorkerConcurrency, cfg.Tier.LedgerBatchSize, cfg.Tier.KeyCacheSize = k.WorkerConcurrency, k.LedgerBatchSize, k.KeyCacheSize
	cfg.Database.MaxOpenConns, cfg.Database.MaxIdleConns = k.DBMaxOpenConns, k.DBMaxIdleConns
	cfg.HTTP.MaxBodyBytes = k.MaxBodyBytes
	return p, nil
}

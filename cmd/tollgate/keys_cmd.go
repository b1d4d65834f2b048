package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

type keyJSON struct {
	ID         string     `json:"id"`
	Tenant     string     `json:"tenant"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	Models     []string   `json:"models"`
	RPMLimit   int64      `json:"rpm_limit"`
	TPMLimit   int64      `json:"tpm_limit"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Secret is set only by `keys create`.
	Secret string `json:"secret,omitempty"`
}

func mapKeyJSON(t tenants.Tenant, k apikeys.APIKey) keyJSON {
	return keyJSON{ID: k.ID, Tenant: t.Slug, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, Models: k.Models, RPMLimit: k.RPMLimit,
		TPMLimit: k.TPMLimit, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

func newKeysCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list, rotate and revoke tenant API keys"}
	var tenant, name, scopes, models string
	var expires time.Duration
	var rpm, tpm int64
	var asJSON bool

	// withTenant opens the app and resolves --tenant (slug or id).
	withTenant := func(cmd *cobra.Command, fn func(a *app, svc identityServices, t tenants.Tenant) error) error {
		if tenant == "" {
			return fmt.Errorf("--tenant is required (a tenant slug or id; see `tollgate tenants list`)")
		}
		a, err := openFromFlags(cmd, g)
		if err != nil {
			return err
		}
		defer a.Close()
		t, err := a.registry.Get(cmd.Context(), tenant)
		if err != nil {
			return fmt.Errorf("%w (list tenants with `tollgate tenants list`)", err)
		}
		return fn(a, newIdentityServices(a, cliPasswordParams()), t)
	}

	create := &cobra.Command{
		Use:   "create --tenant T --name N [--scopes inference] [--expires 720h]",
		Short: "Create an API key and print its secret alone on stdout (shown once; --json for the record)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, func(a *app, svc identityServices, t tenants.Tenant) error {
				in := apikeys.CreateKeyInput{TenantID: t.ID, Name: name, Scopes: splitList(scopes), Models: splitList(models),
					RPMLimit: rpm, TPMLimit: tpm, Actor: audit.CLIActor()}
				if expires > 0 {
					at := time.Now().Add(expires)
					in.ExpiresAt = &at
				}
				k, secret, err := svc.keys.Create(cmd.Context(), in)
				if err != nil {
					return err
				}
				if asJSON {
					out := mapKeyJSON(t, k)
					out.Secret = secret.Reveal()
					return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
				}
				// The secret alone on stdout, so KEY=$(tollgate keys create ...) works;
				// what it is goes to stderr.
				fmt.Fprintf(cmd.ErrOrStderr(), "created key %s (%s) in %s, scopes %s; the secret below is shown once\n",
					k.ID, k.Prefix, t.Slug, strings.Join(k.Scopes, ","))
				fmt.Fprintln(cmd.OutOrStdout(), secret.Reveal())
				return nil
			})
		},
	}
	cf := create.Flags()
	cf.StringVar(&name, "name", "", "what the key is for")
	cf.StringVar(&scopes, "scopes", apikeys.ScopeInference, "comma-separated scopes: "+strings.Join(apikeys.KnownScopes(), ", "))
	cf.StringVar(&models, "models", "", "comma-separated model allowlist (empty: all models)")
	cf.DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (0: never expires)")
	cf.Int64Var(&rpm, "rpm", 0, "requests per minute limit (0: none)")
	cf.Int64Var(&tpm, "tpm", 0, "tokens per minute limit (0: none)")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list --tenant T",
		Short: "List a tenant's API keys, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenant(cmd, func(a *app, svc identityServices, t tenants.Tenant) error {
				rows := []keyJSON{}
				cursor := ""
				for {
					page, err := svc.keys.List(cmd.Context(), apikeys.ListKeysInput{TenantID: t.ID, Limit: 200, Cursor: cursor})
					if err != nil {
						return err
					}
					for _, k := range page.Keys {
						rows = append(rows, mapKeyJSON(t, k))
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(rows)
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tPREFIX\tNAME\tSCOPES\tSTATE\tCREATED")
				for _, k := range rows {
					state := "active"
					switch {
					case k.RevokedAt != nil:
						state = "revoked"
					case k.ExpiresAt != nil && k.ExpiresAt.Before(time.Now()):
						state = "expired"
					case k.ExpiresAt != nil:
						state = "expires " + k.ExpiresAt.Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, strings.Join(k.Scopes, ","), state, k.CreatedAt.Format(time.RFC3339))
				}
				return w.Flush()
			})
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke --tenant T KEY_ID_OR_PREFIX",
		Short: "Revoke an API key (refused by every server within a second)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTenant(cmd, func(a *app, svc identityServices, t tenants.Tenant) error {
				k, err := svc.keys.Find(cmd.Context(), t.ID, args[0])
				if err != nil {
					return err
				}
				k, err = svc.keys.Revoke(cmd.Context(), apikeys.RevokeKeyInput{TenantID: t.ID, KeyID: k.ID, Actor: audit.CLIActor()})
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(mapKeyJSON(t, k))
				}
				cmd.Printf("revoked key %s (%s) in %s\n", k.ID, k.Prefix, t.Slug)
				return nil
			})
		},
	}
	var grace time.Duration
	rotate := &cobra.Command{
		Use:   "rotate --tenant T KEY_ID_OR_PREFIX [--grace 24h]",
		Short: "Replace an API key with a new one that keeps its scopes, models, rate limits, expiry and budgets",
		Long: "Creates the key's successor and prints its secret (shown once) alone on stdout. The successor keeps\n" +
			"the old key's scopes, model allowlist, rpm/tpm limits, expiry and key budgets, and continues this\n" +
			"period's spend on them. The old key keeps working for --grace (0 revokes it at once).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTenant(cmd, func(a *app, svc identityServices, t tenants.Tenant) error {
				old, err := svc.keys.Find(cmd.Context(), t.ID, args[0])
				if err != nil {
					return err
				}
				h, err := a.registry.Handle(tenants.SystemPrincipal(t, "cli"))
				if err != nil {
					return err
				}
				in := apikeys.RotateKeyInput{TenantID: t.ID, KeyID: old.ID, Grace: &grace, Actor: audit.CLIActor(),
					CarryOver: func(ctx context.Context, old, successor apikeys.APIKey) error {
						return budget.CarryToSuccessor(ctx, h, old.ID, successor.ID)
					}}
				k, secret, err := svc.keys.Rotate(cmd.Context(), in)
				if err != nil {
					return err
				}
				if asJSON {
					out := mapKeyJSON(t, k)
					out.Secret = secret.Reveal()
					return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "rotated key %s (%s) in %s: successor %s (%s); the old key works for %s more\n",
					old.ID, old.Prefix, t.Slug, k.ID, k.Prefix, grace)
				fmt.Fprintln(cmd.OutOrStdout(), secret.Reveal())
				return nil
			})
		},
	}
	rotate.Flags().DurationVar(&grace, "grace", apikeys.DefaultRotationGrace, "how long the old key keeps working (0: revoke it now; at most 720h)")

	for _, c := range []*cobra.Command{create, list, revoke, rotate} {
		c.Flags().StringVar(&tenant, "tenant", "", "tenant slug or id")
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	}
	cmd.AddCommand(create, list, revoke, rotate)
	return cmd
}

// splitList splits a comma-separated flag, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

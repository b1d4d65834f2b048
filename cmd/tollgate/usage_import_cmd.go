package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing/usageimport"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

func newUsageImportCmd(g *globalFlags) *cobra.Command {
	var tenantRef, format string
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "import --tenant T --format openrouter|openai FILE [--dry-run] [--json]",
		Short: "Import usage history from an OpenRouter activity CSV or an OpenAI usage export",
		Long: "Imports another gateway's usage export into a tenant as imported history: shown in usage analytics\n" +
			"(api \"imported\"), projections and the routing what-if, never invoiced or counted against a budget.\n" +
			"--format openrouter reads OpenRouter's activity CSV; --format openai reads the OpenAI organization\n" +
			"usage API's completions JSON (bucket_width=1d, group_by including model). FILE - reads stdin.\n" +
			"The file imports whole or not at all: every malformed row is reported by line and nothing is written.\n" +
			"Re-importing never counts a row twice. Formats: docs/usage-import.md.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var err error
			name := ""
			if args[0] == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				name = filepath.Base(args[0])
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return errkind.Wrap(errkind.Invalid, err, "cannot read %s; check the path", args[0])
			}
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := cmd.Context()
			// The tenant's prices (negotiated overrides included) price rows
			// the export has no cost for.
			overrides, err := gateway.LoadPriceOverrides(ctx, h)
			if err != nil {
				return err
			}
			cat, err := gateway.TenantCatalog(routing.DefaultCatalog(), overrides)
			if err != nil {
				return err
			}
			actor := audit.CLIActor()
			res, err := usageimport.Import(ctx, h, gateway.ImportPricer{Catalog: cat}, usageimport.Input{Format: usageimport.Format(format),
				FileName: name, Data: data, Actor: actor.Email, Now: time.Now(), DryRun: dryRun})
			if err != nil {
				return err
			}
			if !dryRun {
				if err := audit.NewAuditLog(a.db).Record(ctx, h.TenantID(), actor, "usage.import", res.ID, map[string]any{"format": format,
					"file_name": name, "rows": res.Rows, "new": res.New, "updated": res.Updated, "unchanged": res.Unchanged,
					"cost_usd": res.Cost.USDString(), "from": res.From, "to": res.To}); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			verb := "imported"
			if dryRun {
				verb = "would import (dry run, nothing written)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %d rows from %s to %s: %d new, %d updated, %d unchanged; %d requests, $%s\n",
				h.Tenant().Slug, verb, res.Rows, res.From, res.To, res.New, res.Updated, res.Unchanged, res.Requests, res.Cost.USDString())
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional when there is only one tenant)")
	cmd.Flags().StringVar(&format, "format", "", "export format: openrouter or openai")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and count what would change, without writing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/jobs"
)

func newJobsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Inspect the background job queue"}
	var states, kinds, cursor string
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--state completed,retryable] [--kind invoice_run] [--limit N] [--json]",
		Short: "List jobs, newest first, with their state, attempts, errors and output",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			q, _, err := openQueue(ctx, a, 0, false, nil)
			if err != nil {
				return err
			}
			defer q.Close()
			views, next, err := jobs.List(ctx, q.Client(), jobs.ListInput{States: splitCSV(states), Kinds: splitCSV(kinds), Limit: limit, Cursor: cursor})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Data       []jobs.View `json:"data"`
					NextCursor string      `json:"next_cursor"`
				}{views, next})
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tSTATE\tATTEMPT\tCREATED\tARGS\tOUTPUT / LAST ERROR")
			for _, j := range views {
				detail := string(j.Output)
				if len(j.Errors) > 0 && j.State != "completed" {
					detail = j.Errors[len(j.Errors)-1]
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
					j.CreatedAt.Format("2006-01-02 15:04:05"), j.Args, truncate(detail, 120))
			}
			if next != "" {
				fmt.Fprintf(w, "(more: --cursor %s)\n", next)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&states, "state", "", "comma-separated states: available, cancelled, completed, discarded, pending, retryable, running, scheduled")
	list.Flags().StringVar(&kinds, "kind", "", "comma-separated job kinds (invoice_run, alert_delivery, reconcile, backup, ...)")
	list.Flags().IntVar(&limit, "limit", 50, "jobs per page (1-500)")
	list.Flags().StringVar(&cursor, "cursor", "", "continue after a previous page")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

func splitCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

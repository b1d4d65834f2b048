package main

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// Build stamps, set by `make binary` and `make dist` with
// -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	// version is the release (git describe), "dev" in an unstamped build.
	version = "dev"
	// commit is the full git commit the binary was built from.
	commit = "unknown"
	// date is the build time, RFC 3339 UTC.
	date = "unknown"
)

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print the version, commit and build date",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"version": version, "commit": commit, "date": date,
					"go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH})
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "tollgate %s (commit %s, built %s, %s %s/%s)\n", version, commit, date,
				runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

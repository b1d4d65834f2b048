package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// newHealthcheckCmd is the container's HEALTHCHECK: GET /healthz on the server this
// environment configures (TOLLGATE_ADDR, dialled on loopback), exit 0 on 200.
func newHealthcheckCmd(g *globalFlags) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [--url http://127.0.0.1:8080/healthz]",
		Short: "Exit 0 when the local server answers /healthz (for container health checks)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				cfg, err := g.loadConfig()
				if err != nil {
					return err
				}
				url = healthURL(cfg.Addr)
			}
			client := &http.Client{Timeout: timeout}
			resp, err := client.Get(url)
			if err != nil {
				return errkind.Wrap(errkind.Unavailable, err, "health check of %s failed", url)
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return errkind.New(errkind.Unavailable, "health check of %s: status %d", url, resp.StatusCode)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to check (default: /healthz on TOLLGATE_ADDR's port, on loopback)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "give up after this long")
	return cmd
}

// healthURL is /healthz on the loopback address of a listen address: ":8080" and
// "0.0.0.0:8080" are dialled as 127.0.0.1:8080, "[::]:8080" as [::1]:8080.
func healthURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + strings.TrimSuffix(addr, "/") + "/healthz"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}

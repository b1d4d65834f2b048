// Command loadgen is an open-loop, constant-rate HTTP load generator for loopback
// runs: it starts requests on a fixed schedule whatever the latency (so queueing in
// the server shows up in the percentiles), records time to first byte and total
// latency, and prints one JSON line of results.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Name      string  `json:"name"`
	Rate      int     `json:"rate"`
	Duration  string  `json:"duration"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorPct  float64 `json:"error_pct"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	TTFBP50ms float64 `json:"ttfb_p50_ms"`
	TTFBP99ms float64 `json:"ttfb_p99_ms"`
	Achieved  float64 `json:"achieved_rps"`
}

func main() {
	url := flag.String("url", "", "target URL")
	name := flag.String("name", "run", "label in the output")
	rate := flag.Int("rate", 1000, "requests per second")
	dur := flag.Duration("duration", 10*time.Second, "how long to send")
	body := flag.String("body", "", "request body (POST when set)")
	key := flag.String("key", "", "bearer token")
	timeout := flag.Duration("timeout", 5*time.Second, "per-request timeout")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConns: 10000, MaxIdleConnsPerHost: 10000, IdleConnTimeout: 30 * time.Second,
		TLSClientConfig: &tls.Config{}, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: *timeout}

	total := int(float64(*rate) * dur.Seconds())
	lat := make([]time.Duration, total)
	ttfb := make([]time.Duration, total)
	var errs, done atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	for i := 0; i < total; i++ {
		// Open loop: request i starts at start + i*interval, late or not.
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var first time.Time
			trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
			ctx := httptrace.WithClientTrace(context.Background(), trace)
			method := http.MethodGet
			var rd io.Reader
			if *body != "" {
				method, rd = http.MethodPost, bytes.NewBufferString(*body)
			}
			req, _ := http.NewRequestWithContext(ctx, method, *url, rd)
			req.Header.Set("Content-Type", "application/json")
			if *key != "" {
				req.Header.Set("Authorization", "Bearer "+*key)
			}
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				errs.Add(1)
				lat[i] = -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat[i] = time.Since(t0)
			ttfb[i] = first.Sub(t0)
			if resp.StatusCode != http.StatusOK {
				errs.Add(1)
			}
			done.Add(1)
		}(i)
	}
	sent := time.Since(start)
	wg.Wait()
	var ok, okT []time.Duration
	for i := range lat {
		if lat[i] > 0 {
			ok = append(ok, lat[i])
			okT = append(okT, ttfb[i])
		}
	}
	slices.Sort(ok)
	slices.Sort(okT)
	pct := func(s []time.Duration, p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	r := result{Name: *name, Rate: *rate, Duration: dur.String(), Requests: int64(total), Errors: errs.Load(),
		ErrorPct: 100 * float64(errs.Load()) / float64(total), P50ms: pct(ok, 0.50), P99ms: pct(ok, 0.99),
		TTFBP50ms: pct(okT, 0.50), TTFBP99ms: pct(okT, 0.99), Achieved: float64(total) / sent.Seconds()}
	_ = json.NewEncoder(os.Stdout).Encode(r)
	fmt.Fprintf(os.Stderr, "%-34s rate=%5d  p50=%7.3fms  p99=%8.3fms  ttfb_p50=%7.3fms  ttfb_p99=%8.3fms  errors=%.2f%%  achieved=%.0f/s\n",
		r.Name, r.Rate, r.P50ms, r.P99ms, r.TTFBP50ms, r.TTFBP99ms, r.ErrorPct, r.Achieved)
}

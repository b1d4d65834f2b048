// Command otlpsink is a minimal OTLP trace receiver for loopback load runs: it
// accepts spans over OTLP/gRPC and OTLP/HTTP (protobuf), counts them, and answers
// GET /count on the HTTP port with the number received so far. It counts by
// walking the protobuf wire format instead of decoding the spans: the sink
// stands in for a collector on another machine, so the less of the gateway's
// cores it takes, the more the run measures the gateway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

type sink struct{ spans atomic.Int64 }

// Field numbers: ExportTraceServiceRequest.resource_spans = 1,
// ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2.
var spanPath = []protowire.Number{1, 2, 2}

// countSpans counts the messages at spanPath in an encoded
// ExportTraceServiceRequest.
func countSpans(b []byte, path []protowire.Number) (int64, error) {
	var n int64
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return 0, protowire.ParseError(l)
		}
		b = b[l:]
		if num == path[0] && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return 0, protowire.ParseError(l)
			}
			b = b[l:]
			if len(path) == 1 {
				n++
				continue
			}
			m, err := countSpans(v, path[1:])
			if err != nil {
				return 0, err
			}
			n += m
			continue
		}
		l = protowire.ConsumeFieldValue(num, typ, b)
		if l < 0 {
			return 0, protowire.ParseError(l)
		}
		b = b[l:]
	}
	return n, nil
}

func (s *sink) add(raw []byte) error {
	n, err := countSpans(raw, spanPath)
	if err != nil {
		return err
	}
	s.spans.Add(n)
	return nil
}

// export is TraceService/Export with the request decoded as an empty message:
// its fields stay raw bytes (unknown fields), which add counts.
func (s *sink) export(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var req emptypb.Empty
	if err := dec(&req); err != nil {
		return nil, err
	}
	if err := s.add(req.ProtoReflect().GetUnknown()); err != nil {
		return nil, err
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:4318", "OTLP/HTTP listen address")
	grpcAddr := flag.String("grpc", "127.0.0.1:4317", "OTLP/gRPC listen address")
	flag.Parse()
	s := &sink{}

	gl, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "otlpsink:", err)
		os.Exit(1)
	}
	gs := grpc.NewServer()
	gs.RegisterService(&grpc.ServiceDesc{
		ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: s.export}},
	}, s)
	go func() { _ = gs.Serve(gl) }()

	response, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err == nil {
			err = s.add(raw)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(response)
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, s.spans.Load())
	})
	hs := &http.Server{Addr: *httpAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "otlpsink:", err)
			os.Exit(1)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	gs.Stop()
	_ = hs.Close()
}

package ledger

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/database"
)

// spoolSegmentBytes is the size after which the spool starts a new segment, so that
// flushed segments can be deleted while the process keeps running.
const spoolSegmentBytes = 4 << 20

// spool is an append-only, segmented log of events on local disk. Every Append is
// one write(2) of one JSON line: once it returns, the event survives a killed
// process (it is in the kernel's page cache), though not a power cut.
type spool struct {
	dir  string
	lock *os.File

	mu      sync.Mutex
	cur     *os.File
	curSeq  int64
	curSize int64
	pending map[int64]int // segment → events not yet in the database
	closed  map[int64]bool
	buf     []byte // the line being written, reused by append
	// retired holds segments rotated away and not yet closed or deleted: that
	// file-system work is done after mu is released (sweep), since every
	// request's append waits for mu, and an unlink can wait for the file
	// system's journal.
	retired spoolRetired
}

// spoolRetired is file-system work left for after the spool's lock.
type spoolRetired struct {
	files []*os.File
	paths []string
}

// takeRetiredLocked hands over the retired work; run it with sweep once mu is
// released.
func (s *spool) takeRetiredLocked() spoolRetired {
	r := s.retired
	s.retired = spoolRetired{}
	return r
}

func (r spoolRetired) sweep() {
	for _, f := range r.files {
		_ = f.Close()
	}
	for _, p := range r.paths {
		_ = os.Remove(p)
	}
}

// openSpool locks dir for this process and returns the spool plus the events left
// by a previous process (to be written again; inserts are idempotent).
func openSpool(dir string) (*spool, queued, error) {
	if err := os.MkdirAll(dir, database.DirMode); err != nil {
		return nil, queued{}, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, database.FileMode)
	if err != nil {
		return nil, queued{}, err
	}
	if err := lockSpoolDir(lock); err != nil {
		_ = lock.Close()
		return nil, queued{}, fmt.Errorf("ledger spool %s is in use by another process (give each process its own TOLLGATE_SPOOL_DIR): %w", dir, err)
	}
	s := &spool{dir: dir, lock: lock, pending: map[int64]int{}, closed: map[int64]bool{}}
	seqs, err := s.segments()
	if err != nil {
		return nil, queued{}, err
	}
	var left queued
	for _, seq := range seqs {
		evs, err := readSegment(s.path(seq))
		if err != nil {
			return nil, queued{}, err
		}
		for _, e := range evs {
			left.add(e, seq)
		}
		s.pending[seq] = len(evs)
		s.closed[seq] = true
		s.curSeq = seq
	}
	if err := s.rotateLocked(); err != nil {
		return nil, queued{}, err
	}
	for _, seq := range seqs {
		s.maybeRemoveLocked(seq)
	}
	s.takeRetiredLocked().sweep()
	return s, left, nil
}

// queued is events with the spool segment each was written to, in parallel
// slices: a batch's events go to insert as they are, without a copy.
type queued struct {
	events []Event
	segs   []int64
}

func (q *queued) add(e Event, seg int64) {
	q.events = append(q.events, e)
	q.segs = append(q.segs, seg)
}

func (q *queued) addAll(o queued) {
	q.events = append(q.events, o.events...)
	q.segs = append(q.segs, o.segs...)
}

func (q queued) slice(i, j int) queued { return queued{events: q.events[i:j], segs: q.segs[i:j]} }

func (s *spool) path(seq int64) string {
	return filepath.Join(s.dir, fmt.Sprintf("segment-%012d.jsonl", seq))
}

func (s *spool) segments() ([]int64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "segment-") || !strings.HasSuffix(name, ".jsonl") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, "segment-"), ".jsonl"), 10, 64)
		if err == nil {
			seqs = append(seqs, n)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// readSegment parses a segment; a torn last line (the process died mid-write) is
// skipped: its request never got its response either.
func readSegment(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// append writes one event and returns its segment. The line is encoded into a
// buffer reused under the lock: encoding takes well under a microsecond, less
// than the write(2) the lock already covers, and saves reflection and two
// allocations per request.
func (s *spool) append(e Event) (int64, error) {
	s.mu.Lock()
	seq, err := s.appendLocked(e)
	retired := s.takeRetiredLocked()
	s.mu.Unlock()
	retired.sweep()
	return seq, err
}

func (s *spool) appendLocked(e Event) (int64, error) {
	if s.cur == nil {
		return 0, errors.New("ledger spool is closed")
	}
	line, err := appendEventJSON(s.buf[:0], e)
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	s.buf = line
	if s.curSize+int64(len(line)) > spoolSegmentBytes {
		if err := s.rotateLocked(); err != nil {
			return 0, err
		}
	}
	n, err := s.cur.Write(line)
	s.curSize += int64(n)
	if err != nil {
		return 0, fmt.Errorf("write ledger spool: %w", err)
	}
	s.pending[s.curSeq]++
	return s.curSeq, nil
}

// rotateLocked starts the next segment. The new file is opened first: when that
// fails the current segment stays in use.
func (s *spool) rotateLocked() error {
	next := s.curSeq + 1
	f, err := os.OpenFile(s.path(next), os.O_CREATE|os.O_WRONLY|os.O_APPEND, database.FileMode)
	if err != nil {
		return err
	}
	if s.cur != nil {
		s.retired.files = append(s.retired.files, s.cur)
		s.closed[s.curSeq] = true
		s.maybeRemoveLocked(s.curSeq)
	}
	s.cur, s.curSeq, s.curSize = f, next, 0
	return nil
}

// done records that n events of segment seq are in the database.
func (s *spool) done(seq int64, n int) {
	s.mu.Lock()
	s.doneLocked(seq, n)
	retired := s.takeRetiredLocked()
	s.mu.Unlock()
	retired.sweep()
}

func (s *spool) doneLocked(seq int64, n int) {
	s.pending[seq] -= n
	if seq == s.curSeq && s.pending[seq] <= 0 && s.curSize > 0 && s.cur != nil {
		// Everything written so far is in the database: start a fresh segment so the
		// old one can go, keeping the spool (and a replay) short.
		_ = s.rotateLocked()
		return
	}
	s.maybeRemoveLocked(seq)
}

func (s *spool) maybeRemoveLocked(seq int64) {
	if s.closed[seq] && s.pending[seq] <= 0 {
		s.retired.paths = append(s.retired.paths, s.path(seq))
		delete(s.pending, seq)
		delete(s.closed, seq)
	}
}

// close closes the current segment and releases the lock. Unflushed events stay on
// disk for the next start.
func (s *spool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.takeRetiredLocked().sweep() // before the directory lock goes
	if s.cur != nil {
		_ = s.cur.Close()
		if s.pending[s.curSeq] <= 0 {
			_ = os.Remove(s.path(s.curSeq))
		}
		s.cur = nil
	}
	_ = s.lock.Close()
}

// appendEventJSON appends e encoded exactly as json.Marshal encodes it (same
// member order, omitempty and escaping), without reflection; readSegment reads
// it back with encoding/json. TestAppendEventJSONMatchesMarshal holds the two
// together.
func appendEventJSON(b []byte, e Event) ([]byte, error) {
	if y := e.CreatedAt.Year(); y < 0 || y > 9999 {
		line, err := json.Marshal(e) // json.Marshal's own error for such a time
		return append(b, line...), err
	}
	b = append(b, `{"tenant_id":`...)
	b = appendJSONString(b, e.TenantID)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, e.RequestID)
	if e.ClientRequestID != "" {
		b = append(b, `,"client_request_id":`...)
		b = appendJSONString(b, e.ClientRequestID)
	}
	b = append(b, `,"created_at":"`...)
	b = e.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	for _, f := range [...]struct {
		name, value string
		omitEmpty   bool
	}{{"key_id", e.KeyID, true}, {"member_id", e.MemberID, true}, {"model_requested", e.ModelRequested, true},
		{"model_used", e.ModelUsed, false}, {"provider", e.Provider, true}} {
		if f.omitEmpty && f.value == "" {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = appendJSONString(b, f.value)
	}
	b = append(b, `,"input_tokens":`...)
	b = strconv.AppendInt(b, e.InputTokens, 10)
	if e.CachedTokens != 0 {
		b = append(b, `,"cached_tokens":`...)
		b = strconv.AppendInt(b, e.CachedTokens, 10)
	}
	if e.CacheWriteTokens != 0 {
		b = append(b, `,"cache_write_tokens":`...)
		b = strconv.AppendInt(b, e.CacheWriteTokens, 10)
	}
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, e.OutputTokens, 10)
	b = append(b, `,"cost_nano":`...)
	b = strconv.AppendInt(b, int64(e.Cost), 10)
	if e.CacheSaved != 0 {
		b = append(b, `,"cache_saved_nano":`...)
		b = strconv.AppendInt(b, int64(e.CacheSaved), 10)
	}
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendInt(b, e.LatencyMS, 10)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, e.Status)
	if e.RouteReason != "" {
		b = append(b, `,"route_reason":`...)
		b = appendJSONString(b, e.RouteReason)
	}
	if e.API != "" {
		b = append(b, `,"api":`...)
		b = appendJSONString(b, e.API)
	}
	if e.StatusCode != 0 {
		b = append(b, `,"status_code":`...)
		b = strconv.AppendInt(b, int64(e.StatusCode), 10)
	}
	if e.ErrorType != "" {
		b = append(b, `,"error_type":`...)
		b = appendJSONString(b, e.ErrorType)
	}
	if e.ErrorCode != "" {
		b = append(b, `,"error_code":`...)
		b = appendJSONString(b, e.ErrorCode)
	}
	if e.RouteFeatures != "" {
		b = append(b, `,"route_features":`...)
		b = appendJSONString(b, e.RouteFeatures)
	}
	if e.ConversationID != "" {
		b = append(b, `,"conversation_id":`...)
		b = appendJSONString(b, e.ConversationID)
	}
	if e.KeptTurn != "" {
		b = append(b, `,"kept_turn":`...)
		b = appendJSONString(b, e.KeptTurn)
	}
	for _, f := range [...]struct {
		name  string
		value int64
	}{{`,"max_tokens":`, e.MaxTokens}, {`,"overhead_ms":`, e.OverheadMS}, {`,"first_byte_ms":`, e.FirstByteMS}} {
		if f.value != 0 {
			b = append(b, f.name...)
			b = strconv.AppendInt(b, f.value, 10)
		}
	}
	if e.Fallbacks != "" {
		b = append(b, `,"fallbacks":`...)
		b = appendJSONString(b, e.Fallbacks)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s quoted exactly as json.Marshal quotes it (HTML
// characters, control bytes, U+2028 and U+2029 escaped, invalid UTF-8 as
// U+FFFD), without the encoder's allocations: route features and fallbacks,
// themselves JSON, are escaped on every served request.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

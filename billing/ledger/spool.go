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
	"syscall"
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
}

// openSpool locks dir for this process and returns the spool plus the events left
// by a previous process (to be written again; inserts are idempotent).
func openSpool(dir string) (*spool, []spooled, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		return nil, nil, fmt.Errorf("ledger spool %s is in use by another process (give each process its own TOLLGATE_SPOOL_DIR): %w", dir, err)
	}
	s := &spool{dir: dir, lock: lock, pending: map[int64]int{}, closed: map[int64]bool{}}
	seqs, err := s.segments()
	if err != nil {
		return nil, nil, err
	}
	var left []spooled
	for _, seq := range seqs {
		evs, err := readSegment(s.path(seq))
		if err != nil {
			return nil, nil, err
		}
		for _, e := range evs {
			left = append(left, spooled{Event: e, seg: seq})
		}
		s.pending[seq] = len(evs)
		s.closed[seq] = true
		s.curSeq = seq
	}
	if err := s.rotateLocked(); err != nil {
		return nil, nil, err
	}
	for _, seq := range seqs {
		s.maybeRemoveLocked(seq)
	}
	return s, left, nil
}

type spooled struct {
	Event
	seg int64
}

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

// append writes one event and returns its segment.
func (s *spool) append(e Event) (int64, error) {
	line, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return 0, errors.New("ledger spool is closed")
	}
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

func (s *spool) rotateLocked() error {
	if s.cur != nil {
		_ = s.cur.Close()
		s.closed[s.curSeq] = true
		s.maybeRemoveLocked(s.curSeq)
	}
	s.curSeq++
	f, err := os.OpenFile(s.path(s.curSeq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	s.cur, s.curSize = f, 0
	return nil
}

// done records that n events of segment seq are in the database.
func (s *spool) done(seq int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
		_ = os.Remove(s.path(seq))
		delete(s.pending, seq)
		delete(s.closed, seq)
	}
}

// close closes the current segment and releases the lock. Unflushed events stay on
// disk for the next start.
func (s *spool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		_ = s.cur.Close()
		if s.pending[s.curSeq] <= 0 {
			_ = os.Remove(s.path(s.curSeq))
		}
		s.cur = nil
	}
	_ = s.lock.Close()
}

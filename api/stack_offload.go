package api

import (
	"fmt"
	"net/http"
	"runtime/debug"
)

// offStack runs fn on a goroutine of its own and waits for it. A streamed
// request's goroutine keeps the stack it grew for as long as it relays, and
// net/http gives it no way back: choosing the route, reserving and opening the
// upstream call reach several times the depth of the relay loop, so run there
// they would double the stack every in-flight stream holds (16 KB instead of
// 8). On a goroutine of their own, that stack is returned when they do.
//
// A panic in fn is raised again on the caller's goroutine, where the recovery
// middleware sees it, with the stack it was raised on.
func offStack[T any](fn func() (T, error)) (T, error) {
	type result struct {
		v        T
		err      error
		panicked any
		stack    []byte
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panicked, r.stack = p, debug.Stack()
			}
			done <- r
		}()
		r.v, r.err = fn()
	}()
	r := <-done
	if r.panicked != nil {
		if r.panicked == http.ErrAbortHandler {
			panic(r.panicked)
		}
		panic(fmt.Sprintf("%v\n\npanicked on:\n%s", r.panicked, r.stack))
	}
	return r.v, r.err
}

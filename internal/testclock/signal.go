package testclock // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/testclock"

import (
	"sync"
	"testing"
	"time"
)

// Signal lets a test wait, without sleeping, for state that another
// goroutine changes under a mutex: after each change, with the mutex held,
// the owner of the state calls NotifyLocked.
type Signal struct {
	ch chan struct{} // closed and renewed on every change
}

// NewSignal returns a Signal.
func NewSignal() Signal {
	return Signal{ch: make(chan struct{})}
}

// NotifyLocked signals a change; the caller holds the mutex.
func (s *Signal) NotifyLocked() {
	close(s.ch)
	s.ch = make(chan struct{})
}

// WaitUntil blocks until reached, called with mu held, says the state is
// reached. It fails the test after a minute of real time, which only a
// broken exporter takes, with what reached says it saw.
func (s *Signal) WaitUntil(t testing.TB, mu *sync.Mutex, reached func() (ok bool, seen string)) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		mu.Lock()
		ok, seen := reached()
		changed := s.ch
		mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatal(seen)
		}
	}
}

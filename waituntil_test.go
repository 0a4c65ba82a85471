package pushgatewayexporter

import (
	"sync"
	"testing"
	"time"
)

// changeSignal lets a test wait, without sleeping, for state that another
// goroutine changes under a mutex: after each change, with the mutex held,
// the owner of the state calls notifyLocked.
type changeSignal struct {
	ch chan struct{} // closed and renewed on every change
}

func newChangeSignal() changeSignal {
	return changeSignal{ch: make(chan struct{})}
}

func (s *changeSignal) notifyLocked() {
	close(s.ch)
	s.ch = make(chan struct{})
}

// waitUntil blocks until reached, called with mu held, says the state is
// reached. It fails the test after a minute of real time, which only a
// broken exporter takes, with what reached says it saw.
func (s *changeSignal) waitUntil(t *testing.T, mu *sync.Mutex, reached func() (ok bool, seen string)) {
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

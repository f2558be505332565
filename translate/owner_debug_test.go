//go:build flexcpdebug

package translate

import (
	"strings"
	"testing"
)

// TestOwnerCheck: in flexcpdebug builds an unbound engine may be entered
// from any goroutine; once bound, one entered from a second goroutine
// panics, and its owner may go on using it.
func TestOwnerCheck(t *testing.T) {
	if !ownerChecks {
		t.Fatal("flexcpdebug build without ownership checks")
	}
	e, err := New(Config{MaxConnections: 4}, newTestAlloc(8))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { e.Tick(1); close(done) }() // not bound yet: allowed
	<-done
	e.BindOwner()
	got := make(chan any, 1)
	go func() {
		defer func() { got <- recover() }()
		e.Tick(2)
	}()
	r := <-got
	msg, _ := r.(string)
	if !strings.Contains(msg, "entered from goroutine") {
		t.Fatalf("Tick from another goroutine: recovered %v, want the ownership panic", r)
	}
	e.Tick(3) // the owner still may
}

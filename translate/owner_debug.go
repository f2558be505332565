//go:build flexcpdebug

package translate

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// ownerCheck, in builds with the flexcpdebug tag, remembers the goroutine
// that called Engine.BindOwner and panics when any other goroutine enters
// the engine: an Engine belongs to one worker (DESIGN 5), and this catches
// a handoff that reached the wrong worker or a control goroutine that
// touched a worker's engine. An engine never bound is not checked (unit
// tests hand engines between goroutines). Without the tag it is empty and
// costs nothing.
type ownerCheck struct{ id atomic.Uint64 }

// ownerChecks reports whether this build checks engine ownership.
const ownerChecks = true

// bind makes the calling goroutine the owner.
func (o *ownerCheck) bind() { o.id.Store(goroutineID()) }

// enter panics if the engine is bound and the calling goroutine is not
// its owner.
func (o *ownerCheck) enter() {
	owner := o.id.Load()
	if owner == 0 {
		return
	}
	if id := goroutineID(); id != owner {
		panic(fmt.Sprintf("translate: engine owned by goroutine %d entered from goroutine %d", owner, id))
	}
}

// goroutineID parses the calling goroutine's id from the first line of
// its stack trace ("goroutine 18 [running]:"). Debug builds only: it
// costs a stack walk.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		panic("translate: cannot read the goroutine id from " + string(b))
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

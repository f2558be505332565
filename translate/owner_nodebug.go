//go:build !flexcpdebug

package translate

// ownerCheck is empty without the flexcpdebug build tag; see
// owner_debug.go.
type ownerCheck struct{}

// ownerChecks reports whether this build checks engine ownership.
const ownerChecks = false

// enter does nothing without the flexcpdebug tag.
func (*ownerCheck) enter() {}

// bind does nothing without the flexcpdebug tag.
func (*ownerCheck) bind() {}

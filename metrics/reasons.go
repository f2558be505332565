package metrics

import (
	"fmt"
	"strconv"
)

// Sizes of the reason-indexed counter arrays in a Counters block. The
// components that count (the dataplane's forwarder, the translator, the
// worker) own their reasons and lay them out in these slots; this package
// only exports them under the labels Options gives.
const (
	// MaxDropReasons is the number of drop counters per worker.
	MaxDropReasons = 96
	// MaxJoinRejects is the number of join-reject counters per worker.
	MaxJoinRejects = 16
	// MaxFallbackReasons is the number of fallback counters per worker.
	MaxFallbackReasons = 16
)

// checkLabels reports whether labels can name the slots of an array of max
// counters: at most max labels, each a unique, non-empty snake_case label
// value ([a-z][a-z0-9_]*). what names the reason in errors (e.g. "drop
// reason") and field the Options field.
func checkLabels(what, field string, labels []string, max int) error {
	if len(labels) > max {
		return fmt.Errorf("metrics: %d %s labels; a Counters block has %d slots", len(labels), what, max)
	}
	seen := make(map[string]int, len(labels))
	for i, l := range labels {
		if !snakeCase(l) {
			return fmt.Errorf("metrics: Options.%s[%d] = %q: a %s label must be non-empty snake_case ([a-z][a-z0-9_]*)", field, i, l, what)
		}
		if j, ok := seen[l]; ok {
			return fmt.Errorf("metrics: Options.%s[%d] and [%d] are both %q; give each %s its own label", field, j, i, l, what)
		}
		seen[l] = i
	}
	return nil
}

// snakeCase reports whether s matches [a-z][a-z0-9_]*.
func snakeCase(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Direction is the direction of translated traffic.
type Direction uint8

const (
	// C2S is client to server: subflow segments rewritten into the TCP
	// connection.
	C2S Direction = iota
	// S2C is server to client: TCP segments spread over the subflows.
	S2C
	// NumDirections is the number of directions.
	NumDirections
)

// String returns "c2s" or "s2c".
func (d Direction) String() string {
	switch d {
	case C2S:
		return "c2s"
	case S2C:
		return "s2c"
	}
	return "direction_" + strconv.Itoa(int(d))
}

package shortconn

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, which must be in ascending order: the smallest sample such that
// at least p percent of the samples are less than or equal to it. It
// returns 0 for an empty slice; p <= 0 gives the minimum and p > 100 the
// maximum.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// Summary is the latency distribution of a set of samples, in
// microseconds.
type Summary struct {
	// Count is the number of samples.
	Count int `json:"count"`
	// MeanUS is the arithmetic mean.
	MeanUS float64 `json:"mean_us"`
	// MinUS, P50US, P90US, P99US, P999US and MaxUS are nearest-rank
	// percentiles (Percentile).
	MinUS  float64 `json:"min_us"`
	P50US  float64 `json:"p50_us"`
	P90US  float64 `json:"p90_us"`
	P99US  float64 `json:"p99_us"`
	P999US float64 `json:"p999_us"`
	MaxUS  float64 `json:"max_us"`
}

// Summarize sorts samples in place and returns their distribution. The
// zero Summary describes no samples.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return Summary{
		Count:  len(samples),
		MeanUS: us(sum) / float64(len(samples)),
		MinUS:  us(samples[0]),
		P50US:  us(Percentile(samples, 50)),
		P90US:  us(Percentile(samples, 90)),
		P99US:  us(Percentile(samples, 99)),
		P999US: us(Percentile(samples, 99.9)),
		MaxUS:  us(samples[len(samples)-1]),
	}
}

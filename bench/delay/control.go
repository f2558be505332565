package delay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Status is what GET /stats returns (JSON).
type Status struct {
	A, B       string
	AB, BA     DirStatus
	SendErrors uint64
}

// DirStatus is one direction's parameters and counters.
type DirStatus struct {
	DelayMs float64 `json:"delay_ms"`
	Loss    float64 `json:"loss"`
	Limit   int     `json:"limit"`
	RateBps uint64  `json:"rate_bps"`
	QueueMs float64 `json:"queue_ms"`
	Stats
}

func dirStatus(l *Line) DirStatus {
	p := l.Params()
	return DirStatus{DelayMs: float64(p.Delay) / 1e6, Loss: p.Loss, Limit: p.Limit, RateBps: p.Rate,
		QueueMs: float64(p.Queue) / 1e6, Stats: l.Stats()}
}

// Status returns the parameters and counters of both directions.
func (br *Bridge) Status() Status {
	return Status{A: br.A, B: br.B, AB: dirStatus(br.AB), BA: dirStatus(br.BA), SendErrors: br.SendErrors()}
}

// Handler returns the control endpoint:
//
//	GET /stats                                   Status as JSON
//	GET|POST /set?dir=ab|ba|both&delay=D&loss=P&rate=R&queue=Q&limit=N
//
// D and Q are Go durations ("80ms"), P a probability in [0, 1], R bits
// per second (0: unlimited); parameters left out keep their value. /set
// answers with the new Status.
func (br *Bridge) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, br.Status())
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var lines []*Line
		switch q.Get("dir") {
		case "ab":
			lines = []*Line{br.AB}
		case "ba":
			lines = []*Line{br.BA}
		case "both", "":
			lines = []*Line{br.AB, br.BA}
		default:
			http.Error(w, fmt.Sprintf("dir %q: want ab, ba or both", q.Get("dir")), http.StatusBadRequest)
			return
		}
		ps := make([]Params, len(lines))
		for i, l := range lines {
			p, err := apply(l.Params(), q)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			ps[i] = p
		}
		for i, l := range lines {
			_ = l.Set(ps[i]) // validated by apply
		}
		writeJSON(w, br.Status())
	})
	return mux
}

// apply returns p with the delay, loss and limit of query q, checked.
func apply(p Params, q url.Values) (Params, error) {
	if s := q.Get("delay"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return p, fmt.Errorf("delay %q: %v", s, err)
		}
		p.Delay = d
	}
	if s := q.Get("loss"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return p, fmt.Errorf("loss %q: %v", s, err)
		}
		p.Loss = v
	}
	if s := q.Get("rate"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return p, fmt.Errorf("rate %q: %v", s, err)
		}
		p.Rate = v
	}
	if s := q.Get("queue"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return p, fmt.Errorf("queue %q: %v", s, err)
		}
		p.Queue = d
	}
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return p, fmt.Errorf("limit %q: %v", s, err)
		}
		p.Limit = v
	}
	return p, p.Validate()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The tests' reason layout, shaped like the dataplane's: one component's
// reasons, another's with a prefix, then the worker's own.
const (
	dropNoRoute = iota
	dropTTLExpired
	dropTranslateNoMapping
	dropTxFull
	numTestDrops
)

var testDrops = []string{
	dropNoRoute:            "no_route",
	dropTTLExpired:         "ttl_expired",
	dropTranslateNoMapping: "translate_no_mapping",
	dropTxFull:             "tx_full",
}

const (
	joinUnknownToken = iota
	joinBadHMAC
)

var testJoins = []string{joinUnknownToken: "unknown_token", joinBadHMAC: "bad_hmac"}

const (
	fallbackTableFull = iota
	fallbackClientDropped
)

var testFallbacks = []string{fallbackTableFull: "table_full", fallbackClientDropped: "client_dropped"}

// fakePorts implements PortStatsSource for ports 0 and 1 only.
type fakePorts struct{}

func (fakePorts) PortStats(port int) (PortStats, bool) {
	if port > 1 {
		return PortStats{}, false
	}
	b := uint64(port+1) * 100
	return PortStats{IPackets: b + 1, OPackets: b + 2, IBytes: b + 3, OBytes: b + 4,
		IMissed: b + 5, IErrors: b + 6, OErrors: b + 7, RxNoMbuf: b + 8}, true
}

// fakePools implements MempoolSource with one pool.
type fakePools struct{}

func (fakePools) MempoolStats(i int) (MempoolStats, bool) {
	if i > 0 {
		return MempoolStats{}, false
	}
	return MempoolStats{Name: "mbuf_pool", InUse: 4096, Capacity: 16383}, true
}

// scrape fetches url and parses the text exposition into
// "name{label="v",...}" -> value, labels sorted by name.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			out[seriesKey(name, m)] = value(f.GetType(), m)
		}
	}
	return out
}

func seriesKey(name string, m *dto.Metric) string {
	var ls []string
	for _, l := range m.GetLabel() {
		ls = append(ls, l.GetName()+"=\""+l.GetValue()+"\"")
	}
	sort.Strings(ls)
	return name + "{" + strings.Join(ls, ",") + "}"
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue()
	}
	return -1
}

func newTestServer(t *testing.T, o Options) *httptest.Server {
	t.Helper()
	c, err := NewCollector(o)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(reg))
	t.Cleanup(srv.Close)
	return srv
}

func TestScrape(t *testing.T) {
	var w0, w1 Counters
	srv := newTestServer(t, Options{
		Workers:   []Worker{{Counters: &w0}, {Name: "lcore2", Counters: &w1}},
		Ports:     []string{"p1", "p2", "p3"},
		PortStats: fakePorts{},
		Mempools:  fakePools{},

		DropReasons:     testDrops,
		JoinRejects:     testJoins,
		FallbackReasons: testFallbacks,
	})

	// The goroutine plays worker 0 while the test scrapes concurrently, as
	// Prometheus would.
	const bursts = 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < bursts; i++ {
			w0.Rx(0, 32, 32*1500)
			w0.Tx(2, 32, 32*1500)
			w0.Drop(dropNoRoute)
			w0.DropN(dropTxFull, 3)
			w0.AddTranslated(0, C2S, 1400)
			w0.AddTranslated(1, S2C, 1000)
			w0.RejectJoin(joinBadHMAC)
			if i%4 == 0 {
				w0.Fallback(fallbackClientDropped)
			}
			w0.ConnectionsOpened.Add(1)
			w0.ConnectionsActive.Add(1)
			if i%2 == 1 {
				w0.ConnectionsClosed.Add(1)
				w0.ConnectionsActive.Add(-1)
			}
			w0.NeighborEntries.Store(int64(i % 7))
		}
		w0.Drop(numTestDrops + 20) // slots without a label: counted, not exported
		w0.RejectJoin(12)
		w0.Fallback(MaxFallbackReasons - 1)
		w0.ARPRequestsSent.Add(2)
		w0.ICMPEchoRepliesSent.Add(5)
		w0.GeneratedACKs.Add(9)
		w0.ClosedResets.Add(3)
		w0.AcksThinned.Add(7)
	}()
	for i := 0; i < 3; i++ {
		scrape(t, srv.URL+"/metrics")
	}
	<-done
	got := scrape(t, srv.URL+"/metrics")

	tests := []struct {
		name string
		in   string
		want float64
	}{
		{"rx packets", `flexcp_port_rx_packets_total{port="p1",worker="0"}`, 32 * bursts},
		{"rx bytes", `flexcp_port_rx_bytes_total{port="p1",worker="0"}`, 32 * 1500 * bursts},
		{"tx packets", `flexcp_port_tx_packets_total{port="p3",worker="0"}`, 32 * bursts},
		{"tx on another port", `flexcp_port_tx_packets_total{port="p1",worker="0"}`, 0},
		{"other worker", `flexcp_port_rx_packets_total{port="p1",worker="lcore2"}`, 0},
		{"drop no route", `flexcp_drops_total{reason="no_route",worker="0"}`, bursts},
		{"drop tx full", `flexcp_drops_total{reason="tx_full",worker="0"}`, 3 * bursts},
		{"zero drop", `flexcp_drops_total{reason="ttl_expired",worker="0"}`, 0},
		{"zero drop, idle worker", `flexcp_drops_total{reason="translate_no_mapping",worker="lcore2"}`, 0},
		{"translated c2s", `flexcp_translated_segments_total{direction="c2s",port="p1",worker="0"}`, bursts},
		{"translated c2s bytes", `flexcp_translated_bytes_total{direction="c2s",port="p1",worker="0"}`, 1400 * bursts},
		{"translated s2c", `flexcp_translated_bytes_total{direction="s2c",port="p2",worker="0"}`, 1000 * bursts},
		{"join rejects", `flexcp_joins_rejected_total{reason="bad_hmac",worker="0"}`, bursts},
		{"zero join reject", `flexcp_joins_rejected_total{reason="unknown_token",worker="lcore2"}`, 0},
		{"fallbacks", `flexcp_connections_fallback_total{reason="client_dropped",worker="0"}`, bursts / 4},
		{"zero fallback", `flexcp_connections_fallback_total{reason="table_full",worker="0"}`, 0},
		{"connections opened", `flexcp_connections_opened_total{worker="0"}`, bursts},
		{"connections active", `flexcp_connections_active{worker="0"}`, bursts / 2},
		{"neighbors", `flexcp_neighbor_entries{worker="0"}`, (bursts - 1) % 7},
		{"arp", `flexcp_arp_requests_sent_total{worker="0"}`, 2},
		{"echo", `flexcp_icmp_echo_replies_sent_total{worker="0"}`, 5},
		{"generated acks", `flexcp_generated_acks_total{worker="0"}`, 9},
		{"closed resets", `flexcp_closed_resets_total{worker="0"}`, 3},
		{"server acks thinned", `flexcp_server_acks_thinned_total{worker="0"}`, 7},
		{"zero closed resets, idle worker", `flexcp_closed_resets_total{worker="lcore2"}`, 0},
		{"ethdev ipackets", `flexcp_ethdev_ipackets_total{port="p1"}`, 101},
		{"ethdev rx_nombuf", `flexcp_ethdev_rx_nombuf_total{port="p2"}`, 208},
		{"mempool in use", `flexcp_mempool_in_use{pool="mbuf_pool"}`, 4096},
		{"mempool capacity", `flexcp_mempool_capacity{pool="mbuf_pool"}`, 16383},
	}
	for _, tt := range tests {
		v, ok := got[tt.in]
		if !ok {
			t.Errorf("%s: series %s missing from the scrape", tt.name, tt.in)
			continue
		}
		if v != tt.want {
			t.Errorf("%s: %s = %v, want %v", tt.name, tt.in, v, tt.want)
		}
	}
	// Ports the source does not know are skipped.
	for _, absent := range []string{
		`flexcp_ethdev_ipackets_total{port="p3"}`,
		`flexcp_port_rx_packets_total{port="",worker="0"}`,
	} {
		if _, ok := got[absent]; ok {
			t.Errorf("series %s should not be exported", absent)
		}
	}
	// Every labelled reason is exported once per worker, at zero too, and
	// the slots without a label not at all, though they counted.
	perWorker := map[string]int{}
	for k := range got {
		if m := reasonSeries.FindStringSubmatch(k); m != nil {
			perWorker[m[1]+" "+m[2]]++
		}
	}
	for _, tt := range []struct {
		name   string
		labels []string
	}{
		{"flexcp_drops_total", testDrops},
		{"flexcp_joins_rejected_total", testJoins},
		{"flexcp_connections_fallback_total", testFallbacks},
	} {
		for _, w := range []string{"0", "lcore2"} {
			if n := perWorker[tt.name+" "+w]; n != len(tt.labels) {
				t.Errorf("%s{worker=%q}: %d series, want one per label (%d)", tt.name, w, n, len(tt.labels))
			}
		}
	}
	if s := Sum(&w0); s.Drops != (1+3)*bursts+1 || s.JoinsRejected != bursts+1 || s.ConnectionsFallback != bursts/4+1 {
		t.Errorf("Sum = %+v: want the unlabelled slots counted", s)
	}
	if _, ok := got[`go_goroutines{}`]; !ok {
		t.Error("NewRegistry did not register the Go collector")
	}
}

// reasonSeries matches a series key with a reason label, capturing the
// metric name and the worker.
var reasonSeries = regexp.MustCompile(`^(\w+)\{reason="\w+",worker="(\w+)"\}$`)

// TestScrapeNoReasons checks that without labels no reason series is
// exported, whatever the blocks count.
func TestScrapeNoReasons(t *testing.T) {
	var w Counters
	w.Drop(0)
	w.RejectJoin(0)
	w.Fallback(0)
	srv := newTestServer(t, Options{Workers: []Worker{{Counters: &w}}})
	for k := range scrape(t, srv.URL+"/metrics") {
		if reasonSeries.MatchString(k) {
			t.Errorf("series %s exported with no reason labels", k)
		}
	}
}

func TestScrapeNoSources(t *testing.T) {
	var w Counters
	w.Rx(0, 1, 60)
	srv := newTestServer(t, Options{Workers: []Worker{{Counters: &w}}, Ports: []string{"p1"}})
	got := scrape(t, srv.URL+"/metrics")
	if got[`flexcp_port_rx_bytes_total{port="p1",worker="0"}`] != 60 {
		t.Errorf("rx bytes = %v, want 60", got[`flexcp_port_rx_bytes_total{port="p1",worker="0"}`])
	}
	for k := range got {
		if strings.HasPrefix(k, "flexcp_ethdev_") || strings.HasPrefix(k, "flexcp_mempool_") {
			t.Errorf("series %s exported without a source", k)
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "/metrics") {
		t.Errorf("GET / = %q, want a pointer to /metrics", body)
	}
}

func TestNewCollectorErrors(t *testing.T) {
	var w Counters
	tests := []struct {
		name string
		in   Options
		want string
	}{
		{"too many ports", Options{Ports: make([]string, MaxPorts+1)}, "at most 16"},
		{"nil block", Options{Workers: []Worker{{Name: "a"}}}, "worker 0 has no Counters block"},
		{"duplicate name", Options{Workers: []Worker{{Name: "1", Counters: &w}, {Counters: &w}}}, `worker name "1" is used twice`},
		{"too many drop reasons", Options{DropReasons: manyLabels(MaxDropReasons + 1)}, "97 drop reason labels; a Counters block has 96 slots"},
		{"too many join rejects", Options{JoinRejects: manyLabels(MaxJoinRejects + 1)}, "17 join-reject reason labels"},
		{"too many fallbacks", Options{FallbackReasons: manyLabels(MaxFallbackReasons + 1)}, "17 fallback reason labels"},
		{"empty label", Options{DropReasons: []string{"no_route", ""}}, `Options.DropReasons[1] = "": a drop reason label must be non-empty snake_case`},
		{"upper case", Options{JoinRejects: []string{"BadHMAC"}}, `Options.JoinRejects[0] = "BadHMAC"`},
		{"leading digit", Options{FallbackReasons: []string{"4way"}}, `Options.FallbackReasons[0] = "4way"`},
		{"dash", Options{DropReasons: []string{"tx-full"}}, `"tx-full"`},
		{"duplicate label", Options{DropReasons: []string{"no_route", "tx_full", "no_route"}}, `Options.DropReasons[0] and [2] are both "no_route"`},
	}
	for _, tt := range tests {
		_, err := NewCollector(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewCollector error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// manyLabels returns n distinct valid labels.
func manyLabels(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = "reason_" + strconv.Itoa(i)
	}
	return l
}

func TestLabels(t *testing.T) {
	// The full arrays may be labelled.
	if _, err := NewCollector(Options{DropReasons: manyLabels(MaxDropReasons),
		JoinRejects: manyLabels(MaxJoinRejects), FallbackReasons: manyLabels(MaxFallbackReasons)}); err != nil {
		t.Errorf("NewCollector with every slot labelled: %v", err)
	}
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"word", "tx_full", true},
		{"digits", "ipv4_header_len", true},
		{"prefixed", "translate_no_mapping", true},
		{"one letter", "x", true},
		{"empty", "", false},
		{"leading underscore", "_x", false},
		{"leading digit", "4x", false},
		{"upper case", "noRoute", false},
		{"dash", "no-route", false},
		{"space", "no route", false},
	}
	for _, tt := range tests {
		if got := snakeCase(tt.in); got != tt.want {
			t.Errorf("%s: snakeCase(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   Direction
		want string
	}{{C2S, "c2s"}, {S2C, "s2c"}, {NumDirections, "direction_2"}} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Direction(%d).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLabelsCopied checks that the collector keeps its own label lists.
func TestLabelsCopied(t *testing.T) {
	var w Counters
	labels := []string{"no_route"}
	srv := newTestServer(t, Options{Workers: []Worker{{Counters: &w}}, DropReasons: labels})
	labels[0] = "renamed"
	got := scrape(t, srv.URL+"/metrics")
	if _, ok := got[`flexcp_drops_total{reason="no_route",worker="0"}`]; !ok {
		t.Error("changing the caller's label list renamed an exported series")
	}
}

func TestCountersPadding(t *testing.T) {
	var c Counters
	head := uintptr(unsafe.Pointer(&c.Port)) - uintptr(unsafe.Pointer(&c))
	tail := unsafe.Sizeof(c) - (uintptr(unsafe.Pointer(&c.Reinjections)) - uintptr(unsafe.Pointer(&c)) + 8)
	if head < cacheLine || tail < cacheLine {
		t.Errorf("Counters padding: %d bytes before, %d after; want at least %d on each side", head, tail, cacheLine)
	}
}

// TestBumpAllocs asserts that every hot-path update allocates nothing.
func TestBumpAllocs(t *testing.T) {
	var c Counters
	tests := []struct {
		name string
		in   func()
	}{
		{"Rx", func() { c.Rx(3, 32, 48000) }},
		{"Tx", func() { c.Tx(15, 32, 48000) }},
		{"Drop", func() { c.Drop(dropTTLExpired) }},
		{"DropN", func() { c.DropN(dropTxFull, 7) }},
		{"RejectJoin", func() { c.RejectJoin(joinUnknownToken) }},
		{"Fallback", func() { c.Fallback(fallbackTableFull) }},
		{"AddTranslated", func() { c.AddTranslated(1, S2C, 1400) }},
		{"gauge", func() { c.ConnectionsActive.Add(1) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(1000, tt.in); got != 0 {
			t.Errorf("%s: %v allocs per call, want 0", tt.name, got)
		}
	}
	if got := c.Drops[dropTTLExpired].Load(); got < 1000 {
		t.Errorf("Drop did not count: %d", got)
	}
}

func TestSum(t *testing.T) {
	var a, b Counters
	a.Rx(0, 10, 1000)
	b.Rx(5, 1, 60)
	b.Tx(1, 2, 120)
	a.Drop(dropNoRoute)
	b.DropN(dropTranslateNoMapping, 4)
	a.Drop(MaxDropReasons - 1)
	a.ConnectionsOpened.Add(3)
	b.Fallback(fallbackClientDropped)
	a.Fallback(MaxFallbackReasons - 1)
	a.JoinsAccepted.Add(2)
	b.RejectJoin(joinBadHMAC)
	want := Totals{RxPackets: 11, RxBytes: 1060, TxPackets: 2, TxBytes: 120, Drops: 6,
		ConnectionsOpened: 3, ConnectionsFallback: 2, JoinsAccepted: 2, JoinsRejected: 1}
	if got := Sum(&a, &b); got != want {
		t.Errorf("Sum = %+v, want %+v", got, want)
	}
}

func TestServeListener(t *testing.T) {
	var w Counters
	w.Tx(0, 1, 64)
	c, err := NewCollector(Options{Workers: []Worker{{Counters: &w}}, Ports: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ServeListener(ctx, ln, reg) }()
	got := scrape(t, "http://"+ln.Addr().String()+"/metrics")
	if got[`flexcp_port_tx_bytes_total{port="p1",worker="0"}`] != 64 {
		t.Errorf("tx bytes over the real server = %v, want 64", got[`flexcp_port_tx_bytes_total{port="p1",worker="0"}`])
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("ServeListener after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener did not return after its context ended")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts after shutdown")
	}
}

func TestServe(t *testing.T) {
	reg := prometheus.NewRegistry()
	// A port already taken makes Serve fail at once with advice.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Serve(context.Background(), ln.Addr().String(), reg)
	if err == nil || !strings.Contains(err.Error(), "change [metrics] listen") {
		t.Errorf("Serve on a taken port = %v, want an error saying to change [metrics] listen", err)
	}
	// A free port serves until the context ends.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var serr error
	go func() { defer wg.Done(); serr = Serve(ctx, addr, reg) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Serve never answered on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if serr != nil && !errors.Is(serr, context.Canceled) {
		t.Errorf("Serve after cancel = %v, want nil", serr)
	}
}

// BenchmarkBump measures the counter updates a worker makes: Rx once per
// receive burst of 32 packets, Drop once per dropped packet.
func BenchmarkBump(b *testing.B) {
	b.Run("Rx", func(b *testing.B) {
		var c Counters
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c.Rx(i&3, 32, 32*1500)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/32, "ns/pkt")
	})
	b.Run("Drop", func(b *testing.B) {
		var c Counters
		b.ReportAllocs()
		for b.Loop() {
			c.Drop(dropNoRoute)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/drop")
	})
}

func BenchmarkScrape(b *testing.B) {
	ws := make([]Worker, 2)
	for i := range ws {
		ws[i].Counters = new(Counters)
	}
	// About as many drop reasons as the dataplane labels.
	c, err := NewCollector(Options{Workers: ws, Ports: []string{"p1", "p2", "p3"},
		DropReasons: manyLabels(45), JoinRejects: testJoins, FallbackReasons: testFallbacks})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

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
			w0.Drop(DropNoRoute)
			w0.DropN(DropTxFull, 3)
			w0.AddTranslated(0, C2S, 1400)
			w0.AddTranslated(1, S2C, 1000)
			w0.RejectJoin(JoinBadHMAC)
			w0.ConnectionsOpened.Add(1)
			w0.ConnectionsActive.Add(1)
			if i%2 == 1 {
				w0.ConnectionsClosed.Add(1)
				w0.ConnectionsActive.Add(-1)
			}
			w0.NeighborEntries.Store(int64(i % 7))
		}
		w0.Drop(DropReason(40 + 20)) // an unnamed translator slot
		w0.RejectJoin(JoinReject(12))
		w0.ARPRequestsSent.Add(2)
		w0.ICMPEchoRepliesSent.Add(5)
		w0.GeneratedACKs.Add(9)
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
		{"named zero drop", `flexcp_drops_total{reason="translate_bad_join_hmac",worker="lcore2"}`, 0},
		{"unnamed drop", `flexcp_drops_total{reason="translate_60",worker="0"}`, 1},
		{"translated c2s", `flexcp_translated_segments_total{direction="c2s",port="p1",worker="0"}`, bursts},
		{"translated c2s bytes", `flexcp_translated_bytes_total{direction="c2s",port="p1",worker="0"}`, 1400 * bursts},
		{"translated s2c", `flexcp_translated_bytes_total{direction="s2c",port="p2",worker="0"}`, 1000 * bursts},
		{"join rejects", `flexcp_joins_rejected_total{reason="bad_hmac",worker="0"}`, bursts},
		{"unnamed join reject", `flexcp_joins_rejected_total{reason="join_12",worker="0"}`, 1},
		{"connections opened", `flexcp_connections_opened_total{worker="0"}`, bursts},
		{"connections active", `flexcp_connections_active{worker="0"}`, bursts / 2},
		{"neighbors", `flexcp_neighbor_entries{worker="0"}`, (bursts - 1) % 7},
		{"arp", `flexcp_arp_requests_sent_total{worker="0"}`, 2},
		{"echo", `flexcp_icmp_echo_replies_sent_total{worker="0"}`, 5},
		{"generated acks", `flexcp_generated_acks_total{worker="0"}`, 9},
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
	// Ports the source does not know are skipped; reserved drop slots that
	// never counted are not exported.
	for _, absent := range []string{
		`flexcp_ethdev_ipackets_total{port="p3"}`,
		`flexcp_drops_total{reason="translate_61",worker="0"}`,
		`flexcp_port_rx_packets_total{port="",worker="0"}`,
	} {
		if _, ok := got[absent]; ok {
			t.Errorf("series %s should not be exported", absent)
		}
	}
	if _, ok := got[`go_goroutines{}`]; !ok {
		t.Error("NewRegistry did not register the Go collector")
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
	}
	for _, tt := range tests {
		_, err := NewCollector(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewCollector error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestReasonNames(t *testing.T) {
	label := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{}
	for r := DropReason(0); r < NumDropReasons; r++ {
		s := r.String()
		if !label.MatchString(s) || seen[s] {
			t.Errorf("DropReason(%d).String() = %q: not a unique snake_case label", r, s)
		}
		seen[s] = true
		if r.named() && r >= FirstTranslateDrop && !strings.HasPrefix(s, "translate_") {
			t.Errorf("translator reason %d is named %q, want a translate_ prefix", r, s)
		}
	}
	if DropHandoffFull >= FirstTranslateDrop || DropTranslateJoinEarlyData >= NumDropReasons {
		t.Error("a drop reason is outside its block")
	}
	tests := []struct {
		name string
		in   interface{ String() string }
		want string
	}{
		{"first", DropNoRoute, "no_route"},
		{"translator", DropTranslateNoMapping, "translate_no_mapping"},
		{"unnamed dataplane", DropReason(30), "dataplane_30"},
		{"unnamed translator", DropReason(63), "translate_63"},
		{"join", JoinUnknownToken, "unknown_token"},
		{"unnamed join", JoinReject(15), "join_15"},
		{"c2s", C2S, "c2s"},
		{"s2c", S2C, "s2c"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.want)
		}
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
		{"Drop", func() { c.Drop(DropTTLExceeded) }},
		{"DropN", func() { c.DropN(DropTxFull, 7) }},
		{"RejectJoin", func() { c.RejectJoin(JoinUnknownToken) }},
		{"AddTranslated", func() { c.AddTranslated(1, S2C, 1400) }},
		{"gauge", func() { c.ConnectionsActive.Add(1) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(1000, tt.in); got != 0 {
			t.Errorf("%s: %v allocs per call, want 0", tt.name, got)
		}
	}
	if got := c.Drops[DropTTLExceeded].Load(); got < 1000 {
		t.Errorf("Drop did not count: %d", got)
	}
}

func TestSum(t *testing.T) {
	var a, b Counters
	a.Rx(0, 10, 1000)
	b.Rx(5, 1, 60)
	b.Tx(1, 2, 120)
	a.Drop(DropNoRoute)
	b.DropN(DropTranslateNoMapping, 4)
	a.ConnectionsOpened.Add(3)
	b.ConnectionsFallback.Add(1)
	a.JoinsAccepted.Add(2)
	b.RejectJoin(JoinBadHMAC)
	want := Totals{RxPackets: 11, RxBytes: 1060, TxPackets: 2, TxBytes: 120, Drops: 5,
		ConnectionsOpened: 3, ConnectionsFallback: 1, JoinsAccepted: 2, JoinsRejected: 1}
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
			c.Drop(DropNoRoute)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/drop")
	})
}

func BenchmarkScrape(b *testing.B) {
	ws := make([]Worker, 2)
	for i := range ws {
		ws[i].Counters = new(Counters)
	}
	c, err := NewCollector(Options{Workers: ws, Ports: []string{"p1", "p2", "p3"}})
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

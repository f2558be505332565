package timeline

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func sample() *Timeline {
	return &Timeline{
		Title: "t", XLabel: "s", YLabel: "Mbit/s",
		T:      []float64{0, 0.5, 1},
		Series: []Series{{"p1", []float64{10, 20, 30}}, {"p2", []float64{0, 5.5, 0}}},
		Marks:  []Mark{{0.5, "join"}},
	}
}

func TestCSVRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "t_s,p1,p2\n0.000,10.00,0.00\n") {
		t.Fatalf("csv:\n%s", b.String())
	}
	tl, err := ReadCSV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.T) != 3 || tl.Series[1].Name != "p2" || tl.Series[1].V[1] != 5.5 {
		t.Fatalf("read back %+v", tl)
	}
	for _, bad := range []string{"", "x,y\n1,2\n", "t_s,a\n1\n", "t_s,a\nx,1\n", "t_s,a\n1,y\n"} {
		if _, err := ReadCSV(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadCSV(%q) accepted", bad)
		}
	}
}

// TestPNG: the chart decodes as a PNG of the requested size.
func TestPNG(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WritePNG(&b, 16*vg.Centimeter, 8*vg.Centimeter); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 50 || r.Dx() <= r.Dy() {
		t.Errorf("image %v", r)
	}
	bad := sample()
	bad.Series[0].V = bad.Series[0].V[:1]
	if err := bad.WritePNG(&b, vg.Centimeter, vg.Centimeter); err == nil {
		t.Error("mismatched series accepted")
	}
	if err := (&Timeline{}).WriteCSV(&b); err == nil {
		t.Error("empty timeline accepted")
	}
}

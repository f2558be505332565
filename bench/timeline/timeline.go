// Package timeline holds throughput-over-time series, one per path, and
// writes them as CSV and as a PNG line chart (gonum.org/v1/plot), for
// experiments such as the dynamic-path run of tests/integration
// (TestPathDynamic, results/dynamic.*).
//
// What it gives up: one chart style (lines, one per series, vertical
// marks for phase changes); no interactive output.
package timeline

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one line: values at the times of a Timeline.
type Series struct {
	Name string
	V    []float64
}

// Mark is a labelled instant (a phase change) drawn as a vertical line.
type Mark struct {
	T     float64
	Label string
}

// Timeline is a set of series sampled at common times (seconds).
type Timeline struct {
	Title, XLabel, YLabel string
	T                     []float64
	Series                []Series
	Marks                 []Mark
}

// Check reports whether every series has one value per time.
func (tl *Timeline) Check() error {
	if len(tl.Series) == 0 {
		return fmt.Errorf("timeline: no series")
	}
	for _, s := range tl.Series {
		if len(s.V) != len(tl.T) {
			return fmt.Errorf("timeline: series %q has %d values for %d times", s.Name, len(s.V), len(tl.T))
		}
	}
	return nil
}

// WriteCSV writes a header (t_s and the series names) and one row per
// time.
func (tl *Timeline) WriteCSV(w io.Writer) error {
	if err := tl.Check(); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	row := []string{"t_s"}
	for _, s := range tl.Series {
		row = append(row, s.Name)
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for i, t := range tl.T {
		row = row[:0]
		row = append(row, strconv.FormatFloat(t, 'f', 3, 64))
		for _, s := range tl.Series {
			row = append(row, strconv.FormatFloat(s.V[i], 'f', 2, 64))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads what WriteCSV wrote (marks and labels are not in the
// CSV).
func ReadCSV(r io.Reader) (*Timeline, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	if len(rows) < 1 || len(rows[0]) < 2 || rows[0][0] != "t_s" {
		return nil, fmt.Errorf("timeline: no t_s header")
	}
	tl := &Timeline{}
	for _, n := range rows[0][1:] {
		tl.Series = append(tl.Series, Series{Name: n})
	}
	for i, row := range rows[1:] {
		if len(row) != len(rows[0]) {
			return nil, fmt.Errorf("timeline: row %d has %d fields, want %d", i+2, len(row), len(rows[0]))
		}
		t, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			return nil, fmt.Errorf("timeline: row %d: %w", i+2, err)
		}
		tl.T = append(tl.T, t)
		for k := range tl.Series {
			v, err := strconv.ParseFloat(row[k+1], 64)
			if err != nil {
				return nil, fmt.Errorf("timeline: row %d: %w", i+2, err)
			}
			tl.Series[k].V = append(tl.Series[k].V, v)
		}
	}
	return tl, nil
}

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

// WritePNG draws the timeline (w x h centimetres) as PNG to out.
func (tl *Timeline) WritePNG(out io.Writer, w, h vg.Length) error {
	if err := tl.Check(); err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = tl.Title
	p.X.Label.Text = tl.XLabel
	p.Y.Label.Text = tl.YLabel
	p.Y.Min = 0
	p.Legend.Top = true
	ymax := 0.0
	for i, s := range tl.Series {
		xy := make(plotter.XYs, len(tl.T))
		for k := range tl.T {
			xy[k].X, xy[k].Y = tl.T[k], s.V[k]
			ymax = max(ymax, s.V[k])
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("timeline: %s: %w", s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	for _, m := range tl.Marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.T, Y: 0}, {X: m.T, Y: ymax * 1.05}})
		if err != nil {
			return err
		}
		l.Color = color.Gray{Y: 0x80}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		if m.Label != "" {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.T, Y: ymax * 1.05}}, Labels: []string{" " + m.Label}})
			if err != nil {
				return err
			}
			p.Add(lb)
		}
	}
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	_, err = wt.WriteTo(out)
	return err
}

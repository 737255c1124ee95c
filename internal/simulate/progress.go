package simulate

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = 100 * time.Millisecond

// progress draws one line, redrawn in place: the phase, a bar, done/total and the rate.
type progress struct {
	w     io.Writer
	total int
	mu    sync.Mutex
	name  string
	count *atomic.Int64
	began time.Time
	quit  chan struct{}
	done  chan struct{}
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, quit: make(chan struct{}), done: make(chan struct{})}
	if w == nil {
		close(p.done)
		return p
	}
	go p.loop()
	return p
}

func (p *progress) setCounter(name string, c *atomic.Int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil && p.name != "" {
		p.draw(true)
	}
	p.name, p.count, p.began = name, c, time.Now()
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			p.mu.Lock()
			p.draw(true)
			p.mu.Unlock()
			return
		case <-t.C:
			p.mu.Lock()
			p.draw(false)
			p.mu.Unlock()
		}
	}
}

func (p *progress) draw(final bool) {
	if p.name == "" {
		return
	}
	end := "\r"
	if final {
		end = "\n"
	}
	if p.count == nil {
		fmt.Fprintf(p.w, "\x1b[2K%-8s …%s", p.name, end)
		return
	}
	n := int(p.count.Load())
	const width = 30
	fill := 0
	if p.total > 0 {
		fill = min(width, n*width/p.total)
	}
	rate := float64(n) / max(time.Since(p.began).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\x1b[2K%-8s [%s%s] %d/%d  %.0f/s%s", p.name, strings.Repeat("#", fill),
		strings.Repeat(".", width-fill), n, p.total, rate, end)
}

func (p *progress) stop() {
	if p.w != nil {
		select {
		case <-p.quit:
		default:
			close(p.quit)
		}
	}
	<-p.done
}

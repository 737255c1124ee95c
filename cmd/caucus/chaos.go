package main

// The crash drill of `caucus simulate --chaos N` (spec/reliability.md D1, full figure): the
// real `caucus serve` as a child process, SIGKILLed and restarted under the rehearsal's load.
// cmd/caucus/crash_test.go is its CI version and shares lineWatch.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/simulate"
)

// Budgets of the crash drill.
const (
	// chaosStartTimeout bounds a start: the server rebuilds its tally from the log first.
	chaosStartTimeout = 60 * time.Second
	// chaosDownWait bounds how long a chair whose request got no answer waits for the restart
	// before sending again anyway.
	chaosDownWait = 30 * time.Second
)

// lineWatch is a child server's stderr: it closes ready at the "serving" log line and keeps
// the last lines for a failure message.
type lineWatch struct {
	mu    sync.Mutex
	buf   []byte
	last  []string
	ready chan struct{}
	seen  bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if !w.seen && strings.Contains(line, `"msg":"serving"`) {
			w.seen = true
			close(w.ready)
		}
		w.last = append(w.last, line)
		if len(w.last) > 20 {
			w.last = w.last[1:]
		}
	}
	return len(p), nil
}

func (w *lineWatch) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}

// child is `caucus serve` run as a child process, restartable.
type child struct {
	bin  string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan error
	log  *lineWatch
	up   chan struct{} // closed by the next start
	// startTimes are the durations from exec to "serving", one per start.
	startTimes []time.Duration
}

func (c *child) start() error {
	w := &lineWatch{ready: make(chan struct{})}
	cmd := exec.Command(c.bin, c.args...)
	cmd.Stderr = w
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	select {
	case <-w.ready:
	case err := <-exit:
		return fmt.Errorf("caucus serve exited at start: %v\n%s", err, w.tail())
	case <-time.After(chaosStartTimeout):
		cmd.Process.Kill()
		return fmt.Errorf("caucus serve not serving after %v\n%s", chaosStartTimeout, w.tail())
	}
	c.mu.Lock()
	c.cmd, c.exit, c.log = cmd, exit, w
	c.startTimes = append(c.startTimes, time.Since(began))
	old := c.up
	c.up = make(chan struct{})
	c.mu.Unlock()
	if old != nil {
		close(old)
	}
	return nil
}

// kill sends sig and waits for the process to end.
func (c *child) kill(sig os.Signal) error {
	c.mu.Lock()
	cmd, exit := c.cmd, c.exit
	c.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case err := <-exit:
		return err
	case <-time.After(chaosStartTimeout):
		cmd.Process.Kill()
		return errors.New("caucus serve did not stop")
	}
}

// restarted is closed by the next start.
func (c *child) restarted() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

type chaosConfig struct {
	kills       int
	binary      string
	electionDir string
	sim         simulate.Config
	truth       func(*election.Definition) (*simulate.Truth, error)
}

// runChaos is the crash drill: fresh database and credentials, the server started, the
// rehearsal run while a killer SIGKILLs and restarts it, then the rehearsal's comparison,
// which proves every acknowledged report stored once (each precinct's report count and the
// log size) and every number exact.
func runChaos(ctx context.Context, cc chaosConfig, stdout, stderr io.Writer) error {
	began := time.Now()
	bin := cc.binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return err
		}
	}
	def, err := election.LoadDir(cc.electionDir)
	if err != nil {
		return &hintError{err: err, hint: "--election is the folder caucus serve will run"}
	}
	cfg := cc.sim
	if cfg.Truth, err = cc.truth(def); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "caucus-chaos-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := "sqlite:" + filepath.Join(dir, "caucus.db")
	fmt.Fprintf(stdout, "crash drill: issuing credentials for %d precincts (argon2id)…\n", len(def.Precincts()))
	if out, err := exec.CommandContext(ctx, bin, "credentials", "--election", cc.electionDir, "--db", db, "--out", filepath.Join(dir, "pins")).CombinedOutput(); err != nil {
		return fmt.Errorf("caucus credentials: %v\n%s", err, out)
	}
	if cfg.PINs, _, err = readPINsFile(filepath.Join(dir, "pins", "pins.csv")); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := &child{bin: bin, args: []string{"serve", "--election", cc.electionDir, "--db", db, "--addr", addr}}
	if err := srv.start(); err != nil {
		return err
	}
	defer func() { srv.kill(syscall.SIGTERM) }()
	cfg.URL = "http://" + addr + "/"

	// The killer: once the reports start, kill after a random number of acknowledgements,
	// spread so that the kills fall over the whole load.
	var acks atomic.Int64
	ackCh := make(chan struct{}, 1)
	cfg.Acked = func(report.Receipt) {
		acks.Add(1)
		select {
		case ackCh <- struct{}{}:
		default:
		}
	}
	cfg.Down = func(ctx context.Context) error {
		select {
		case <-srv.restarted():
		case <-time.After(chaosDownWait):
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	expected := int64(len(cfg.Truth.Plans))
	reportsStarted := make(chan struct{})
	cfg.Phase = func(name string) {
		if name == "reports" {
			close(reportsStarted)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	killed := 0
	var killErr error
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		select {
		case <-reportsStarted:
		case <-runCtx.Done():
			return
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, 0xdead))
		step := max(1, expected/int64(cc.kills+1))
		for k := range cc.kills {
			target := int64(k)*step + 1 + rng.Int64N(step)
			for acks.Load() < target {
				select {
				case <-ackCh:
				case <-runCtx.Done():
					return
				}
			}
			if err := srv.kill(syscall.SIGKILL); err == nil {
				killErr = fmt.Errorf("kill %d: caucus serve exited cleanly after SIGKILL", k+1)
				cancel()
				return
			}
			if err := srv.start(); err != nil {
				killErr = fmt.Errorf("restart after kill %d: %w", k+1, err)
				cancel()
				return
			}
			killed++
		}
	}()
	sum, err := simulate.Run(runCtx, cfg)
	cancel()
	<-killerDone
	if killErr != nil {
		return fmt.Errorf("%w\n%s", killErr, srv.log.tail())
	}
	var starts []time.Duration
	srv.mu.Lock()
	starts = append(starts, srv.startTimes...)
	srv.mu.Unlock()
	fmt.Fprintf(stdout, "crash drill: %d kills (SIGKILL) under %d chairs, %d reports acknowledged, %d s in all; restart → serving: median %s, max %s\n",
		killed, chairsAtOnce(cfg), len(sumAcked(sum)), int(time.Since(began).Seconds()),
		simulate.Percentile(starts, 50).Round(time.Millisecond), simulate.Percentile(starts, 100).Round(time.Millisecond))
	if killed < cc.kills && err == nil {
		fmt.Fprintf(stdout, "crash drill: the load ended before kill %d; the %d kills done were under load\n", killed+1, killed)
	}
	return finish(sum, err)(stdout)
}

func chairsAtOnce(cfg simulate.Config) int {
	if cfg.Faults[simulate.Burst] {
		return len(cfg.Truth.Plans)
	}
	return cfg.Concurrency
}

func sumAcked(s *simulate.Summary) map[string]report.Receipt {
	if s == nil {
		return nil
	}
	return s.Acked
}

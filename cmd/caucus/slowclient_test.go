package main

// reliability.md I3, CI version: slowloris against the real serve (its http.Server and its
// timeouts, in-process on a loopback listener).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"caucus/internal/report"
	"caucus/internal/server/servertest"
)

// TestSlowClients: 200 connections send a request line and then dribble one header line a
// second, never finishing the headers. serve's ReadHeaderTimeout must cut every one of them
// (they are opened together, so the test takes about one timeout, not 200), and meanwhile a
// chair logs in and reports as usual.
func TestSlowClients(t *testing.T) {
	const (
		slow    = 200
		dribble = time.Second // a slowloris keeps each connection alive with a line this often
		// safety is the client's own bound on one connection: twice the server's header
		// budget, and less than readTimeout, so that a server without ReadHeaderTimeout
		// (falling back to ReadTimeout) fails the test; reaching it means no cut.
		safety = 2 * readHeaderTimeout
	)
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	def := servertest.Definition(t, 2)
	dbURL := "sqlite:" + filepath.Join(dir, "caucus.db")
	db, err := openDB(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issueCredentials(ctx, def, db, filepath.Join(dir, "pins"), "http://127.0.0.1/", io.Discard); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pins := readPins(t, filepath.Join(dir, "pins", "pins.csv"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, ln, def, nil, dbURL, serveOptions{}, slog.New(slog.DiscardHandler), func(url string) { ready <- url })
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}

	// The slow connections.
	var opened, cut sync.WaitGroup
	var notCut, cutCount atomic.Int64
	opened.Add(slow)
	for i := range slow {
		cut.Go(func() {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				opened.Done()
				t.Errorf("slow connection %d: %v", i, err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /api/v1/login HTTP/1.1\r\nHost: caucus\r\nX-Slow-0: a\r\n")
			opened.Done()
			stop := make(chan struct{})
			go func() {
				tick := time.NewTicker(dribble)
				defer tick.Stop()
				for n := 1; ; n++ {
					select {
					case <-stop:
						return
					case <-tick.C:
						fmt.Fprintf(conn, "X-Slow-%d: a\r\n", n) // fails once the server cut it
					}
				}
			}()
			defer close(stop)
			conn.SetReadDeadline(time.Now().Add(safety))
			_, err = io.Copy(io.Discard, conn) // returns when the server closes the connection
			if errors.Is(err, os.ErrDeadlineExceeded) {
				notCut.Add(1)
				return
			}
			cutCount.Add(1)
		})
	}
	opened.Wait()

	// A chair logs in and reports while the 200 hold their connections.
	p := def.Precincts()[0].ID
	hc := &http.Client{Timeout: safety}
	body, _ := json.Marshal(map[string]string{"precinct_id": p, "pin": pins[p]})
	resp, err := hc.Post(url+"api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login during the slowloris: %d", resp.StatusCode)
	}
	r := crashReport(report.Facts(def)[p], p, "legit", 1, map[string]bool{})
	req, _ := http.NewRequest("POST", url+"api/v1/reports", bytes.NewReader(r.Canonical()))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("report during the slowloris: %d", resp.StatusCode)
	}
	stillOpen := slow - cutCount.Load()
	cut.Wait()
	if n := notCut.Load(); n > 0 {
		t.Errorf("%d of %d slow connections were not cut by the server within %v", n, slow, safety)
	}
	t.Logf("%d slow connections cut (%d still open when the chair's report was acked); %v in all",
		cutCount.Load(), stillOpen, time.Since(began).Round(time.Millisecond))
}

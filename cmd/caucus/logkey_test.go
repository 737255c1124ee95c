package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caucus/internal/server/servertest"
)

// TestServeLogKeyAndMetrics: caucus serve keeps the log's signing key in a 0600 file beside the
// database, not in it, and serves the metrics only on --metrics-addr; its help says both.
func TestServeLogKeyAndMetrics(t *testing.T) {
	dir := t.TempDir()
	electionDir := filepath.Join(dir, "election")
	if err := servertest.Definition(t, 2).Write(electionDir); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "night.db")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- (&Main{}).Run(ctx, []string{"serve", "--election", electionDir, "--db", "sqlite:" + dbPath,
			"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	var base, metrics string
	sc := bufio.NewScanner(pr)
	for (base == "" || metrics == "") && sc.Scan() {
		var line struct{ Msg, URL string }
		json.Unmarshal(sc.Bytes(), &line)
		switch line.Msg {
		case "serving":
			base = line.URL
		case "serving metrics":
			metrics = line.URL
		}
	}
	go io.Copy(io.Discard, pr)
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	if base == "" || metrics == "" {
		t.Fatalf("serve did not log its URLs: %q %q", base, metrics)
	}
	keyFile := filepath.Join(dir, "night.log-key")
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("log key file: %v, %v", st, err)
	}
	key, _ := os.ReadFile(keyFile)
	secret := strings.TrimSpace(string(key))
	// The private key is everything after the fourth '+' ("PRIVATE+KEY+name+hash+key"): the key
	// is base64, which may hold '+' itself, and a short tail could turn up in a file by chance.
	parts := strings.SplitN(secret, "+", 5)
	if len(parts) != 5 || len(parts[4]) < 40 {
		t.Fatalf("the log key file does not hold a note signer key")
	}
	secret = parts[4]
	for _, p := range []string{dbPath, dbPath + "-wal"} {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the log key", filepath.Base(p))
		}
	}
	for url, want := range map[string]int{base + "metrics": 404, metrics: 200} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
		}
	}
	var help bytes.Buffer
	(&Main{}).Run(context.Background(), []string{"serve", "--help"}, strings.NewReader(""), &help, io.Discard)
	for _, flag := range []string{"--log-key FILE", "--metrics-addr HOST:PORT", "CAUCUS_LOG_KEY"} {
		if !strings.Contains(help.String(), flag) {
			t.Errorf("serve --help does not mention %s", flag)
		}
	}
}

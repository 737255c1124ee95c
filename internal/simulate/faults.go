package simulate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"caucus/internal/client"
)

// Fault is one kind of trouble the night may bring.
type Fault string

// The kinds of --faults.
const (
	WrongPIN   Fault = "wrong-pin"   // a chair types a wrong PIN first (401 or a typo's 400), then the right one
	Retry      Fault = "retry"       // the phone sends an acknowledged report again: 200, the same receipt
	DropBefore Fault = "drop-before" // the connection dies while the report is sent; the phone sends it again
	DropAfter  Fault = "drop-after"  // the answer is lost after the server sent it; the phone sends it again: 200
	Conflict   Fault = "conflict"    // a second, different report for the precinct: 409, kept, flagged
	Slow       Fault = "slow"        // the report dribbles in over a slow link
	Burst      Fault = "burst"       // every chair sends at the same moment
	Troll      Fault = "troll"       // junk logins and reports from other addresses, all night
)

// AllFaults is every kind, in the order of the help text.
var AllFaults = []Fault{WrongPIN, Retry, DropBefore, DropAfter, Conflict, Slow, Burst, Troll}

// Faults is a set of fault kinds.
type Faults map[Fault]bool

// ParseFaults reads a comma-separated list of kinds, or "all", or "" (none).
func ParseFaults(s string) (Faults, error) {
	f := Faults{}
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
		case k == "all":
			for _, a := range AllFaults {
				f[a] = true
			}
		case slices.Contains(AllFaults, Fault(k)):
			f[Fault(k)] = true
		default:
			return nil, fmt.Errorf("unknown fault %q (the kinds: %s, or all)", k, joinFaults(AllFaults))
		}
	}
	return f, nil
}

func joinFaults(fs []Fault) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// String lists the kinds set, in AllFaults order.
func (f Faults) String() string {
	var on []Fault
	for _, k := range AllFaults {
		if f[k] {
			on = append(on, k)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return joinFaults(on)
}

// faultShare is the share of chairs each per-chair fault hits, in percent.
const faultShare = 10

// Fault budgets: bounded in count and in time.
const (
	slowChunk     = 48                    // bytes per write of a slow client
	slowPause     = 15 * time.Millisecond // between its writes: ~150 ms for a report
	trollRate     = 1000                  // junk requests per second at most (reliability.md O3 CI)
	trollPerChair = 20                    // and at most this many per chair in all
)

// loopback says whether u names a loopback host: faults are only ever aimed at one.
func loopback(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// sourceAddr gives chair i its own loopback address (127.0.0.0/8 is all loopback on Linux), as
// real chairs have their own phones: the server's per-address throttle then sees them apart.
// The troll uses 127.200.0.0/16.
func sourceAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, byte(1+i>>16), byte(i>>8), byte(1+i&0xff%254))}
}

func trollAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 200, byte(i>>8), byte(1+i%254))}
}

// httpClient is a client whose connections come from local (nil: any).
func httpClient(local *net.TCPAddr, timeout time.Duration, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: local, Timeout: timeout}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext,
		MaxIdleConnsPerHost: conns, IdleConnTimeout: 30 * time.Second, DisableCompression: true}}
}

// rawRequest writes one POST by hand on a fresh connection from local. cut > 0 closes the
// connection after that many bytes of the body; otherwise the whole request is written and,
// when readStatus, the status line read before the connection is dropped unread.
func rawRequest(ctx context.Context, base string, local *net.TCPAddr, path, token string, body []byte, cut int, readStatus bool) (int, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, err
	}
	d := &net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
		strings.TrimSuffix(u.Path, "/")+path, u.Host, token, len(body))
	if cut > 0 && cut < len(body) {
		b.Write(body[:cut])
		_, err = conn.Write(b.Bytes())
		return 0, err
	}
	b.Write(body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		return 0, err
	}
	if !readStatus {
		return 0, nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil // the body is never read: the answer is lost
}

// slowBody hands out a body a few bytes at a time.
type slowBody struct {
	b []byte
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(slowPause) // the slow link itself, not a synchronisation
	n := copy(p[:min(len(p), slowChunk)], s.b)
	s.b = s.b[n:]
	return n, nil
}

// slowSubmit sends a report over a slow link with the chair's client.
func slowSubmit(ctx context.Context, hc *http.Client, base, token string, body []byte) (client.Submitted, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/api/v1/reports", &slowBody{b: body})
	if err != nil {
		return client.Submitted{}, err
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return client.Submitted{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return client.Submitted{}, err
	}
	return client.ParseSubmitted(resp.StatusCode, resp.Header, out)
}

// troll floods the server with junk until ctx ends or its budget is spent: logins for
// precincts that do not exist and with malformed PINs, reports with forged tokens and reports
// that are not JSON, from 64 addresses. Every answer must be a refusal; a 2xx is a breach.
func troll(ctx context.Context, base string, budget int, seed uint64, count func(kind string), breach func(string)) {
	rng := rand.New(rand.NewPCG(seed, 0x7011))
	clients := make([]*http.Client, 64)
	for i := range clients {
		clients[i] = httpClient(trollAddr(i), 5*time.Second, 2)
	}
	tick := time.NewTicker(time.Second / trollRate)
	defer tick.Stop()
	var sent atomic.Int64
	for int(sent.Load()) < budget {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sent.Add(1)
		hc := clients[rng.IntN(len(clients))]
		var path, token, body string
		switch k := rng.IntN(4); k {
		case 0:
			path, body = "/api/v1/login", fmt.Sprintf(`{"precinct_id":"troll-%d","pin":"%012d"}`, rng.IntN(1e6), rng.Int64N(1e12))
		case 1:
			path, body = "/api/v1/login", fmt.Sprintf(`{"precinct_id":"troll-%d","pin":"12"}`, rng.IntN(1e6))
		case 2:
			path, token, body = "/api/v1/reports", fmt.Sprintf("forged%d", rng.Uint64()), `{"report_id":"x","precinct_id":"y","attendees":1,"first":{},"final":{}}`
		default:
			path, token, body = "/api/v1/reports", "", `{"not json`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				count("troll: no answer")
			}
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		count(fmt.Sprintf("troll %s → %d", strings.TrimPrefix(path, "/api/v1/"), resp.StatusCode))
		if resp.StatusCode < 300 {
			breach(fmt.Sprintf("a junk request to %s got %d", path, resp.StatusCode))
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"caucus/internal/election"
	"caucus/internal/hq"
)

// startDemo runs `caucus demo` in-process and returns its base URL and a stop function that
// waits for a clean exit.
func startDemo(t *testing.T, dir string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := (&Main{}).Run(ctx, []string{"demo", "--data", dir, "--addr", "127.0.0.1:0"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
		done <- code
	}()
	urlRE := regexp.MustCompile(`results +(http://[0-9.:]+/)api/v1/results`)
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		cancel()
		t.Fatalf("demo did not print its URLs (exit %d)", <-done)
	}
	return base, func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	}
}

func post(t *testing.T, url, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// TestDemo runs the main job as a newcomer would: the demo starts with the 2020 Iowa election,
// writes the PINs, a chair logs in with one and reports, results show it, the practice twin is
// marked, and a second run on the same folder resumes the same election.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	base, stop := startDemo(t, dir)
	f, err := os.Open(filepath.Join(dir, "credentials", "pins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 1766 {
		t.Fatalf("pins.csv: %d rows, %v", len(rows), err)
	}
	pins := map[string]string{}
	for _, r := range rows[1:] {
		pins[r[0]] = r[1]
	}
	// The made-up chairs' contacts, beside the election folder where serve reads them: one
	// for every precinct, each phone E.164 and in the 555 exchange.
	def, err := election.LoadDir(filepath.Join(dir, "election"))
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := hq.LoadContacts(filepath.Join(dir, "contacts.csv"), def)
	if err != nil || len(contacts) != len(pins) {
		t.Fatalf("contacts.csv: %d contacts for %d precincts, %v", len(contacts), len(pins), err)
	}
	for id, c := range contacts {
		if !strings.HasPrefix(c.Phone, "+1515555") || pins[id] == "" {
			t.Errorf("contact of %s: %s", id, c.Phone)
		}
	}
	status, b := post(t, base+"api/v1/login", "", map[string]string{"precinct_id": "adair-1nw-adair", "pin": pins["adair-1nw-adair"]})
	if status != 200 {
		t.Fatalf("login: %d %s", status, b)
	}
	var login struct{ Token string }
	json.Unmarshal(b, &login)
	report := map[string]any{"report_id": "demo-1", "precinct_id": "adair-1nw-adair", "attendees": 30,
		"first": map[string]int{"biden": 6, "buttigieg": 9, "klobuchar": 7, "sanders": 8},
		"final": map[string]int{"biden": 6, "buttigieg": 9, "klobuchar": 7, "sanders": 8}}
	status, b = post(t, base+"api/v1/reports", login.Token, report)
	if status != 201 {
		t.Fatalf("report: %d %s", status, b)
	}
	results := get(t, base+"api/v1/results")
	if !bytes.Contains(results, []byte(`"precincts_reporting":1`)) || !bytes.Contains(results, []byte(`"precincts_total":1765`)) {
		t.Errorf("results: %s", results)
	}
	// Headquarters: the demo's staff accounts log in with what staff.csv says.
	staff := readCSV(t, filepath.Join(dir, "credentials", "staff.csv"))
	if len(staff) != 9 || staff[4][0] != "operator1" {
		t.Fatalf("staff.csv: %v", staff)
	}
	if status, b := post(t, base+"api/v1/staff/login", "", map[string]string{"user": "operator1", "password": staff[4][2]}); status != 200 {
		t.Errorf("staff login: %d %s", status, b)
	}
	if page := get(t, base+"hq/login"); !bytes.Contains(page, []byte(`id="otp"`)) {
		t.Errorf("no headquarters login page at /hq/login")
	}
	status, b = post(t, base+"practice/api/v1/reports", login.Token, map[string]any{"report_id": "practice-1",
		"precinct_id": "adair-1nw-adair", "attendees": 20, "first": map[string]int{"oakhurst": 12, "wrenfield": 8},
		"final": map[string]int{"oakhurst": 12, "wrenfield": 8}})
	if status != 201 || !bytes.Contains(b, []byte(`"practice":true`)) {
		t.Errorf("practice report: %d %s", status, b)
	}
	stop()

	base, stop = startDemo(t, dir)
	defer stop()
	if again := get(t, base+"api/v1/results"); !bytes.Equal(again, results) {
		t.Errorf("resumed demo serves other results:\n%s\n%s", results, again)
	}
	if again := readCSV(t, filepath.Join(dir, "credentials", "staff.csv")); fmt.Sprint(again) != fmt.Sprint(staff) {
		t.Error("the resumed demo wrote other staff accounts")
	}
	if status, b := post(t, base+"api/v1/staff/login", "", map[string]string{"user": "reviewer2", "password": staff[8][2]}); status != 200 {
		t.Errorf("staff login after resuming: %d %s", status, b)
	}
	// The PINs written on the first run still work: nothing was issued again.
	if status, b := post(t, base+"api/v1/login", "", map[string]string{"precinct_id": "adair-1nw-adair", "pin": pins["adair-1nw-adair"]}); status != 200 {
		t.Errorf("login after resuming: %d %s", status, b)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/server/servertest"
)

// caucus simulate --chaos, end to end on the real binary: 3 SIGKILLs under a small synthetic
// night with every fault; the drill itself checks every acknowledged report stored once and
// every published number (reliability.md D1's CI version is TestCrashRecovery; this one tests
// the drill's own wiring).
func TestSimulateChaos(t *testing.T) {
	bin := buildCaucus(t)
	dir := filepath.Join(t.TempDir(), "election")
	if err := servertest.Definition(t, 40).Write(dir); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := (&Main{}).Run(context.Background(), []string{"simulate", "--chaos", "3", "--binary", bin,
		"--election", dir, "--faults", "all", "--concurrency", "8", "--seed", "5"}, nil, &out, &errb)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "crash drill: 3 kills") {
		t.Errorf("the drill did not report 3 kills")
	}
}

// Usage errors exit 2 with a hint.
func TestSimulateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"simulate"},
		{"simulate", "--url", "http://127.0.0.1:1/", "--pins", "x", "--precincts", "3", "--replay", "f.csv"},
		{"simulate", "--url", "http://127.0.0.1:1/", "--pins", "x", "--faults", "meteor"},
		{"simulate", "--chaos", "2"},
		{"simulate", "--url", "http://127.0.0.1:1/", "--pins", "x", "--hq-user", "rita", "--hq-token", "t"},
		{"simulate", "--chaos", "2", "--election", "d", "--hq-token", "t"},
		{"simulate", "--url", "http://127.0.0.1:1/", "--pins", "x", "--hotline-share", "0.2"},
		{"simulate", "--url", "http://127.0.0.1:1/", "--pins", "x", "--hotline-share", "1.5", "--operators", "ops.csv"},
		{"simulate", "--url", "http://127.0.0.1:1/", "--pins", "x", "--qr-share", "1.5"},
		{"simulate", "--chaos", "2", "--election", "d", "--qr-share", "0.5"},
	} {
		var out, errb bytes.Buffer
		if code := (&Main{}).Run(context.Background(), args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, errb.String())
		}
	}
}

// caucus simulate with headquarters, end to end against a real server: the reviewer's account
// (--hq-user, its password in CAUCUS_HQ_PASSWORD) resolves the review queue and the published
// numbers equal the truth.
func TestSimulateHeadquarters(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 40})
	pins := filepath.Join(t.TempDir(), "pins.csv")
	var b strings.Builder
	b.WriteString("precinct_id,pin\n")
	for _, p := range env.Def.Precincts() {
		fmt.Fprintf(&b, "%s,%s\n", p.ID, env.PINs[p.ID])
	}
	if err := os.WriteFile(pins, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CAUCUS_HQ_PASSWORD", env.StaffAccount("rita", auth.RoleReviewer))
	var out, errb bytes.Buffer
	code := (&Main{}).Run(context.Background(), []string{"simulate", "--url", env.URL, "--pins", pins, "--faults", "conflict",
		"--concurrency", "4", "--seed", "3", "--hq-user", "rita"}, nil, &out, &errb)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "headquarters: ") || !strings.Contains(out.String(), "every published number equals the truth") {
		t.Errorf("no headquarters decisions, or not ok, in the summary")
	}
}

// --operators takes a username,password file or the demo's staff.csv, whose operators it keeps;
// anything else is refused with a hint.
func TestOperatorsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("ops.csv", "username,password\na,pa\nb,pb\nc,pc\n")
	staff := write("staff.csv", "user,role,password,totp_secret\nadmin,admin,px,SECRET\nop1,operator,p1,\nrev,reviewer,pr,\nop2,operator,p2,\nop3,operator,p3,\n")
	for _, c := range []struct {
		path string
		want string
	}{{plain, "a:pa b:pb c:pc"}, {staff, "op1:p1 op2:p2 op3:p3"}} {
		ops, err := readOperatorsFile(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		var got []string
		for _, o := range ops {
			got = append(got, o.Username+":"+o.Password)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %v, want %s", c.path, got, c.want)
		}
	}
	for _, body := range []string{"user,password\na,b\n", "username,password\na,b\n", "user,role,password,totp_secret\nop1,operator,p1,\n"} {
		if _, err := readOperatorsFile(write("bad.csv", body)); err == nil {
			t.Errorf("%q accepted", body)
		}
	}
}

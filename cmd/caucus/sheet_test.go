package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"caucus/internal/auth"
)

const base = "https://caucus.example.org/"

func testCards(t *testing.T) []Card {
	t.Helper()
	secrets, err := auth.GeneratePrecinctSecrets([]string{"polk-1", "polk-2", "story-1", "story-sat-1"})
	if err != nil {
		t.Fatal(err)
	}
	return []Card{
		{County: "Polk", Name: "Des Moines 1", Secret: secrets[0]},
		{County: "Polk", Name: `<script>alert("x")</script> & Sons`, Secret: secrets[1]},
		{County: "Story", Name: "Ames 1", Secret: secrets[2]},
		{County: "Story", Name: "=HYPERLINK(\"evil\")", Secret: secrets[3]},
	}
}

func TestWritePINsCSV(t *testing.T) {
	cards := testCards(t)
	var secrets []auth.PrecinctSecret
	for _, c := range cards {
		secrets = append(secrets, c.Secret)
	}
	var buf bytes.Buffer
	if err := WritePINsCSV(&buf, secrets); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(secrets)+1 || strings.Join(rows[0], ",") != "precinct_id,pin" {
		t.Fatalf("rows = %q", rows)
	}
	for i, s := range secrets {
		row := rows[i+1]
		if row[0] != s.PrecinctID {
			t.Errorf("row %d is %q, want %q", i+1, row[0], s.PrecinctID)
		}
		pin, err := auth.ParsePIN(row[1])
		if err != nil || pin.Reveal() != s.PIN.Reveal() {
			t.Errorf("row %d: PIN does not parse back to the secret: %v", i+1, err)
		}
	}
	bad := append(secrets, auth.PrecinctSecret{PrecinctID: "=cmd", PIN: secrets[0].PIN, Token: secrets[0].Token})
	if err := WritePINsCSV(io.Discard, bad); err == nil {
		t.Fatal("a formula-like precinct ID was written")
	}
}

func TestWriteLoginsCSV(t *testing.T) {
	cards := testCards(t)
	var buf bytes.Buffer
	if err := WriteLoginsCSV(&buf, base, cards); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cards)+1 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, c := range cards {
		row := rows[i+1]
		u, err := url.Parse(row[4])
		if err != nil {
			t.Fatal(err)
		}
		q, err := url.ParseQuery(u.Fragment)
		if err != nil || q.Get("p") != c.Secret.PrecinctID || q.Get("t") != c.Secret.Token.Reveal() {
			t.Errorf("row %d: login URL fragment %q", i+1, u.Fragment)
		}
		if u.Scheme+"://"+u.Host+u.Path != base || u.RawQuery != "" {
			t.Errorf("row %d: login URL %q does not start with the base", i+1, row[4])
		}
	}
	if got := rows[4][2]; got != `'=HYPERLINK("evil")` {
		t.Errorf("formula-like name written as %q", got)
	}
}

func TestCountySheets(t *testing.T) {
	cards := testCards(t)
	cards = append(cards, Card{County: "O'Brien", Name: "Primghar", Secret: cards[0].Secret})
	sheets := CountySheets(cards)
	var names []string
	for _, s := range sheets {
		names = append(names, s.County+"="+s.FileName)
	}
	if got := strings.Join(names, " "); got != "O'Brien=county-o-brien.html Polk=county-polk.html Story=county-story.html" {
		t.Fatalf("sheets = %s", got)
	}
	if sheets[1].Cards[0].Name != `<script>alert("x")</script> & Sons` {
		t.Fatalf("cards not sorted by name: %q first", sheets[1].Cards[0].Name)
	}
}

func TestWriteCountySheet(t *testing.T) {
	for _, sheet := range CountySheets(testCards(t)) {
		t.Run(sheet.County, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCountySheet(&buf, base, sheet); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			if n := strings.Count(page, `<section class="card"`); n != len(sheet.Cards) {
				t.Fatalf("%d cards on the page, want %d", n, len(sheet.Cards))
			}
			for _, c := range sheet.Cards {
				if !strings.Contains(page, `data-precinct="`+c.Secret.PrecinctID+`"`) {
					t.Errorf("precinct %s missing", c.Secret.PrecinctID)
				}
				if !strings.Contains(page, "PIN "+c.Secret.PIN.Grouped()) {
					t.Errorf("PIN of %s missing", c.Secret.PrecinctID)
				}
				if strings.Contains(page, c.Secret.Token.Reveal()) {
					t.Errorf("the token of %s is printed as text; it belongs in the QR code only", c.Secret.PrecinctID)
				}
			}
			for _, m := range regexp.MustCompile(`PIN (\d{4}-\d{4}-\d{4})`).FindAllStringSubmatch(page, -1) {
				if _, err := auth.ParsePIN(m[1]); err != nil {
					t.Errorf("PIN on the page fails its check digit: %v", err)
				}
			}
			if strings.Contains(page, "<script>") {
				t.Error("a precinct name reached the page unescaped")
			}
			if sheet.County == "Polk" && !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Sons") {
				t.Error("the escaped name is not on the page")
			}
			svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
			if len(svgs) != len(sheet.Cards) {
				t.Fatalf("%d QR codes, want %d", len(svgs), len(sheet.Cards))
			}
			for _, svg := range svgs {
				if err := wellFormed(svg); err != nil {
					t.Fatalf("QR SVG is not well-formed XML: %v", err)
				}
			}
		})
	}
}

func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

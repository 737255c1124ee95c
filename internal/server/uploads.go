package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"caucus/internal/auth"
	"caucus/internal/phone"
	"caucus/internal/store"
)

// maxCallbackBytes bounds a call-back request: a phone number and a short note.
const maxCallbackBytes = 4 << 10

// maxPhotoPixels bounds a photo's width × height, read from its header before anything is
// decoded: a 2 MiB file can claim a huge image (a PNG of one colour compresses ~1000:1), and
// decoding allocates 4 bytes a pixel. The chair app sends about 1600 px on the long side
// (≈ 2 MP); 16 MP is a 12-megapixel phone camera's photo with room to spare.
const maxPhotoPixels = 16 << 20

// photoDecoders bounds how many photos are decoded at once, so that memory stays bounded
// (≈ 2 × 2 × 64 MiB at maxPhotoPixels) whatever the number of uploads in flight.
const photoDecoders = 2

// photoQualities are the JPEG qualities tried, in order, until the re-encoding fits
// store.MaxPhotoBytes: a worksheet stays legible at the last.
var photoQualities = []int{85, 70, 50}

// handlePhoto stores a worksheet photo by the SHA-256 of the bytes stored; the report names it
// in photo_sha256. The photo is decoded in full and re-encoded as JPEG: only its pixels are
// kept, so nothing the sender chose beyond them (trailing bytes, comments, metadata with a
// script or a location, a second format hidden in the file) is ever stored or served; a file
// that does not decode as the image it claims to be is refused. 201 when new, 200 when the same
// image was already stored; 429 past the precinct's quota.
func (s *Server) handlePhoto(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	sess, err := s.pageSession(r)
	if err != nil {
		return nil, 0, err
	}
	if sess.Role == auth.RoleObserver {
		return nil, 0, errorf(http.StatusForbidden, "forbidden", "observers read; they do not upload")
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != "image/jpeg" && ct != "image/png") {
		return nil, 0, errorf(http.StatusUnsupportedMediaType, "content_type", "send the photo as image/jpeg or image/png")
	}
	precinct := "" // a staff upload is charged to no precinct
	if sess.Role == auth.RoleChair {
		precinct = sess.PrecinctID
	}
	// A precinct past its quota is refused before its bytes are read or decoded.
	if precinct != "" {
		n, total, err := site.night.PhotoUsage(r.Context(), precinct)
		if err != nil {
			return nil, 0, err
		}
		if n >= store.MaxPhotosPerPrecinct || total >= store.MaxPhotoBytesPerPrecinct {
			return nil, 0, photoQuotaError()
		}
	}
	data, err := readBody(r, "photo", store.MaxPhotoBytes)
	if err != nil {
		return nil, 0, err
	}
	if len(data) == 0 {
		return nil, 0, errorf(http.StatusBadRequest, "bad_body", "the photo is empty")
	}
	clean, err := s.reencodePhoto(r.Context(), data, ct)
	if err != nil {
		return nil, 0, err
	}
	sum := sha256.Sum256(clean)
	sha := hex.EncodeToString(sum[:])
	created, err := site.night.PutPhoto(r.Context(), store.NewPhoto{SHA256: sha, ContentType: "image/jpeg", Data: clean,
		PrecinctID: precinct, Actor: submitterOf(sess)})
	if errors.Is(err, store.ErrQuota) {
		return nil, 0, photoQuotaError()
	}
	if err != nil {
		return nil, 0, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return map[string]any{"sha256": sha, "bytes": len(clean)}, status, nil
}

func photoQuotaError() error {
	return errorf(http.StatusTooManyRequests, "quota",
		"this precinct has sent its %d photos (%d MiB); send the report without one, or call headquarters",
		store.MaxPhotosPerPrecinct, store.MaxPhotoBytesPerPrecinct>>20)
}

// reencodePhoto decodes data as the image type ct says (never another: the declared type picks
// the decoder) after checking its size from the header, and returns it re-encoded as JPEG.
func (s *Server) reencodePhoto(ctx context.Context, data []byte, ct string) ([]byte, error) {
	decodeConfig, decode := jpeg.DecodeConfig, jpeg.Decode
	if ct == "image/png" {
		decodeConfig, decode = png.DecodeConfig, png.Decode
	}
	bad := func() error {
		return errorf(http.StatusBadRequest, "bad_photo", "the photo is not a %s image", ct)
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, bad()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPhotoPixels {
		return nil, errorf(http.StatusRequestEntityTooLarge, "too_large",
			"the photo is %d × %d pixels; send at most %d megapixels", cfg.Width, cfg.Height, maxPhotoPixels>>20)
	}
	select {
	case s.photoSlots <- struct{}{}:
		defer func() { <-s.photoSlots }()
	case <-ctx.Done():
		return nil, busy("the server is busy with other photos; try again")
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, bad()
	}
	img = opaque(img)
	var out bytes.Buffer
	for _, q := range photoQualities {
		out.Reset()
		if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("re-encode photo: %w", err)
		}
		if out.Len() <= store.MaxPhotoBytes {
			return out.Bytes(), nil
		}
	}
	return nil, errorf(http.StatusRequestEntityTooLarge, "too_large",
		"the photo is still larger than %d bytes as a JPEG; send a smaller one", store.MaxPhotoBytes)
}

// opaque lays an image with transparency over white (JPEG has no alpha, and a transparent
// worksheet scan would otherwise turn black), in place where the pixel type allows.
func opaque(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		if n, ok := img.(*image.NRGBA); ok { // opaque NRGBA is RGBA: the encoder's fast path
			return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
		}
		return img
	}
	switch m := img.(type) {
	case *image.NRGBA:
		for i := 0; i+3 < len(m.Pix); i += 4 {
			a := uint32(m.Pix[i+3])
			for k := range 3 {
				m.Pix[i+k] = uint8((uint32(m.Pix[i+k])*a + 255*(255-a) + 127) / 255)
			}
			m.Pix[i+3] = 255
		}
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	case *image.Paletted:
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			a := uint32(n.A)
			blend := func(v uint8) uint8 { return uint8((uint32(v)*a + 255*(255-a) + 127) / 255) }
			m.Palette[i] = color.RGBA{blend(n.R), blend(n.G), blend(n.B), 255}
		}
		return m
	}
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Over)
	return out
}

type callbackRequest struct {
	PrecinctID string `json:"precinct_id"`
	Phone      string `json:"phone"`
	Note       string `json:"note"`
}

// decodeCallback reads a call-back request: the phone number in E.164 form (normalizePhone) and
// the note trimmed and checked (checkNote); errors are 400s naming the field.
func decodeCallback(r *http.Request) (callbackRequest, error) {
	var req callbackRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, errorf(http.StatusBadRequest, "bad_callback", "send {\"precinct_id\", \"phone\", \"note\"} as JSON")
	}
	req.Note = strings.TrimSpace(req.Note)
	phone, err := normalizePhone(req.Phone)
	if err != nil {
		return req, errorf(http.StatusBadRequest, "bad_phone", "%s", err.Error())
	}
	req.Phone = phone
	if err := checkNote(req.Note); err != nil {
		return req, errorf(http.StatusBadRequest, "bad_note", "%s", err.Error())
	}
	return req, nil
}

// handleCallback puts a precinct in headquarters' call-back queue with the chair's number,
// stored in E.164 form; 429 past the precinct's hourly quota. The contract says anyone may ask
// (a chair who cannot log in is the one who most needs the call): without an Authorization
// header the request takes the throttled path of handleAnonymousCallback.
func (s *Server) handleCallback(site *Site, h http.Header, r *http.Request) (any, int, error) {
	if r.Header.Get("Authorization") == "" {
		return s.handleAnonymousCallback(site, h, r)
	}
	sess, err := s.session(r)
	if err != nil {
		return nil, 0, err
	}
	req, err := decodeCallback(r)
	if err != nil {
		return nil, 0, err
	}
	if !sess.MaySubmit(req.PrecinctID) {
		return nil, 0, errorf(http.StatusForbidden, "forbidden", "this login may not ask for precinct %s", req.PrecinctID)
	}
	cb, err := site.night.AddCallback(r.Context(), store.NewCallback{PrecinctID: req.PrecinctID, Phone: req.Phone,
		Note: req.Note, Actor: submitterOf(sess)})
	if err != nil {
		return nil, 0, callbackError(err)
	}
	return map[string]any{"callback_id": cb.ID, "phone": req.Phone, "at": cb.At.UTC().Format("2006-01-02T15:04:05Z")},
		http.StatusCreated, nil
}

// callbackError words the store's refusal of a call-back past the precinct's quota.
func callbackError(err error) error {
	if errors.Is(err, store.ErrQuota) {
		return errorf(http.StatusTooManyRequests, "quota",
			"headquarters already has %d call-back requests from this precinct in the last hour; they will call you",
			store.MaxCallbacksPerWindow)
	}
	return err
}

// normalizePhone is phone.Normalize: what a chair typed as an E.164 number, or a sentence
// for the chair saying what is wrong with it.
func normalizePhone(in string) (string, error) { return phone.Normalize(in) }

// checkNote refuses a note headquarters could be misled by: control characters and the
// invisible characters that reorder or hide text (bidi overrides such as U+202E).
func checkNote(note string) error {
	if utf8.RuneCountInString(note) > 500 {
		return errors.New("note: the note is longer than 500 characters")
	}
	if !utf8.ValidString(note) {
		return errors.New("note: the note is not valid text")
	}
	for _, c := range note {
		// U+200D, the zero-width joiner, is what joins emoji sequences: harmless, and typed.
		if unicode.IsControl(c) && c != '\n' || unicode.Is(unicode.Cf, c) && c != '\u200d' {
			return fmt.Errorf("note: the note holds an invisible character (U+%04X); type it again", c)
		}
	}
	return nil
}

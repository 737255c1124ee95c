package server

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// BenchmarkReencodePhoto is the server's work for one photo as the chair app sends it: a
// 1600 × 1200 JPEG, decoded and re-encoded.
func BenchmarkReencodePhoto(b *testing.B) {
	m := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			m.Set(x, y, color.RGBA{uint8(x ^ y), uint8(x * 3), uint8(y * 7), 255})
		}
	}
	var in bytes.Buffer
	if err := jpeg.Encode(&in, m, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	s := &Server{photoSlots: make(chan struct{}, photoDecoders)}
	b.SetBytes(int64(in.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.reencodePhoto(context.Background(), in.Bytes(), "image/jpeg"); err != nil {
			b.Fatal(err)
		}
	}
}

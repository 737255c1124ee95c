package server

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// maxGzipped bounds the documents kept compressed: the results feeds of the latest snapshots
// (a county's document keeps its ETag while others change, so several generations are live at
// once). Past it the cache starts again: compressing is cheap next to serving a crowd raw bytes.
const maxGzipped = 4096

// gzipped is the compressed form of pre-rendered documents, by ETag. ETags here are hashes of
// the bytes they name (tally's and the pages'), so one cache serves every server in the process.
var gzipped = struct {
	sync.Mutex
	m map[string][]byte
}{m: map[string][]byte{}}

// acceptsGzip reports whether the client takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// gzipOf returns body gzipped, computing it once per ETag.
func gzipOf(body []byte, etag string) []byte {
	gzipped.Lock()
	z, ok := gzipped.m[etag]
	gzipped.Unlock()
	if ok {
		return z
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
	zw.Write(body)
	zw.Close()
	z = b.Bytes()
	gzipped.Lock()
	if len(gzipped.m) >= maxGzipped {
		clear(gzipped.m)
	}
	gzipped.m[etag] = z
	gzipped.Unlock()
	return z
}

// writeBody writes a pre-rendered body, gzipped when the client takes it (Vary says so to caches).
func writeBody(w http.ResponseWriter, r *http.Request, body []byte, etag string) {
	w.Header().Set("Vary", "Accept-Encoding")
	if len(body) > 512 && acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipOf(body, etag))
		return
	}
	w.Write(body)
}

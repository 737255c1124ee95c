package server

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
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
	for rest := r.Header.Get("Accept-Encoding"); rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
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
// A body past net/http's chunking buffer gets its Content-Length, so that it goes out in one
// piece rather than chunked.
func writeBody(w http.ResponseWriter, r *http.Request, body []byte, etag string) {
	h := w.Header()
	h["Vary"] = hdrVary
	if len(body) > 512 && acceptsGzip(r) {
		h["Content-Encoding"] = hdrGzip
		body = gzipOf(body, etag)
	}
	if len(body) > 2048 {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.Write(body)
}

var hdrGzip = []string{"gzip"}

package server

import (
	"bytes"
	"net"
)

// MaxHeaderBytes is the http.Server.MaxHeaderBytes to serve Handler with (reliability.md I2):
// a request's headers are a bearer token, cookies and a few short fields.
const MaxHeaderBytes = 16 << 10

// Listener wraps a plain-TCP listener so that the few answers net/http writes itself, before
// any handler runs, carry the security headers too (reliability.md A6: every response): 431
// for a request whose headers pass http.Server.MaxHeaderBytes, and 400 or 501 for a request
// it cannot parse. http.Server has no hook for them; it writes each with one Write straight to
// the connection, as a status line followed by exactly goErrorHeaders, which no answer of
// Handler's starts with (its header block always begins with Content-Security-Policy, and
// net/http writes header keys sorted). It works on plain TCP, how caucus serve listens behind
// the proxy that ends TLS; under TLS ended in the process it would see only ciphertext.
func Listener(ln net.Listener) net.Listener { return headerListener{ln} }

type headerListener struct{ net.Listener }

func (l headerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return headerConn{c}, nil
}

// goErrorHeaders is what net/http's own error answers have after their status line
// (net/http/server.go, conn.serve).
var goErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

// securityBlock is the security headers as lines to insert after a status line.
var securityBlock = func() []byte {
	var b bytes.Buffer
	for _, h := range [][2]string{{"Cache-Control", hdrNoStore[0]}, {"Content-Security-Policy", hdrCSP[0]},
		{"Referrer-Policy", hdrNoReferer[0]}, {"Strict-Transport-Security", hdrHSTS[0]},
		{"X-Content-Type-Options", hdrNoSniff[0]}, {"X-Frame-Options", hdrDeny[0]}} {
		b.WriteString("\r\n" + h[0] + ": " + h[1])
	}
	return b.Bytes()
}()

type headerConn struct{ net.Conn }

func (c headerConn) Write(b []byte) (int, error) {
	i := goErrorAt(b)
	if i < 0 {
		return c.Conn.Write(b)
	}
	out := make([]byte, 0, len(b)+len(securityBlock))
	out = append(append(append(out, b[:i]...), securityBlock...), b[i:]...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// goErrorAt is where the status line of one of net/http's own 4xx/5xx answers ends in b, or -1
// when b is not one.
func goErrorAt(b []byte) int {
	if len(b) < 13 || !bytes.HasPrefix(b, []byte("HTTP/1.")) || (b[9] != '4' && b[9] != '5') {
		return -1
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 || !bytes.HasPrefix(b[i:], goErrorHeaders) {
		return -1
	}
	return i
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"caucus/internal/server/servertest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files, and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "caucus test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return cert, key, pool
}

func parseTLS(t *testing.T, args ...string) (*tlsFlags, *tls.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var tf tlsFlags
	tf.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c, err := tf.config()
	return &tf, c, err
}

// TestTLSFlags: the certificate flags go together, exclude automatic certificates, and a bad
// file fails at start; no flag is plain HTTP.
func TestTLSFlags(t *testing.T) {
	cert, key, _ := selfSigned(t)
	var ue *usageError
	var he *hintError
	for _, tt := range []struct {
		args  []string
		tls   bool
		usage bool // a usage error (exit 2)
		hint  bool // a hinted error (a file)
	}{
		{args: nil},
		{args: []string{"--tls-cert", cert, "--tls-key", key}, tls: true},
		{args: []string{"--tls-cert", cert}, usage: true},
		{args: []string{"--tls-key", key}, usage: true},
		{args: []string{"--tls-cert", key, "--tls-key", cert}, hint: true},
		{args: []string{"--tls-cert", filepath.Join(t.TempDir(), "none.pem"), "--tls-key", key}, hint: true},
		{args: []string{"--acme-host", "caucus.example.org"}, tls: true},
		{args: []string{"--acme-host", "caucus.example.org", "--tls-cert", cert, "--tls-key", key}, usage: true},
	} {
		_, c, err := parseTLS(t, tt.args...)
		if (c != nil) != tt.tls || errors.As(err, &ue) != tt.usage || errors.As(err, &he) != tt.hint || (err != nil) != (tt.usage || tt.hint) {
			t.Errorf("%q: config %v, err %v", tt.args, c != nil, err)
		}
	}
}

// TestTLSAutocert: --acme-host wires autocert: the TLS-ALPN-01 protocol is offered, the
// certificate comes from the manager, which answers only for the named host (another name is
// refused before any network), and keeps its account under --acme-cache.
func TestTLSAutocert(t *testing.T) {
	cache := t.TempDir()
	tf, c, err := parseTLS(t, "--acme-host", "caucus.example.org", "--acme-cache", cache)
	if err != nil {
		t.Fatal(err)
	}
	if tf.acmeCache != cache {
		t.Errorf("acme cache %q, want %q", tf.acmeCache, cache)
	}
	if !slices.Contains(c.NextProtos, "acme-tls/1") || c.GetCertificate == nil {
		t.Fatalf("not autocert's config: protocols %v", c.NextProtos)
	}
	_, err = c.GetCertificate(&tls.ClientHelloInfo{ServerName: "elsewhere.example.org", SupportedProtos: []string{"h2"}})
	if err == nil || !strings.Contains(err.Error(), "HostWhitelist") {
		t.Errorf("a certificate for another host: %v, want refused by the host policy", err)
	}
	if _, _, err := parseTLS(t); err != nil {
		t.Fatal(err)
	}
	if tf2, _, _ := parseTLS(t, "--acme-host", "x.example.org"); tf2.acmeCache != "caucus-acme" {
		t.Errorf("default acme cache %q", tf2.acmeCache)
	}
}

// TestServeTLS: with --tls-cert/--tls-key the server speaks HTTPS with that certificate, and
// says so in the address it announces.
func TestServeTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	_, c, err := parseTLS(t, "--tls-cert", cert, "--tls-key", key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	def := servertest.Definition(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, ln, def, nil, "sqlite:"+filepath.Join(t.TempDir(), "caucus.db"), slog.New(slog.DiscardHandler),
			serveOptions{tls: c}, func(url string) { ready <- url })
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	if !strings.HasPrefix(url, "https://") {
		t.Errorf("announced %s, want https://", url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("healthz over TLS: %d %s", resp.StatusCode, b)
	}
	// Plain HTTP on the TLS port gets Go's TLS server's 400, never the route.
	if resp, err := http.Get("http://" + strings.TrimPrefix(url, "https://") + "healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %d, want 400", resp.StatusCode)
		}
	}
}

package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// tlsHelp is the TLS part of serve's and demo's help.
const tlsHelp = `	--tls-cert FILE, --tls-key FILE
	                 serve HTTPS with this certificate (PEM, the chain after the leaf) and its
	                 key. A phone keeps the app for offline use only from an https:// address
	                 (or from localhost): to try the app on a real phone, listen off loopback
	                 with --addr 0.0.0.0:8443 and a certificate the phone trusts
	--acme-host NAME serve HTTPS with a certificate obtained and renewed automatically from
	                 Let's Encrypt (ACME, TLS-ALPN-01) for this public host name, which must
	                 resolve to this machine and reach it on port 443 (--addr 0.0.0.0:443).
	                 Using it accepts Let's Encrypt's terms of service
	--acme-cache DIR where the ACME account and certificates are kept (default ./caucus-acme)
	                 Behind a reverse proxy that terminates TLS, use neither: give the proxy's
	                 address with --trusted-proxy instead.
`

// tlsFlags are the HTTPS flags of serve and demo.
type tlsFlags struct {
	cert, key string
	acmeHost  string
	acmeCache string
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "tls-cert", "", "")
	fs.StringVar(&f.key, "tls-key", "", "")
	fs.StringVar(&f.acmeHost, "acme-host", "", "")
	fs.StringVar(&f.acmeCache, "acme-cache", "caucus-acme", "")
}

// config is the server's TLS configuration; nil serves plain HTTP. The certificate files are
// read now, so a wrong path or a key that does not match fails at start, not at the first
// phone's handshake.
func (f *tlsFlags) config() (*tls.Config, error) {
	switch {
	case f.acmeHost != "" && (f.cert != "" || f.key != ""):
		return nil, &usageError{err: errors.New("--acme-host and --tls-cert/--tls-key exclude each other"), hint: "give either a certificate or a host name for automatic certificates"}
	case f.acmeHost != "":
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, HostPolicy: autocert.HostWhitelist(f.acmeHost),
			Cache: autocert.DirCache(f.acmeCache)}
		c := m.TLSConfig()
		c.NextProtos = []string{"http/1.1", acme.ALPNProto} // serve wraps the TLS connections: no HTTP/2
		return c, nil
	case (f.cert == "") != (f.key == ""):
		return nil, &usageError{err: errors.New("--tls-cert and --tls-key go together"), hint: "give both, or neither for plain HTTP"}
	case f.cert != "":
		c, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, &hintError{err: fmt.Errorf("load the TLS certificate: %w", err), hint: "give a PEM certificate and its PEM key"}
		}
		return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
	}
	return nil, nil
}

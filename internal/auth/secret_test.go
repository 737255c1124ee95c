package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretsAreRedacted formats every secret type every way a secret could leak (fmt verbs,
// nested in structs with exported and unexported fields, slog's JSON and text handlers,
// json.Marshal) and asserts that the secret text never appears.
func TestSecretsAreRedacted(t *testing.T) {
	pin, err := GeneratePIN()
	if err != nil {
		t.Fatal(err)
	}
	tok := GenerateToken()
	sess, _ := newSessionToken()
	pw := NewPassword("correct horse battery staple")
	hash, err := HashSecret(TokenParams(), pin.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	_, _, key, err := decodeHash(hash.Encoded())
	if err != nil {
		t.Fatal(err)
	}
	hashSecret := hash.Encoded()[strings.LastIndexByte(hash.Encoded()[:strings.LastIndexByte(hash.Encoded(), '$')], '$'):]

	for _, tc := range []struct {
		name   string
		value  any
		secret string
	}{
		{"PIN", pin, pin.Reveal()},
		{"PIN grouped", pin, pin.Grouped()},
		{"Token", tok, tok.Reveal()},
		{"SessionToken", sess, sess.Reveal()},
		{"Password", pw, pw.Reveal()},
		{"Hash", hash, hashSecret},
		{"Hash key", hash, fmt.Sprintf("%x", key)},
		{"PrecinctSecret", PrecinctSecret{PrecinctID: "p1", PIN: pin, Token: tok}, pin.Reveal()},
		{"PrecinctCredential", PrecinctCredential{PrecinctID: "p1", PINHash: hash, TokenHash: hash}, hashSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.secret == "" {
				t.Fatal("empty secret")
			}
			type exported struct{ S any }
			type unexported struct{ s any }
			type pointer struct{ p *any }
			out := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T %v"} {
				out[verb] = fmt.Sprintf(verb, tc.value)
				out[verb+" exported"] = fmt.Sprintf(verb, exported{tc.value})
				out[verb+" unexported"] = fmt.Sprintf(verb, unexported{tc.value})
				out[verb+" pointer"] = fmt.Sprintf(verb, &exported{tc.value})
				out[verb+" slice"] = fmt.Sprintf(verb, []any{tc.value})
				v := tc.value
				out[verb+" pointer field"] = fmt.Sprintf(verb, pointer{&v})
			}
			out["Sprint"] = fmt.Sprint(tc.value)
			out["Sprintln"] = fmt.Sprintln(tc.value)
			b, err := json.Marshal(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			out["json"] = string(b)
			b, _ = json.Marshal(exported{tc.value})
			out["json nested"] = string(b)
			for _, h := range []struct {
				name string
				new  func(*bytes.Buffer) slog.Handler
			}{
				{"slog JSON", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
				{"slog text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
			} {
				var buf bytes.Buffer
				log := slog.New(h.new(&buf))
				log.Info("msg", "secret", tc.value)
				log.Info("msg", slog.Any("nested", exported{tc.value}))
				log.Info(fmt.Sprint(tc.value))
				log.With("with", tc.value).Info("msg")
				log.Info("msg", slog.Group("g", "secret", tc.value))
				out[h.name] = buf.String()
			}
			for how, s := range out {
				if strings.Contains(s, tc.secret) || strings.Contains(strings.ToLower(s), strings.ToLower(tc.secret)) {
					t.Errorf("%s leaks the secret: %s", how, s)
				}
			}
			if !strings.Contains(out["%v"], Redacted) {
				t.Errorf("%%v = %q, want it to say %s", out["%v"], Redacted)
			}
		})
	}
}

func TestHashStringShowsParameters(t *testing.T) {
	h, err := HashSecret(TokenParams(), "x")
	if err != nil {
		t.Fatal(err)
	}
	want := "$argon2id$v=19$m=1024,t=1,p=1$" + Redacted
	for _, got := range []string{h.String(), fmt.Sprint(h), fmt.Sprintf("%#v", h)} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters. They are encoded in every Hash, so raising them later
// only changes new hashes; old ones still verify (see Hash.Params to find hashes to renew).
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   int
	KeyLen    int
}

// DefaultParams hash PINs and staff passwords: the OWASP minimum for argon2id (19 MiB, two
// passes, one lane; reliability.md A3 asks staff ≥ m=19 MiB, t=2, p=1). On this project's
// 2-core reference machine one hash takes about 23 ms (BenchmarkVerify), half the 50 ms a
// login may spend, leaving room for two logins at once; memory per hash is bounded by
// MaxConcurrentHashes. An offline attacker with a stolen database pays 23 ms per guess per
// precinct (salts differ): ~2.3e9 core-seconds for one precinct's 1e11 PINs, and 100 times
// that for the 1e13 of a nation's 14-digit PINs. A nation's credentials are issued at these
// parameters too (175,000 of them: about 68 min on 2 cores, spread over every core and
// resumable, see caucus credentials): cheaper ones for bigger elections would trade the stolen
// database's cost for a one-off wait.
func DefaultParams() Params {
	return Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// TokenParams hash the QR tokens. A 160-bit token cannot be brute-forced whatever the hash,
// so slowness buys nothing; a cheap hash (~0.6 ms) means a flood of bogus tokens costs the
// server almost no CPU, which is what keeps the QR path open when PINs are under attack.
func TokenParams() Params {
	return Params{MemoryKiB: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read back from a store: a corrupted or hostile row must not make a
// login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

func (p Params) validate() error {
	switch {
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range", p.MemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d out of range", p.Time)
	case p.Threads < 1:
		return errors.New("argon2id needs at least one thread")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d out of range", p.KeyLen)
	}
	return nil
}

// Hash is a stored credential hash in the PHC string format
// "$argon2id$v=19$m=19456,t=2,p=1$SALT$KEY" (unpadded standard base64). It prints and logs
// its parameters only: salt and key are redacted.
type Hash struct{ secret }

// HashSecret hashes plaintext with a fresh random salt.
func HashSecret(p Params, plaintext string) (Hash, error) {
	if err := p.validate(); err != nil {
		return Hash{}, fmt.Errorf("hash secret: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(plaintext), salt, p.Time, p.MemoryKiB, p.Threads, uint32(p.KeyLen))
	return Hash{newSecret(encodeHash(p, salt, key))}, nil
}

func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// ParseHash checks an encoded hash read back from a store.
func ParseHash(encoded string) (Hash, error) {
	if _, _, _, err := decodeHash(encoded); err != nil {
		return Hash{}, err
	}
	return Hash{newSecret(encoded)}, nil
}

func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("parse hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("parse hash: unsupported argon2 version %q", parts[2])
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &threads); err != nil || n != 3 || threads > 255 {
		return p, nil, nil, fmt.Errorf("parse hash: bad parameters %q", parts[3])
	}
	p.Threads = uint8(threads)
	if salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("parse hash: salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("parse hash: key: %w", err)
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	if err := p.validate(); err != nil {
		return p, nil, nil, fmt.Errorf("parse hash: %w", err)
	}
	return p, salt, key, nil
}

// Encoded returns the PHC string, for the store to persist.
func (h Hash) Encoded() string { return h.reveal() }

// Params returns the parameters h was made with, to find hashes weaker than DefaultParams.
func (h Hash) Params() (Params, error) {
	p, _, _, err := decodeHash(h.reveal())
	return p, err
}

// errMismatch is returned by verify when the plaintext is wrong; callers turn it into
// ErrBadCredentials.
var errMismatch = errors.New("credential does not match")

// verify checks plaintext against h in constant time (for a given h): nil on a match,
// errMismatch on a wrong plaintext, another error when h cannot be decoded.
func (h Hash) verify(plaintext string) error {
	p, salt, want, err := decodeHash(h.reveal())
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(plaintext), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return errMismatch
	}
	return nil
}

// String shows the algorithm and parameters and redacts salt and key.
func (h Hash) String() string {
	s := h.reveal()
	if i := strings.LastIndexByte(s, '$'); i >= 0 {
		if j := strings.LastIndexByte(s[:i], '$'); j >= 0 {
			return s[:j+1] + Redacted
		}
	}
	return Redacted
}

// GoString is String, for %#v.
func (h Hash) GoString() string { return h.String() }

// Format writes String for every verb.
func (h Hash) Format(f fmt.State, _ rune) { fmt.Fprint(f, h.String()) }

// Matches reports whether plaintext is what h was made from (in constant time for a given h),
// for a tool that checks secrets it issued against the store (caucus credentials --resume).
// Logins never use it: they go through the Authenticator, which counts and throttles.
func (h Hash) Matches(plaintext string) (bool, error) {
	err := h.verify(plaintext)
	if errors.Is(err, errMismatch) {
		return false, nil
	}
	return err == nil, err
}

package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// MemStore is a Store in memory, for a single process and for tests. Everything is lost
// when the process ends: a restart resets every precinct's attempt count (each restart may
// allow PrecinctBudget more guesses per precinct) and logs every chair out, so serve must
// use the database store. It is safe for concurrent use.
type MemStore struct {
	mu       sync.Mutex
	precinct map[string]PrecinctCredential
	staff    map[string]StaffAccount
	throttle map[string]ThrottleCounter
	sessions map[SessionID]Session
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{
		precinct: make(map[string]PrecinctCredential),
		staff:    make(map[string]StaffAccount),
		throttle: make(map[string]ThrottleCounter),
		sessions: make(map[SessionID]Session),
	}
}

func (m *MemStore) PutPrecinctCredentials(_ context.Context, creds []PrecinctCredential) error {
	for _, c := range creds {
		if c.PrecinctID == "" || c.PINHash.IsZero() || c.TokenHash.IsZero() {
			return fmt.Errorf("put precinct credentials: incomplete credential for %q", c.PrecinctID)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range creds {
		m.precinct[c.PrecinctID] = c
	}
	return nil
}

func (m *MemStore) PrecinctCredential(_ context.Context, id string) (PrecinctCredential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.precinct[id]
	if !ok {
		return PrecinctCredential{}, fmt.Errorf("precinct credential %q: %w", id, ErrNotFound)
	}
	return c, nil
}

func (m *MemStore) PutStaffAccount(_ context.Context, a StaffAccount) error {
	if a.Username == "" || a.PasswordHash.IsZero() || !a.Role.Valid() {
		return fmt.Errorf("put staff account %q: incomplete account", a.Username)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.staff[a.Username] = a
	return nil
}

func (m *MemStore) StaffAccount(_ context.Context, username string) (StaffAccount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.staff[username]
	if !ok {
		return StaffAccount{}, fmt.Errorf("staff account %q: %w", username, ErrNotFound)
	}
	return a, nil
}

func (m *MemStore) AddThrottle(_ context.Context, key string, now time.Time) (ThrottleCounter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.throttle[key]
	c.Count++
	c.Last = now
	m.throttle[key] = c
	return c, nil
}

func (m *MemStore) Throttle(_ context.Context, key string) (ThrottleCounter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.throttle[key], nil
}

func (m *MemStore) ResetThrottle(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.throttle, key)
	return nil
}

func (m *MemStore) ExpireThrottles(_ context.Context, prefix string, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, c := range m.throttle {
		if strings.HasPrefix(k, prefix) && c.Last.Before(before) {
			delete(m.throttle, k)
			n++
		}
	}
	return n, nil
}

func (m *MemStore) CreateSession(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return fmt.Errorf("create session: duplicate ID")
	}
	m.sessions[s.ID] = s
	return nil
}

func (m *MemStore) Session(_ context.Context, id SessionID) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	return s, nil
}

func (m *MemStore) DeleteSession(_ context.Context, id SessionID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[id]; !ok {
		return fmt.Errorf("delete session: %w", ErrNotFound)
	}
	delete(m.sessions, id)
	return nil
}

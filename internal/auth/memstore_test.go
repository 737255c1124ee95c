package auth_test

import (
	"testing"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
)

func TestMemStore(t *testing.T) {
	authtest.TestStore(t, func(*testing.T) auth.Store { return auth.NewMemStore() })
}

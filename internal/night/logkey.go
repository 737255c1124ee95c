package night

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"caucus/internal/store"
	"caucus/internal/tlog"
)

// logKey is the transparency log's signer key as Config says where it lives, or "" when the
// store keeps it (neither LogKey nor LogKeyFile set). The key is kept out of the database so
// that a backup or a replica of it, which operators copy freely, cannot sign checkpoints: with
// the key anyone can sign a forked log that verifiers would accept.
//
// A database that holds a key (made before the key moved out) hands it over once: the key is
// written to LogKeyFile, and then deleted and scrubbed from the database (the kv table has no
// append-only trigger, and the key is not part of the log: deleting it changes no entry and no
// checkpoint). A key in the database that differs from the file's or the environment's is
// refused rather than chosen between.
func logKey(ctx context.Context, cfg Config, origin string) (string, error) {
	if cfg.LogKey != "" {
		return cfg.LogKey, retireStoredKey(ctx, cfg, cfg.LogKey, "the environment")
	}
	file := cfg.LogKeyFile
	if file == "" {
		return "", nil
	}
	key, err := readKeyFile(file)
	if err == nil {
		return key, retireStoredKey(ctx, cfg, key, file)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	created := false
	stored, err := cfg.Store.Value(ctx, tlog.KeyValue)
	switch {
	case err == nil:
		key = string(stored)
	case errors.Is(err, store.ErrNotFound):
		// A new key only for a log that has signed nothing: a lost key file with checkpoints
		// signed by it must be restored, not replaced (a new key would fork the log).
		if _, err := cfg.Store.Value(ctx, tlog.CheckpointValue); err == nil {
			return "", fmt.Errorf("the log key file %s is missing, and this election's log has checkpoints signed with it: restore the file", file)
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("read signed checkpoint: %w", err)
		}
		if key, _, err = note.GenerateKey(rand.Reader, origin); err != nil {
			return "", fmt.Errorf("generate log signing key: %w", err)
		}
		created = true
	default:
		return "", fmt.Errorf("read log signing key: %w", err)
	}
	switch err := writeKeyFile(file, key); {
	case errors.Is(err, fs.ErrExist): // another process made it first: its key it is
		if key, err = readKeyFile(file); err != nil {
			return "", err
		}
		created = false
	case err != nil:
		return "", err
	}
	if created {
		detail, _ := json.Marshal(map[string]string{"file": file})
		if _, err := cfg.Store.AddAudit(ctx, store.NewAudit{Actor: "system", Kind: store.AuditLogKeyCreated, Detail: detail}); err != nil {
			return "", fmt.Errorf("audit the new log key: %w", err)
		}
		cfg.Log.InfoContext(ctx, "created the log signing key", slog.String("file", file))
	}
	return key, retireStoredKey(ctx, cfg, key, file)
}

// retireStoredKey deletes and scrubs the store's copy of the log key, if it has one and it is
// key; another key there is an error.
func retireStoredKey(ctx context.Context, cfg Config, key, from string) error {
	stored, err := cfg.Store.Value(ctx, tlog.KeyValue)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read log signing key: %w", err)
	}
	if string(stored) != key {
		return fmt.Errorf("the database holds a log signing key other than the one from %s: find out which signed the published checkpoints before starting", from)
	}
	if err := cfg.Store.DeleteSecretValue(ctx, tlog.KeyValue); err != nil {
		return fmt.Errorf("remove the log signing key from the database: %w", err)
	}
	cfg.Log.InfoContext(ctx, "moved the log signing key out of the database", slog.String("to", from))
	return nil
}

// readKeyFile reads a log key file, which only its owner may read or write (as ssh refuses a
// private key file others can read).
func readKeyFile(file string) (string, error) {
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("log key file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("the log key file %s may be read by others (mode %04o): chmod 600 it", file, perm)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read log key file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if _, err := note.NewSigner(key); err != nil {
		return "", fmt.Errorf("the log key file %s does not hold a signing key: %w", file, err)
	}
	return key, nil
}

// writeKeyFile creates file (mode 0600, never over an existing one: fs.ErrExist) holding key,
// durably: the file and its directory entry are synced before it returns.
func writeKeyFile(file, key string) (err error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create log key file: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(file)
		}
	}()
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write log key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync log key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close log key file: %w", err)
	}
	dir, err := os.Open(filepath.Dir(file))
	if err != nil {
		return fmt.Errorf("sync log key file's folder: %w", err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("sync log key file's folder: %w", err)
	}
	return nil
}

package night

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"caucus/internal/tlog"
)

// Watcher is a store that several serve nodes append to (store/postgres): Watch calls f with
// the log's size when it starts and after every append any node commits, until ctx is done
// (nil) or its connection fails (an error; calling it again catches up).
type Watcher interface {
	Watch(ctx context.Context, f func(size int64)) error
}

// Serializer is a store that several serve nodes share and that takes headquarters' decisions
// one at a time across them (store/postgres: an advisory lock): Serialize runs f while holding
// the store's decision lock, waiting for it as long as ctx allows.
type Serializer interface {
	Serialize(ctx context.Context, f func(context.Context) error) error
}

// exclusive runs f, which checks the log and then appends to it (a decision, a certification,
// a step of the audit), alone: alone in this process and, on a store several nodes share
// (Serializer), alone among the nodes, with this node's tally first brought up to every entry
// any node has stored, so that what f checks is what the others decided.
func (n *Night) exclusive(ctx context.Context, f func(context.Context) error) error {
	n.serialMu.Lock()
	defer n.serialMu.Unlock()
	s, ok := n.store.(Serializer)
	if !ok {
		return f(ctx)
	}
	return s.Serialize(ctx, func(ctx context.Context) error {
		if _, err := n.current(ctx); err != nil {
			return err
		}
		return f(ctx)
	})
}

// Leader is a store whose transparency log only one node at a time signs: Lead reports whether
// this node holds the signer lease now, trying to take it when not (store/postgres; the store
// refuses the checkpoint's writes from any other node).
type Leader interface {
	Lead(ctx context.Context) (bool, error)
}

// Timings of a node sharing its store with others: all well under the second within which
// every node's results follow a commit made on another.
const (
	pollEvery  = 500 * time.Millisecond      // the backstop read of the log's size, beside Watch
	rewatch    = 250 * time.Millisecond      // the wait before listening again after a failure
	adoptEvery = tlog.CheckpointInterval     // a follower's read of the leader's checkpoint
	leadEvery  = 4 * tlog.CheckpointInterval // a follower's try of the signer lease
)

// watch keeps the tally, the tree and the event listeners up with every node's appends: a
// Watch (re-listened after a failure, catching up), and a poll of the log's size as a backstop.
func (n *Night) watch(ctx context.Context, w Watcher) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			err := w.Watch(ctx, func(size int64) { n.followLogged(ctx, size) })
			if err != nil && ctx.Err() == nil {
				n.log.WarnContext(ctx, "listening for other nodes' reports failed; listening again", slog.Any("err", err))
			}
			select {
			case <-ctx.Done():
			case <-time.After(rewatch):
			}
		}
	})
	wg.Go(func() {
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			size, err := n.store.Size(ctx)
			if err != nil {
				if ctx.Err() == nil {
					n.log.WarnContext(ctx, "couldn't read the log's size", slog.Any("err", err))
				}
				continue
			}
			n.followLogged(ctx, size)
		}
	})
	wg.Wait()
}

func (n *Night) followLogged(ctx context.Context, size int64) {
	if err := n.follow(ctx, size); err != nil && ctx.Err() == nil {
		n.log.ErrorContext(ctx, "tally could not follow the log", slog.Any("err", err))
	}
}

// lead runs the transparency log's signer while this node holds the signer lease, and
// otherwise serves the leader's latest checkpoint, trying the lease now and then so that a
// node takes over when the leader dies.
func (n *Night) lead(ctx context.Context, l Leader) {
	var (
		stop    context.CancelFunc // ends the signer; nil: not signing
		signing sync.WaitGroup
	)
	resign := func() {
		if stop != nil {
			stop()
			signing.Wait()
			stop = nil
		}
	}
	defer resign()
	t := time.NewTicker(adoptEvery)
	defer t.Stop()
	var last time.Time // the last try of the lease
	for {
		if stop != nil || time.Since(last) >= leadEvery {
			last = time.Now()
			ok, err := l.Lead(ctx)
			if err != nil && ctx.Err() == nil {
				n.log.WarnContext(ctx, "couldn't check the log's signer lease", slog.Any("err", err))
			}
			switch {
			case ok && stop == nil:
				n.log.InfoContext(ctx, "this node signs the log's checkpoints now")
				if err := n.SignCheckpoint(ctx); err != nil && ctx.Err() == nil {
					n.log.ErrorContext(ctx, "couldn't sign a checkpoint on taking the lease", slog.Any("err", err))
				}
				var sctx context.Context
				sctx, stop = context.WithCancel(ctx)
				signing.Go(func() { n.tlog.Run(sctx) })
			case !ok && stop != nil:
				n.log.WarnContext(ctx, "this node lost the log's signer lease; another signs")
				resign()
			}
		}
		if stop == nil {
			if err := n.adoptCheckpoint(ctx); err != nil && ctx.Err() == nil {
				n.log.ErrorContext(ctx, "couldn't adopt the leader's checkpoint", slog.Any("err", err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// adoptCheckpoint makes the leader's latest checkpoint this node's, following the log up to it
// first when it is ahead.
func (n *Night) adoptCheckpoint(ctx context.Context) error {
	need, err := n.tlog.Adopt(ctx)
	if err != nil || need == 0 {
		return err
	}
	if err := n.follow(ctx, need); err != nil {
		return err
	}
	_, err = n.tlog.Adopt(ctx)
	return err
}

package night

import (
	"errors"
	"sync"

	"caucus/internal/tally"
)

// maxSubscribers bounds the open subscriptions of a night: each is an event stream holding a
// goroutine and a socket. Beyond it Subscribe refuses, and a reader polls the results instead.
const maxSubscribers = 10000

// ErrTooManySubscribers means Subscribe refused: maxSubscribers are open.
var ErrTooManySubscribers = errors.New("too many open subscriptions")

// Subscribe returns a channel that holds the latest results whenever they change (a newer
// snapshot replaces one not yet received: a subscriber only ever needs the latest) and the
// function that ends the subscription. It fails with ErrTooManySubscribers.
func (n *Night) Subscribe() (<-chan *tally.Snapshot, func(), error) {
	ch, ok := n.events.subscribe()
	if !ok {
		return nil, nil, ErrTooManySubscribers
	}
	return ch, func() { n.events.unsubscribe(ch) }, nil
}

// broadcaster fans the latest snapshot out to subscribers, each through a one-slot channel
// that a newer snapshot overwrites.
type broadcaster struct {
	mu   sync.Mutex
	subs map[chan *tally.Snapshot]struct{}
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: map[chan *tally.Snapshot]struct{}{}}
}

func (b *broadcaster) subscribe() (chan *tally.Snapshot, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) >= maxSubscribers {
		return nil, false
	}
	ch := make(chan *tally.Snapshot, 1)
	b.subs[ch] = struct{}{}
	return ch, true
}

func (b *broadcaster) unsubscribe(ch chan *tally.Snapshot) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

func (b *broadcaster) publish(s *tally.Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case <-ch: // drop the older snapshot not yet sent
		default:
		}
		ch <- s
	}
}

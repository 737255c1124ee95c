package night

import (
	"context"
	"fmt"

	"caucus/internal/review"
	"caucus/internal/store"
)

// ReviewQueue is every precinct waiting for a decision (review.Item.Open: status under_review),
// in the definition's order, each with its entries, their math and checks and its history, as
// of one snapshot of the results.
func (n *Night) ReviewQueue(ctx context.Context) ([]review.Item, error) {
	snap := n.Snapshot()
	items := []review.Item{}
	for _, id := range snap.UnderReview() {
		it, err := n.reviewItem(ctx, id, snap.LogSize())
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// ReviewItem is one precinct as headquarters reviews it, in the queue or not; false when the
// election has no such precinct.
func (n *Night) ReviewItem(ctx context.Context, precinctID string) (review.Item, bool, error) {
	if _, ok := n.facts[precinctID]; !ok {
		return review.Item{}, false, nil
	}
	it, err := n.reviewItem(ctx, precinctID, n.Snapshot().LogSize())
	return it, true, err
}

// reviewItem builds a precinct's item from its entries below size (those of the snapshot).
func (n *Night) reviewItem(ctx context.Context, id string, size int64) (review.Item, error) {
	es, err := n.store.PrecinctEntries(ctx, id)
	if err != nil {
		return review.Item{}, fmt.Errorf("read entries of precinct %s: %w", id, err)
	}
	for len(es) > 0 && es[len(es)-1].Index >= size {
		es = es[:len(es)-1]
	}
	it, err := review.Build(id, n.facts[id], es)
	if err != nil {
		return review.Item{}, fmt.Errorf("review precinct %s: %w", id, err)
	}
	return it, nil
}

// Photo is the worksheet photo stored under sha256 (lowercase hex), or an error wrapping
// store.ErrNotFound.
func (n *Night) Photo(ctx context.Context, sha256 string) (store.Photo, error) {
	p, err := n.store.Photo(ctx, sha256)
	if err != nil {
		return store.Photo{}, fmt.Errorf("read photo: %w", err)
	}
	return p, nil
}

package night

import "context"

// Housekeep runs one round of the hourly housekeeping now.
func (n *Night) Housekeep(ctx context.Context) { n.housekeep(ctx) }

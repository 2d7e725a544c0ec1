package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/eventstore"
)

// holder is what the event store says about a person before a command that changes what
// they hold: the holder version to claim and their completed clearances.
type holder struct {
	// next is the unique key the command's append claims (domain.HolderScope).
	next eventstore.UniqueKey
	// cleared are the leaving dates of the person's completed clearances.
	cleared []string
}

// asHolder runs cmd, a command that changes what person holds, claiming the person's next
// holder version. If another such command committed first (HOLDER_CHANGED), cmd runs again
// on what changed; after some retries (four times a lost race's) the caller gets Aborted. The version is read from the
// event store before cmd reads anything else, so whatever committed before that read is seen
// by cmd, and whatever commits after it takes the key cmd needs.
func (c *custodyApp) asHolder(ctx context.Context, school, person string, cmd func(holder) error) error {
	person = strings.TrimSpace(person)
	if person == "" {
		return cmd(holder{}) // refused as invalid by the decider
	}
	hs, cs := domain.HolderScope(school, person), domain.ClearedScope(school, person)
	for attempt := 0; ; attempt++ {
		keys, err := c.store.ScopeKeys(ctx, hs, cs)
		if err != nil {
			return err
		}
		h := holder{cleared: keys[cs], next: eventstore.UniqueKey{Scope: hs, Key: strconv.Itoa(len(keys[hs]) + 1),
			Reason: domain.ReasonHolderChanged, Message: "该教职工的持有物同时有变动 / what the person holds changed meanwhile"}}
		err = cmd(h)
		if re, ok := errs.As[*errs.RuleError](err); ok && re.Reason == domain.ReasonHolderChanged {
			// Several loans to one person at once take turns: each round one commits. The
			// pause spreads the others out.
			if attempt < 4*c.retries {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(rand.N(2 * time.Millisecond)):
				}
				continue
			}
			return fmt.Errorf("holdings of %s changed during the command: %w", person, errs.ErrConflict)
		}
		return err
	}
}

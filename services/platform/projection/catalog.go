package projection

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
)

// Subscription is one projection over one service stream.
type Subscription struct {
	Projection Projection
	Service    string
}

// Catalog lists the read models one service (their owner) keeps in its own database, each
// over the streams it reads. It is the one list the owner starts its runners from and
// `houqin rebuild` rebuilds from, so a projection cannot be running and unrebuildable.
type Catalog struct {
	// Owner is the service whose database holds the read models ("projector", "assets"); it
	// is part of every runner's durable consumer name.
	Owner         string
	Subscriptions []Subscription
}

// validName is what owners and projection names may be: a consumer name proj-<owner>-<name>
// then names one owner's projection only, and never a consumer of the older proj-<name> form.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func checkNames(owner, name string) error {
	if !validName.MatchString(owner) || !validName.MatchString(name) {
		return fmt.Errorf("projection: owner %q and name %q must be lower-case letters, digits and _", owner, name)
	}
	return nil
}

// Validate checks the names and that no projection is subscribed twice to one stream.
func (c Catalog) Validate() error {
	type key struct{ name, service string }
	seen := map[key]bool{}
	for _, s := range c.Subscriptions {
		if err := checkNames(c.Owner, s.Projection.Name()); err != nil {
			return err
		}
		if s.Projection.Version() < 1 {
			return fmt.Errorf("projection: %s's %s has version %d; versions start at 1", c.Owner, s.Projection.Name(), s.Projection.Version())
		}
		k := key{s.Projection.Name(), s.Service}
		if seen[k] {
			return fmt.Errorf("projection: %s subscribes %s to %s twice", c.Owner, s.Projection.Name(), s.Service)
		}
		seen[k] = true
	}
	return nil
}

// Names are the projections of the catalog, each once, in order.
func (c Catalog) Names() []string {
	var names []string
	for _, s := range c.Subscriptions {
		if !slices.Contains(names, s.Projection.Name()) {
			names = append(names, s.Projection.Name())
		}
	}
	return names
}

// Find returns the projection named name and the services whose streams it reads.
func (c Catalog) Find(name string) (Projection, []string) {
	var p Projection
	var services []string
	for _, s := range c.Subscriptions {
		if s.Projection.Name() == name {
			p = s.Projection
			services = append(services, s.Service)
		}
	}
	return p, services
}

// Start creates every projection's tables and checkpoint rows (so queries find them before
// the first event) and returns a runner per subscription, in catalog order. Each runner first
// brings its projection to the projection's version, rebuilding it once if the live tables
// were built with an older one.
func (c Catalog) Start(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, log *slog.Logger, opts Options) ([]*Runner, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	runners := make([]*Runner, 0, len(c.Subscriptions))
	for _, s := range c.Subscriptions {
		if err := Setup(ctx, pool, s.Projection, s.Service); err != nil {
			return nil, err
		}
		r := NewRunner(pool, js, c.Owner, s.Projection, s.Service, log, opts)
		_, r.services = c.Find(s.Projection.Name())
		runners = append(runners, r)
	}
	return runners, nil
}

// Rebuild rebuilds the projection named name on the owner's database behind pool from every
// stream it reads; a running owner keeps serving meanwhile. The rebuilt tables are of the
// projection's current version, which it records.
func (c Catalog) Rebuild(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, name string, log *slog.Logger) (RebuildResult, error) {
	p, services := c.Find(name)
	if p == nil {
		return RebuildResult{}, fmt.Errorf("%s: no projection %q (%v)", c.Owner, name, c.Names())
	}
	if err := Migrate(ctx, pool); err != nil {
		return RebuildResult{}, err
	}
	_, res, err := upgrade(ctx, pool, js, p, log, true, services...)
	return res, err
}

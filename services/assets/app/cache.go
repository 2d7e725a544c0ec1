package app

import (
	"sync"
	"time"
)

// cacheTTL bounds how long another process's change to cached set-up (the category tree, a
// school's campus) may go unseen here. Callers look a state up afresh when the cached one
// lacks what they need (a class, a room), so only changes to what exists may wait.
const cacheTTL = time.Second

// cache keeps recently loaded aggregate states by id.
type cache[S any] struct {
	mu sync.Mutex
	m  map[string]cached[S]
}

type cached[S any] struct {
	state S
	at    time.Time
}

// get returns the state of id if it was loaded less than cacheTTL ago.
func (c *cache[S]) get(id string) (S, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || time.Since(e.at) >= cacheTTL {
		var zero S
		return zero, false
	}
	return e.state, true
}

func (c *cache[S]) put(id string, s S) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cached[S]{}
	}
	c.m[id] = cached[S]{state: s, at: time.Now()}
}

func (c *cache[S]) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

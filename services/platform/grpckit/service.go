package grpckit

import (
	"context"
	"sync"
	"time"

	"houqin.dev/platform/auth"
)

// ServiceCredentials attach a short-lived token of role service to every call of a client
// connection: a service calling another service on its own account (a process manager). The
// token is signed with the calling service's key — one the called services trust (--auth-keys)
// — and re-signed before it expires, so no long-lived bearer secret exists anywhere.
type ServiceCredentials struct {
	Signer   *auth.Signer
	Service  string // the caller's name: subject "service:<name>"
	District string
	TTL      time.Duration // default 10 min
	Insecure bool          // allow over plaintext (loopback, in-cluster with mesh TLS)

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// Token returns the current token, signing a new one when half its life has passed.
func (c *ServiceCredentials) Token() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.renewAt) {
		return c.token, nil
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	tok, err := c.Signer.Sign(auth.Identity{Subject: "service:" + c.Service, Name: c.Service,
		Roles: []auth.Role{auth.RoleService}, District: c.District}, ttl)
	if err != nil {
		return "", err
	}
	c.token, c.renewAt = tok, time.Now().Add(ttl/2)
	return tok, nil
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c *ServiceCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	tok, err := c.Token()
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (c *ServiceCredentials) RequireTransportSecurity() bool { return !c.Insecure }

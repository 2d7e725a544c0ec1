package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func TestAuthorize(t *testing.T) {
	table := map[string]Rule{
		"/pub":      {Scope: ScopePublic},
		"/school":   {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleBureauViewer}},
		"/district": {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	}
	director := &Identity{Subject: "u", Roles: []Role{RoleLogisticsDirector}, SchoolID: "a"}
	viewer := &Identity{Subject: "b", Roles: []Role{RoleBureauViewer}}
	admin := &Identity{Subject: "c", Roles: []Role{RoleBureauAdmin}}
	cases := []struct {
		method string
		id     *Identity
		school string
		want   Decision
	}{
		{"/pub", nil, "", Allow},
		{"/missing", admin, "a", DenyNoRule},
		{"/school", nil, "a", DenyUnauthenticated},
		{"/school", director, "a", Allow},
		{"/school", director, "b", DenySchool},
		{"/school", director, "", DenySchool},
		{"/school", viewer, "b", Allow},
		{"/school", admin, "a", DenyRole},
		{"/district", director, "", DenyRole},
		{"/district", admin, "", Allow},
	}
	for _, c := range cases {
		if got := Authorize(table, c.method, c.id, c.school); got != c.want {
			t.Errorf("%s by %+v on %q: got %v, want %v", c.method, c.id, c.school, got, c.want)
		}
	}
}

func TestTableGivesBureauViewersNoWrites(t *testing.T) {
	// Read RPCs are named Get/List; a viewer must appear in no other rule.
	for m, r := range Table {
		if contains(r.Roles, RoleBureauViewer) && !isRead(m) {
			t.Errorf("%s lets bureau viewers write", m)
		}
	}
}

func isRead(method string) bool {
	for i := len(method) - 1; i >= 0; i-- {
		if method[i] == '/' {
			name := method[i+1:]
			return len(name) > 3 && (name[:3] == "Get" || (len(name) > 4 && name[:4] == "List"))
		}
	}
	return false
}

func TestTokens(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	s := NewSigner(priv, "houqin-dev", "houqin")
	v, err := NewVerifier([]ed25519.PublicKey{s.Public()}, "houqin-dev", "houqin", "d1")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(Identity{Subject: "u1", Roles: []Role{RoleTeacher, "other-system-role"}, SchoolID: "a", District: "d1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(tok)
	if err != nil || id.Subject != "u1" || id.SchoolID != "a" || len(id.Roles) != 1 || id.Roles[0] != RoleTeacher {
		t.Fatalf("verify: %+v %v", id, err)
	}
	bad := []func() string{
		func() string { return "" },
		func() string { return tok + "x" },
		func() string { // expired
			x, _ := s.Sign(Identity{Subject: "u1", Roles: []Role{RoleTeacher}, SchoolID: "a", District: "d1"}, -time.Hour)
			return x
		},
		func() string { // another key
			x, _ := NewSigner(other, "houqin-dev", "houqin").Sign(Identity{Subject: "u1", Roles: []Role{RoleTeacher}, SchoolID: "a", District: "d1"}, time.Hour)
			return x
		},
		func() string { // another district
			x, _ := s.Sign(Identity{Subject: "u1", Roles: []Role{RoleBureauAdmin}, District: "d2"}, time.Hour)
			return x
		},
		func() string { // a school role without a school
			x, _ := s.Sign(Identity{Subject: "u1", Roles: []Role{RoleTeacher}, District: "d1"}, time.Hour)
			return x
		},
	}
	for i, f := range bad {
		if _, err := v.Verify(f()); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("bad token %d accepted: %v", i, err)
		}
	}
}

// The cache never answers for a token past its expiry: a remembered identity whose token has
// expired is checked again, and refused.
func TestCachedTokenExpires(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := NewSigner(priv, "", "")
	v, _ := NewVerifier([]ed25519.PublicKey{s.Public()}, "", "", "")
	live, _ := s.Sign(Identity{Subject: "u", Roles: []Role{RoleBureauViewer}}, time.Hour)
	if _, err := v.Verify(live); err != nil {
		t.Fatal(err)
	}
	if len(v.cache) != 1 {
		t.Fatalf("a verified token should be remembered, cache holds %d", len(v.cache))
	}
	// An expired token (beyond the 30 s leeway) planted in the cache as if it had been
	// verified while valid.
	expired, _ := s.Sign(Identity{Subject: "u", Roles: []Role{RoleBureauViewer}}, -time.Hour)
	v.mu.Lock()
	v.cache[expired] = verified{id: Identity{Subject: "u"}, expires: time.Now().Add(-time.Hour)}
	v.mu.Unlock()
	if _, err := v.Verify(expired); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("expired token answered from the cache: %v", err)
	}
}

package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the JWT claims Houqin reads.
type Claims struct {
	jwt.RegisteredClaims
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles"`
	School   string   `json:"school,omitempty"`
	District string   `json:"district"`
}

// Verifier checks EdDSA-signed bearer tokens against configured public keys.
//
// A signature check costs about 100 µs, more than the rest of a command's CPU on the
// server, and a client sends the same token with every call: verified tokens are remembered
// (bounded) until they expire.
type Verifier struct {
	keys     []ed25519.PublicKey
	issuer   string
	audience string
	district string

	mu    sync.Mutex
	cache map[string]verified
}

type verified struct {
	id        Identity
	notBefore time.Time
	expires   time.Time
}

// verifierCacheSize bounds the remembered tokens; when full, the cache starts over.
const verifierCacheSize = 4096

// NewVerifier accepts tokens signed by any of keys, issued by issuer for audience, for
// district. Empty issuer or audience are not checked.
func NewVerifier(keys []ed25519.PublicKey, issuer, audience, district string) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: no verification keys")
	}
	return &Verifier{keys: keys, issuer: issuer, audience: audience, district: district, cache: map[string]verified{}}, nil
}

// ErrUnauthenticated is returned for a missing, malformed, expired or foreign token.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

// Verify returns the identity carried by a token.
func (v *Verifier) Verify(token string) (Identity, error) {
	now := time.Now()
	v.mu.Lock()
	c, ok := v.cache[token]
	v.mu.Unlock()
	if ok && now.Before(c.expires) && !now.Before(c.notBefore) {
		return c.id, nil
	}
	id, claims, err := v.verify(token)
	if err != nil {
		return Identity{}, err
	}
	c = verified{id: id, expires: claims.ExpiresAt.Time}
	if claims.NotBefore != nil {
		c.notBefore = claims.NotBefore.Time
	}
	v.mu.Lock()
	if len(v.cache) >= verifierCacheSize {
		clear(v.cache)
	}
	v.cache[token] = c
	v.mu.Unlock()
	return id, nil
}

func (v *Verifier) verify(token string) (Identity, Claims, error) {
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithExpirationRequired(), jwt.WithLeeway(30 * time.Second)}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	var lastErr error
	for _, k := range v.keys {
		var c Claims
		_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return k, nil }, opts...)
		if err != nil {
			lastErr = err
			continue
		}
		id, err := v.identity(c)
		return id, c, err
	}
	return Identity{}, Claims{}, fmt.Errorf("%w: %v", ErrUnauthenticated, lastErr)
}

func (v *Verifier) identity(c Claims) (Identity, error) {
	if c.Subject == "" {
		return Identity{}, fmt.Errorf("%w: token has no subject", ErrUnauthenticated)
	}
	if v.district != "" && c.District != v.district {
		return Identity{}, fmt.Errorf("%w: token is for district %q", ErrUnauthenticated, c.District)
	}
	id := Identity{Subject: c.Subject, Name: c.Name, SchoolID: c.School, District: c.District}
	schoolRole := false
	for _, r := range c.Roles {
		role := Role(r)
		if !role.Valid() {
			continue // roles of other systems are not ours to interpret
		}
		id.Roles = append(id.Roles, role)
		if !role.DistrictWide() {
			schoolRole = true
		}
	}
	if len(id.Roles) == 0 {
		return Identity{}, fmt.Errorf("%w: token carries no Houqin role", ErrUnauthenticated)
	}
	if schoolRole && id.SchoolID == "" {
		return Identity{}, fmt.Errorf("%w: a school role needs a school claim", ErrUnauthenticated)
	}
	return id, nil
}

// Signer issues tokens; `houqin dev` and `houqin token` use it with a local key.
type Signer struct {
	key      ed25519.PrivateKey
	issuer   string
	audience string
}

// NewSigner signs with key.
func NewSigner(key ed25519.PrivateKey, issuer, audience string) *Signer {
	return &Signer{key: key, issuer: issuer, audience: audience}
}

// Sign returns a token for id valid for ttl.
func (s *Signer) Sign(id Identity, ttl time.Duration) (string, error) {
	now := time.Now()
	roles := make([]string, len(id.Roles))
	for i, r := range id.Roles {
		roles[i] = string(r)
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: id.Subject, Issuer: s.issuer, IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Name: id.Name, Roles: roles, School: id.SchoolID, District: id.District,
	}
	if s.audience != "" {
		c.Audience = jwt.ClaimStrings{s.audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(s.key)
}

// Public returns the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// LoadOrCreateKey reads a PKCS#8 Ed25519 private key from path, creating one if the file does
// not exist (development only).
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		return priv, nil
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("auth: %s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: %s is not an Ed25519 key", path)
	}
	return priv, nil
}

// LoadPublicKeys reads Ed25519 public keys (PKIX "PUBLIC KEY" blocks) or private keys (whose
// public half is used) from a PEM file.
func LoadPublicKeys(path string) ([]ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []ed25519.PublicKey
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("auth: %s: %w", path, err)
			}
			if pk, ok := k.(ed25519.PublicKey); ok {
				keys = append(keys, pk)
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("auth: %s: %w", path, err)
			}
			if pk, ok := k.(ed25519.PrivateKey); ok {
				keys = append(keys, pk.Public().(ed25519.PublicKey))
			}
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("auth: %s holds no Ed25519 key", path)
	}
	return keys, nil
}

// PublicKeyPEM encodes a public key for configuration files.
func PublicKeyPEM(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

package testkit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"houqin.dev/platform/auth"
)

// District is the district of test tokens.
const District = "test"

// Auth is a test token issuer and the matching verifier.
type Auth struct {
	Signer   *auth.Signer
	Verifier *auth.Verifier
}

// NewAuth makes a fresh key pair.
func NewAuth(t testing.TB) Auth {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := auth.NewSigner(priv, "houqin-test", "houqin")
	v, err := auth.NewVerifier([]ed25519.PublicKey{s.Public()}, "houqin-test", "houqin", District)
	if err != nil {
		t.Fatal(err)
	}
	return Auth{Signer: s, Verifier: v}
}

// Token signs a token for role; school roles belong to school.
func (a Auth) Token(t testing.TB, role auth.Role, school string) string {
	t.Helper()
	id := auth.Identity{Subject: "test-" + string(role) + "-" + school, Name: "测试用户", Roles: []auth.Role{role}, District: District}
	if !role.DistrictWide() {
		id.SchoolID = school
	}
	tok, err := a.Signer.Sign(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Ctx returns a context carrying the token as gRPC metadata.
func Ctx(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// AuthorizationMatrix calls every RPC of service over conn as every role, on its own school and
// on another, and without a token, and checks the server enforces table: a call the table
// refuses gets PermissionDenied (Unauthenticated without a token); a call it allows gets
// past authorisation (any other code: invalid input, not found…). Requests are empty but for
// school_id, so allowed calls change nothing.
func AuthorizationMatrix(t *testing.T, conn *grpc.ClientConn, service protoreflect.FullName, a Auth, table map[string]auth.Rule, own, other string) {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(service)
	if err != nil {
		t.Fatalf("service %s: %v", service, err)
	}
	sd := d.(protoreflect.ServiceDescriptor)
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		method := "/" + string(sd.FullName()) + "/" + string(md.Name())
		if _, ok := table[method]; !ok {
			t.Errorf("%s is not in the authorisation table", method)
			continue
		}
		call := func(token, school string) error {
			req := newMessage(t, md.Input().FullName())
			if f := req.Descriptor().Fields().ByName("school_id"); f != nil && school != "" {
				req.Set(f, protoreflect.ValueOfString(school))
			}
			resp := newMessage(t, md.Output().FullName())
			ctx := context.Background()
			if token != "" {
				ctx = Ctx(token)
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return conn.Invoke(ctx, method, req.Interface(), resp.Interface())
		}
		hasSchool := md.Input().Fields().ByName("school_id") != nil
		if code := status.Code(call("", own)); table[method].Scope != auth.ScopePublic && code != codes.Unauthenticated {
			t.Errorf("%s without a token: %v, want Unauthenticated", method, code)
		}
		for _, role := range auth.AllRoles {
			for _, school := range []string{own, other} {
				if !hasSchool && school == other {
					continue
				}
				id := auth.Identity{Subject: "x", Roles: []auth.Role{role}}
				if !role.DistrictWide() {
					id.SchoolID = own
				}
				reqSchool := ""
				if hasSchool {
					reqSchool = school
				}
				want := auth.Authorize(table, method, &id, reqSchool)
				code := status.Code(call(a.Token(t, role, own), school))
				denied := code == codes.PermissionDenied || code == codes.Unauthenticated
				switch {
				case want == auth.Allow && denied:
					t.Errorf("%s as %s of %s on %s: %v, want allowed", method, role, own, school, code)
				case want != auth.Allow && code != codes.PermissionDenied:
					t.Errorf("%s as %s of %s on %s: %v, want PermissionDenied", method, role, own, school, code)
				}
			}
		}
	}
}

func newMessage(t *testing.T, name protoreflect.FullName) protoreflect.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		t.Fatalf("message %s: %v", name, err)
	}
	return mt.New()
}

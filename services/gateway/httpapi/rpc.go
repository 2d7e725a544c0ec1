package httpapi

import (
	"net/http"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"houqin.dev/platform/auth"
	// The generated packages register their descriptors and message types, which the RPC
	// route looks up by name.
	_ "houqin.dev/proto/gen/houqin/assets/v1"
	_ "houqin.dev/proto/gen/houqin/procurement/v1"
	_ "houqin.dev/proto/gen/houqin/reports/v1"
)

// RPCPrefix is the path of the RPC route: POST RPCPrefix + "houqin.assets.v1.RepairsService/ReportRepair".
const RPCPrefix = "/api/v1/rpc/"

// ReasonUnknownRPC answers a path that names no RPC the route reaches (404).
const ReasonUnknownRPC = "RPC_UNKNOWN"

// rpcMethod is one RPC the route reaches.
type rpcMethod struct {
	conn    grpc.ClientConnInterface
	in, out protoreflect.MessageType
}

// RPCMethods returns the full names ("/houqin.assets.v1.RepairsService/ReportRepair") of the
// RPCs the RPC route reaches: every unary RPC of the authorisation table whose proto package
// has a backend. The services still authorise every call.
func (a *API) RPCMethods() []string {
	ms := a.rpcMethods()
	names := make([]string, 0, len(ms))
	for n := range ms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (a *API) rpcMethods() map[string]rpcMethod {
	out := map[string]rpcMethod{}
	for name, rule := range auth.Table {
		if rule.Scope == auth.ScopePublic {
			continue // health and reflection: the gateway has its own /healthz
		}
		svc, method, ok := strings.Cut(strings.TrimPrefix(name, "/"), "/")
		if !ok {
			continue
		}
		pkg := svc[:max(strings.LastIndexByte(svc, '.'), 0)]
		conn := a.Backends[pkg]
		if conn == nil {
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			a.Log.Warn("RPC of the authorisation table not in the generated code", "rpc", name)
			continue
		}
		sd, _ := d.(protoreflect.ServiceDescriptor)
		if sd == nil {
			continue
		}
		md := sd.Methods().ByName(protoreflect.Name(method))
		if md == nil || md.IsStreamingClient() || md.IsStreamingServer() {
			continue
		}
		in, err1 := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		res, err2 := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		if err1 != nil || err2 != nil {
			continue
		}
		out[name] = rpcMethod{conn: conn, in: in, out: res}
	}
	return out
}

// rpc is the RPC route: POST /api/v1/rpc/{service}/{method} with the request message as JSON
// (protojson, proto field names) calls the gRPC method with the caller's token and answers the
// response message as JSON, or the error (see writeError).
func (a *API) rpc() http.Handler {
	methods := a.rpcMethods()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "/" + r.PathValue("service") + "/" + r.PathValue("method")
		m, ok := methods[name]
		if !ok {
			st, _ := status.New(codes.NotFound, "没有这个接口 / no such RPC: "+name).WithDetails(
				&errdetails.ErrorInfo{Reason: ReasonUnknownRPC, Domain: "houqin.dev"})
			writeError(w, st.Err())
			return
		}
		req := m.in.New().Interface()
		if !readRequest(w, r, req) {
			return
		}
		ctx, cancel := a.outgoing(r)
		defer cancel()
		resp := m.out.New().Interface()
		a.reply(w, r, resp, m.conn.Invoke(ctx, name, req, resp))
	})
}

// Package auth authenticates callers by JWT and authorises every RPC from one declared table
// (table.go): which roles may call it and whose school's data it touches.
package auth

import "context"

// Role is what a caller may do. School roles act within their own school; bureau roles and
// services act across the district.
type Role string

// Roles from domain.md.
const (
	// 教育局管理员: district set-up and approvals (write-offs, large purchases).
	RoleBureauAdmin Role = "bureau_admin"
	// 教育局查看: bureau sections that watch every school, read only.
	RoleBureauViewer Role = "bureau_viewer"
	// 校长 / 园长
	RolePrincipal Role = "principal"
	// 副校长: approves within the tiers policy gives vice-principals (e.g. small write-offs).
	RoleVicePrincipal Role = "vice_principal"
	// 总务主任
	RoleLogisticsDirector Role = "logistics_director"
	// 部门负责人 / 教研组长: first approver of a department's purchase requests.
	RoleDepartmentHead Role = "department_head"
	// 保管员
	RoleStorekeeper Role = "storekeeper"
	// 会计 / 报账员
	RoleAccountant Role = "accountant"
	// 教师 / 班主任 / 室长
	RoleTeacher Role = "teacher"
	// Another Houqin service acting on events (process managers).
	RoleService Role = "service"
)

// AllRoles lists every role, for authorisation tests.
var AllRoles = []Role{RoleBureauAdmin, RoleBureauViewer, RolePrincipal, RoleVicePrincipal,
	RoleLogisticsDirector, RoleDepartmentHead, RoleStorekeeper, RoleAccountant, RoleTeacher, RoleService}

// DistrictWide reports whether the role acts across all schools of its district.
func (r Role) DistrictWide() bool {
	return r == RoleBureauAdmin || r == RoleBureauViewer || r == RoleService
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range AllRoles {
		if k == r {
			return true
		}
	}
	return false
}

// Identity is an authenticated caller.
type Identity struct {
	Subject  string // stable user id from the identity provider
	Name     string
	Roles    []Role
	SchoolID string // empty for district-wide roles
	District string
}

// Has reports whether the identity holds role r.
func (id Identity) Has(r Role) bool {
	for _, x := range id.Roles {
		if x == r {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the caller's identity, if authenticated.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

package domain

// Actor is who gives a command: the token's subject, display name and roles. Approvals are
// judged on it (the approver must hold the step's role; nobody approves twice).
type Actor struct {
	Subject string
	Name    string
	Roles   []string
}

// Has reports whether the actor holds role.
func (a Actor) Has(role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Roles of approvers, as in the platform's authorisation table.
const (
	RoleDepartmentHead    = "department_head"
	RoleLogisticsDirector = "logistics_director"
	RolePrincipal         = "principal"
	RoleBureauAdmin       = "bureau_admin"
)

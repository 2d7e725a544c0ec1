package auth

// Scope says whose data an RPC touches.
type Scope int

const (
	// ScopePublic needs no token: health checks and reflection.
	ScopePublic Scope = iota
	// ScopeSchool: the request names a school (school_id). School roles reach their own
	// school only; district-wide roles reach every school.
	ScopeSchool
	// ScopeDistrict: district-wide data or set-up; only district-wide roles.
	ScopeDistrict
)

// Rule is one row of the table.
type Rule struct {
	Scope Scope
	Roles []Role
}

var (
	// Everyone who may read a school's records.
	schoolReaders = []Role{RoleBureauAdmin, RoleBureauViewer, RolePrincipal, RoleVicePrincipal,
		RoleLogisticsDirector, RoleDepartmentHead, RoleStorekeeper, RoleAccountant, RoleTeacher, RoleService}
	// Who may read a school's reports.
	reportReaders = []Role{RoleBureauAdmin, RoleBureauViewer, RolePrincipal, RoleVicePrincipal,
		RoleLogisticsDirector, RoleStorekeeper, RoleAccountant}
	bureau = []Role{RoleBureauAdmin, RoleBureauViewer}
	// Who keeps a school's campus structure (buildings, rooms, classes, departments).
	campusKeepers = []Role{RoleLogisticsDirector, RoleBureauAdmin}
	// Who may approve a write-off step (which step, the write-off policy's tier decides).
	writeOffApprovers = []Role{RoleVicePrincipal, RolePrincipal, RoleBureauAdmin}
	// Anyone of a school may report a fault (报修), and services (a safety hazard needing repair).
	repairReporters = []Role{RolePrincipal, RoleVicePrincipal, RoleLogisticsDirector, RoleDepartmentHead,
		RoleStorekeeper, RoleAccountant, RoleTeacher, RoleService}
	// The logistics office records the work of its workers and vendors.
	repairKeepers = []Role{RoleLogisticsDirector, RoleStorekeeper}
	// Who may hold a step of a purchase request's approval chain.
	purchaseApprovers = []Role{RoleDepartmentHead, RoleLogisticsDirector, RolePrincipal, RoleBureauAdmin}
)

// Table is the one declaration of who may call what, for every RPC of every Houqin service.
// An RPC missing here is refused (fail closed); each service's tests walk the whole table:
// every RPC × every role × own and other school.
var Table = map[string]Rule{
	// Platform endpoints on every server.
	"/grpc.health.v1.Health/Check":                                   {Scope: ScopePublic},
	"/grpc.health.v1.Health/Watch":                                   {Scope: ScopePublic},
	"/grpc.health.v1.Health/List":                                    {Scope: ScopePublic},
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      {Scope: ScopePublic},
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": {Scope: ScopePublic},

	// Assets service (校产管理).
	"/houqin.assets.v1.AssetsService/RegisterSchool": {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.assets.v1.AssetsService/RegisterAsset":  {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper, RoleService}},
	"/houqin.assets.v1.AssetsService/TransferAsset":  {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.AssetsService/GetAsset":       {Scope: ScopeSchool, Roles: schoolReaders},
	// Accepted purchase lines, from procurement's process manager (or by hand).
	"/houqin.assets.v1.AssetsService/RegisterFromPurchaseLine": {Scope: ScopeSchool, Roles: []Role{RoleService, RoleLogisticsDirector, RoleStorekeeper}},
	// Ledger set-up and life cycle (LedgerService).
	"/houqin.assets.v1.LedgerService/AddCategory":       {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.assets.v1.LedgerService/SetCategoryLife":   {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.assets.v1.LedgerService/ListCategories":    {Scope: ScopeSchool, Roles: schoolReaders},
	"/houqin.assets.v1.LedgerService/AddBuilding":       {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/AddRoom":           {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/AddClass":          {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/AddDepartment":     {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/ChangeHeadTeacher": {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/AddStaff":          {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/RecordStaffLeft":   {Scope: ScopeSchool, Roles: campusKeepers},
	"/houqin.assets.v1.LedgerService/GetCampus":         {Scope: ScopeSchool, Roles: schoolReaders},
	"/houqin.assets.v1.LedgerService/ListStaff":         {Scope: ScopeSchool, Roles: schoolReaders},
	// Write-offs: the logistics office files and disposes; the tier's roles approve (the
	// decider checks the current step's role: vice-principal, principal, bureau).
	"/houqin.assets.v1.LedgerService/RequestWriteOff":        {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.LedgerService/ApproveWriteOff":        {Scope: ScopeSchool, Roles: writeOffApprovers},
	"/houqin.assets.v1.LedgerService/RejectWriteOff":         {Scope: ScopeSchool, Roles: writeOffApprovers},
	"/houqin.assets.v1.LedgerService/RecordWriteOffDisposal": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	// Corrections (红字冲销) by the logistics director who keeps the ledger.
	"/houqin.assets.v1.LedgerService/CorrectRegistration": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.LedgerService/ReverseRegistration": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	// Transfers between schools: the source school asks, the bureau decides.
	"/houqin.assets.v1.LedgerService/RequestSchoolTransfer": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.LedgerService/ApproveSchoolTransfer": {Scope: ScopeSchool, Roles: []Role{RoleBureauAdmin}},
	"/houqin.assets.v1.LedgerService/RejectSchoolTransfer":  {Scope: ScopeSchool, Roles: []Role{RoleBureauAdmin}},

	// Lending (借还): the logistics office issues permits; the storekeeper lends and takes back.
	"/houqin.assets.v1.LendingService/IssueOffCampusPermit": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.LendingService/LendAsset":            {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.LendingService/ReturnAsset":          {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.LendingService/ListOverdueLoans":     {Scope: ScopeSchool, Roles: reportReaders},

	// Damage and compensation (损坏赔偿): waivers by the principal only.
	"/houqin.assets.v1.DamageService/ChargeDamage":        {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.DamageService/RecordDamagePayment": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleAccountant}},
	"/houqin.assets.v1.DamageService/WaiveDamage":         {Scope: ScopeSchool, Roles: []Role{RolePrincipal}},
	"/houqin.assets.v1.DamageService/GetDamageCharge":     {Scope: ScopeSchool, Roles: schoolReaders},

	// Custody agreements (保管责任书): the head signs (or the office records the signature).
	"/houqin.assets.v1.CustodyService/DrawUpCustodyAgreement":  {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.CustodyService/SignCustodyAgreement":    {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleTeacher}},
	"/houqin.assets.v1.CustodyService/RecheckCustodyAgreement": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.CustodyService/GetCustodyAgreement":     {Scope: ScopeSchool, Roles: schoolReaders},

	// Requisition and issue (申领/领用): a teacher asks, the logistics director decides, the storekeeper issues.
	"/houqin.assets.v1.RequisitionService/SubmitRequisition":  {Scope: ScopeSchool, Roles: []Role{RoleTeacher, RoleDepartmentHead, RoleLogisticsDirector}},
	"/houqin.assets.v1.RequisitionService/ApproveRequisition": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.RequisitionService/RejectRequisition":  {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.RequisitionService/IssueRequisition":   {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper}},
	"/houqin.assets.v1.RequisitionService/ReturnIssuedItems":  {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper}},
	"/houqin.assets.v1.RequisitionService/GetRequisition":     {Scope: ScopeSchool, Roles: schoolReaders},

	// Staff leaving (教职工调离): the logistics office opens and completes the clearance.
	"/houqin.assets.v1.ClearanceService/StartClearance":    {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RolePrincipal}},
	"/houqin.assets.v1.ClearanceService/CompleteClearance": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.ClearanceService/GetClearance":      {Scope: ScopeSchool, Roles: schoolReaders},

	// Repairs (报修/维修): anyone of the school reports; the logistics office dispatches and
	// records the work; the service's repair clock records breaches itself (no RPC).
	"/houqin.assets.v1.RepairsService/ReportRepair":            {Scope: ScopeSchool, Roles: repairReporters},
	"/houqin.assets.v1.RepairsService/DispatchRepair":          {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.assets.v1.RepairsService/StartRepair":             {Scope: ScopeSchool, Roles: repairKeepers},
	"/houqin.assets.v1.RepairsService/RecordRepairDelayReason": {Scope: ScopeSchool, Roles: repairKeepers},
	"/houqin.assets.v1.RepairsService/CompleteRepair":          {Scope: ScopeSchool, Roles: repairKeepers},
	"/houqin.assets.v1.RepairsService/GetRepair":               {Scope: ScopeSchool, Roles: schoolReaders},
	"/houqin.assets.v1.RepairsService/ListRepairs":             {Scope: ScopeSchool, Roles: schoolReaders},

	// Stocktake (清查/盘点): the logistics office runs sessions; storekeepers and teachers
	// (room heads) scan.
	"/houqin.assets.v1.StocktakeService/StartStocktake":    {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.StocktakeService/ScanStocktakeItem": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper, RoleTeacher}},
	"/houqin.assets.v1.StocktakeService/CloseStocktake":    {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.StocktakeService/GetStocktake":      {Scope: ScopeSchool, Roles: schoolReaders},
	// 盘盈/盘亏: proposed by the logistics office, approved per policy by the director or principal.
	"/houqin.assets.v1.StocktakeService/ProposeStocktakeAdjustment": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.assets.v1.StocktakeService/ApproveStocktakeAdjustment": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RolePrincipal}},

	// Procurement service (采购): the district supplier directory (bureau).
	"/houqin.procurement.v1.ProcurementService/RegisterSupplier":     {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/RenewSupplierLicence": {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/BlacklistSupplier":    {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/ReinstateSupplier":    {Scope: ScopeDistrict, Roles: []Role{RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/GetSupplier":          {Scope: ScopeSchool, Roles: schoolReaders},
	// Budgets (预算): the accountant and the principal keep them; adjustments by policy tier.
	"/houqin.procurement.v1.ProcurementService/OpenBudgetLine":          {Scope: ScopeSchool, Roles: []Role{RoleAccountant, RolePrincipal, RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/RequestBudgetAdjustment": {Scope: ScopeSchool, Roles: []Role{RoleAccountant, RoleLogisticsDirector, RolePrincipal}},
	"/houqin.procurement.v1.ProcurementService/ApproveBudgetAdjustment": {Scope: ScopeSchool, Roles: []Role{RolePrincipal, RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/RejectBudgetAdjustment":  {Scope: ScopeSchool, Roles: []Role{RolePrincipal, RoleBureauAdmin}},
	"/houqin.procurement.v1.ProcurementService/GetBudgetLine":           {Scope: ScopeSchool, Roles: schoolReaders},
	// Purchase requests (购物申请): any staff asks; the chain's roles approve (the domain checks
	// the step's role); quotes and orders by the logistics office.
	"/houqin.procurement.v1.ProcurementService/SubmitPurchaseRequest": {Scope: ScopeSchool, Roles: []Role{RoleTeacher, RoleDepartmentHead,
		RoleLogisticsDirector, RoleStorekeeper, RoleVicePrincipal, RolePrincipal}},
	"/houqin.procurement.v1.ProcurementService/ApprovePurchaseRequest": {Scope: ScopeSchool, Roles: purchaseApprovers},
	"/houqin.procurement.v1.ProcurementService/RejectPurchaseRequest":  {Scope: ScopeSchool, Roles: purchaseApprovers},
	"/houqin.procurement.v1.ProcurementService/AddQuote":               {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RoleStorekeeper}},
	"/houqin.procurement.v1.ProcurementService/ChooseQuote":            {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.procurement.v1.ProcurementService/GetPurchaseRequest":     {Scope: ScopeSchool, Roles: schoolReaders},
	"/houqin.procurement.v1.ProcurementService/PlacePurchaseOrder":     {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.procurement.v1.ProcurementService/CancelPurchaseOrder":    {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RolePrincipal}},
	"/houqin.procurement.v1.ProcurementService/GetPurchaseOrder":       {Scope: ScopeSchool, Roles: schoolReaders},

	// Procurement: stock (库存, 材料账). Goods in by the storekeeper (accepted purchase lines also
	// from procurement's acceptance reactor); requisitions asked by teachers and departments,
	// decided by the logistics director; issues and returns by the storekeeper; stocktake
	// counts by the storekeeper or accountant, their adjustments approved by the director or
	// principal.
	"/houqin.procurement.v1.StockService/ReceiveAcceptedLine":    {Scope: ScopeSchool, Roles: []Role{RoleService, RoleStorekeeper, RoleLogisticsDirector}},
	"/houqin.procurement.v1.StockService/ReceiveGoods":           {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper, RoleLogisticsDirector}},
	"/houqin.procurement.v1.StockService/RequestRequisition":     {Scope: ScopeSchool, Roles: []Role{RoleTeacher, RoleDepartmentHead}},
	"/houqin.procurement.v1.StockService/ApproveRequisition":     {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.procurement.v1.StockService/RejectRequisition":      {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector}},
	"/houqin.procurement.v1.StockService/GetRequisition":         {Scope: ScopeSchool, Roles: schoolReaders},
	"/houqin.procurement.v1.StockService/IssueStock":             {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper}},
	"/houqin.procurement.v1.StockService/ReturnStock":            {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper}},
	"/houqin.procurement.v1.StockService/RecordStockCount":       {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper, RoleAccountant}},
	"/houqin.procurement.v1.StockService/ApproveStockAdjustment": {Scope: ScopeSchool, Roles: []Role{RoleLogisticsDirector, RolePrincipal}},
	"/houqin.procurement.v1.StockService/GetStockItem":           {Scope: ScopeSchool, Roles: schoolReaders},

	// Procurement: fees (收费公示, 代收费结退). The accountant or principal publishes standards;
	// class teachers and the accountant record collections; the accountant settles, the
	// principal approves, the accountant or principal publishes the settlement.
	"/houqin.procurement.v1.FeesService/PublishFeeStandard":   {Scope: ScopeSchool, Roles: []Role{RoleAccountant, RolePrincipal}},
	"/houqin.procurement.v1.FeesService/RecordFeeCollection":  {Scope: ScopeSchool, Roles: []Role{RoleTeacher, RoleAccountant}},
	"/houqin.procurement.v1.FeesService/SettleFees":           {Scope: ScopeSchool, Roles: []Role{RoleAccountant}},
	"/houqin.procurement.v1.FeesService/ApproveFeeSettlement": {Scope: ScopeSchool, Roles: []Role{RolePrincipal}},
	"/houqin.procurement.v1.FeesService/PublishFeeSettlement": {Scope: ScopeSchool, Roles: []Role{RoleAccountant, RolePrincipal}},
	"/houqin.procurement.v1.FeesService/GetFee":               {Scope: ScopeSchool, Roles: schoolReaders},

	// Fulfilment (验收入库、报账): the logistics office records deliveries and invoices; any of
	// the school's staff may sign a receipt or an invoice (the domain wants different people);
	// the accountant reimburses.
	"/houqin.procurement.v1.FulfilmentService/RecordDelivery": {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper, RoleLogisticsDirector}},
	"/houqin.procurement.v1.FulfilmentService/SignGoodsReceipt": {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper, RoleLogisticsDirector,
		RoleAccountant, RoleTeacher, RoleDepartmentHead, RoleVicePrincipal, RolePrincipal}},
	"/houqin.procurement.v1.FulfilmentService/RecordInvoice": {Scope: ScopeSchool, Roles: []Role{RoleAccountant, RoleStorekeeper, RoleLogisticsDirector}},
	"/houqin.procurement.v1.FulfilmentService/SignInvoice": {Scope: ScopeSchool, Roles: []Role{RoleStorekeeper, RoleLogisticsDirector,
		RoleAccountant, RoleTeacher, RoleDepartmentHead, RoleVicePrincipal, RolePrincipal}},
	"/houqin.procurement.v1.FulfilmentService/ReimburseInvoice": {Scope: ScopeSchool, Roles: []Role{RoleAccountant}},
	// 发票作废: the accountant (报账员) who handles invoices, or the logistics director.
	"/houqin.procurement.v1.FulfilmentService/CancelInvoice": {Scope: ScopeSchool, Roles: []Role{RoleAccountant, RoleLogisticsDirector}},
	"/houqin.procurement.v1.FulfilmentService/GetFulfilment": {Scope: ScopeSchool, Roles: schoolReaders},

	// Procurement reports (projector).
	"/houqin.reports.v1.ReportsService/GetBudgetSpend":           {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetApprovalsWaiting":      {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetDistrictProcurement":   {Scope: ScopeDistrict, Roles: bureau},
	"/houqin.reports.v1.ReportsService/GetProcurementCompliance": {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetDistrictCompliance":    {Scope: ScopeDistrict, Roles: bureau},
	"/houqin.reports.v1.ReportsService/GetFeeSettlement":         {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetStockAudit":            {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetStockValue":            {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetDistrictStock":         {Scope: ScopeDistrict, Roles: bureau},
	"/houqin.reports.v1.ReportsService/GetDistrictFees":          {Scope: ScopeDistrict, Roles: bureau},

	// Reports (projector).
	"/houqin.reports.v1.ReportsService/GetAssetLedger":             {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetDistrictLedger":          {Scope: ScopeDistrict, Roles: bureau},
	"/houqin.reports.v1.ReportsService/GetDistrictLedgerBreakdown": {Scope: ScopeDistrict, Roles: bureau},
	"/houqin.reports.v1.ReportsService/ListEvents":                 {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetLedgerBreakdown":         {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetRepairsReport":           {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetLoansReport":             {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetCustodyCoverage":         {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetWriteOffsReport":         {Scope: ScopeSchool, Roles: reportReaders},
	"/houqin.reports.v1.ReportsService/GetStocktakeVariance":       {Scope: ScopeSchool, Roles: reportReaders},
}

// Decision is the outcome of Authorize.
type Decision int

const (
	Allow Decision = iota
	// DenyUnauthenticated: no valid token where one is needed.
	DenyUnauthenticated
	// DenyNoRule: the RPC is not in the table.
	DenyNoRule
	// DenyRole: none of the caller's roles may call the RPC.
	DenyRole
	// DenySchool: the caller's roles do not reach the requested school.
	DenySchool
)

// Authorize decides a call of method on school's data (school is empty for district RPCs) by
// caller id (nil when unauthenticated), from table t.
func Authorize(t map[string]Rule, method string, id *Identity, school string) Decision {
	rule, ok := t[method]
	if !ok {
		return DenyNoRule
	}
	if rule.Scope == ScopePublic {
		return Allow
	}
	if id == nil {
		return DenyUnauthenticated
	}
	roleOK := false
	for _, r := range id.Roles {
		if !contains(rule.Roles, r) {
			continue
		}
		roleOK = true
		switch {
		case r.DistrictWide():
			return Allow
		case rule.Scope == ScopeSchool && school != "" && school == id.SchoolID:
			return Allow
		}
	}
	if roleOK {
		return DenySchool
	}
	return DenyRole
}

func contains(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

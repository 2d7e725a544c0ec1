// Package district names what belongs to the whole district (全区) rather than to one school.
// It holds constants only, so domain packages may import it, as they import errs.
package district

// SchoolID is the reserved school id of district-wide aggregates: their events are stored and
// published under it (the assets service's category tree "category_tree:district", the
// procurement supplier directory houqin.procurement.district.supplier.…), and their request
// ids live in its namespace. No school may take it.
const SchoolID = "district"

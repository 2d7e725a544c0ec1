package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Export formats (?format=).
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Table is the rows of a reply in a form a spreadsheet takes.
type Table struct {
	Header []string
	// Each cell is a string, an int64, a float64 (yuan) or a bool.
	Rows [][]any
	// Money marks the columns in yuan.
	Money []bool
}

// column is one exported field of a row message: path is the field, after the unlabelled
// message fields that hold it.
type column struct {
	path  []protoreflect.FieldDescriptor
	money bool
}

// TableOf finds the table in a reply: its first repeated message field is the rows (see
// TableNamed).
func TableOf(msgs ...proto.Message) (Table, bool) { return TableNamed("", msgs...) }

// TableNamed finds a table in a reply: the repeated message field called name (the first one
// when name is empty) is the rows, and every field of the row message with a label
// (houqin.reports.v1.label: "中文 / English") is a column, in field order; the labelled fields
// of an unlabelled message field of the row (a row that holds another report's row) are
// columns in its place. Amounts in fen (…_fen) become yuan. ok is false for a reply without
// such rows.
func TableNamed(name string, msgs ...proto.Message) (Table, bool) {
	if len(msgs) == 0 {
		return Table{}, false
	}
	var rowsField protoreflect.FieldDescriptor
	fields := msgs[0].ProtoReflect().Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		if f := fields.Get(i); f.IsList() && f.Kind() == protoreflect.MessageKind && (name == "" || string(f.Name()) == name) {
			rowsField = f
			break
		}
	}
	if rowsField == nil {
		return Table{}, false
	}
	var t Table
	cols := columns(rowsField.Message(), nil, &t)
	for _, m := range msgs {
		list := m.ProtoReflect().Get(rowsField).List()
		for i := 0; i < list.Len(); i++ {
			cells := make([]any, len(cols))
			for j, c := range cols {
				row := list.Get(i).Message()
				for _, f := range c.path[:len(c.path)-1] {
					row = row.Get(f).Message()
				}
				cells[j] = cell(c, row.Get(c.path[len(c.path)-1]))
			}
			t.Rows = append(t.Rows, cells)
		}
	}
	return t, true
}

// columns lists the labelled fields of md under path, adding their headers to t.
func columns(md protoreflect.MessageDescriptor, path []protoreflect.FieldDescriptor, t *Table) []column {
	var cols []column
	rf := md.Fields()
	for i := 0; i < rf.Len(); i++ {
		f := rf.Get(i)
		label, _ := proto.GetExtension(f.Options(), reportsv1.E_Label).(string)
		if f.IsList() || f.IsMap() {
			continue
		}
		p := append(append([]protoreflect.FieldDescriptor(nil), path...), f)
		if f.Kind() == protoreflect.MessageKind {
			if label == "" && len(path) < 4 {
				cols = append(cols, columns(f.Message(), p, t)...)
			}
			continue
		}
		if label == "" {
			continue
		}
		c := column{path: p, money: strings.HasSuffix(string(f.Name()), "_fen")}
		cols = append(cols, c)
		t.Header = append(t.Header, label)
		t.Money = append(t.Money, c.money)
	}
	return cols
}

func cell(c column, v protoreflect.Value) any {
	fd := c.path[len(c.path)-1]
	switch fd.Kind() {
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind, protoreflect.Int32Kind,
		protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if c.money {
			return float64(v.Int()) / 100
		}
		return v.Int()
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind, protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return int64(v.Uint())
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		return v.Float()
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	}
	return v.String()
}

// text is a cell as CSV text: yuan with two decimals, booleans as 是/否.
func text(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "是"
		}
		return "否"
	}
	return fmt.Sprint(v)
}

// bom makes Excel read a CSV file as UTF-8.
const bom = "\uFEFF"

// CSV writes t as UTF-8 CSV with a byte-order mark.
func (t Table) CSV() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(bom)
	w := csv.NewWriter(&b)
	if err := w.Write(t.Header); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.Header))
	for _, r := range t.Rows {
		for i, v := range r {
			rec[i] = text(v)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// Sheet is the name of the one worksheet of an export.
const Sheet = "报表"

// XLSX writes t as a workbook of one sheet: numbers stay numbers, yuan carry two decimals.
func (t Table) XLSX() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", Sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(Sheet)
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return nil, err
	}
	head := make([]any, len(t.Header))
	for i, h := range t.Header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	for n, r := range t.Rows {
		row := make([]any, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case bool:
				row[i] = text(x)
			case float64:
				if t.Money[i] {
					row[i] = excelize.Cell{StyleID: money, Value: x}
				} else {
					row[i] = x
				}
			default:
				row[i] = x
			}
		}
		addr, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return nil, err
		}
		if err := sw.SetRow(addr, row); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ContentTypes of the export formats.
var contentTypes = map[string]string{
	FormatCSV:  "text/csv; charset=utf-8",
	FormatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// exportName names a download after the route's path and the query's dates:
// /api/v1/schools/x/ledger?as_of=2024-09-01 → schools-x-ledger-2024-09-01.xlsx.
func exportName(path string, q url.Values, format string) string {
	parts := strings.FieldsFunc(strings.TrimPrefix(path, "/api/v1/"), func(r rune) bool { return r == '/' })
	for _, k := range []string{"table", "report", "key", "dimension", "from", "to", "as_of"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, v)
		}
	}
	name := strings.Join(parts, "-")
	name = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, name)
	return name + "." + format
}

// disposition is an attachment header that keeps non-ASCII names (RFC 6266).
func disposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r > 126 {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

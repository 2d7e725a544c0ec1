// Package demo seeds a demo district: two dozen schools of every kind (幼儿园, 小学, 初中, 高中,
// 九年一贯制, some boarding) with the assets such schools really hold, registered through the
// public gRPC API as their logistics directors would, and their procurement (procurement.go).
// Every command carries a request id derived from its content, so seeding twice changes
// nothing.
package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// School is a demo school.
type School struct {
	ID       string
	Name     string
	Kind     assetsv1.SchoolKind
	Boarding bool
	Classes  int
}

const (
	kg   = assetsv1.SchoolKind_SCHOOL_KIND_KINDERGARTEN
	pri  = assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY
	mid  = assetsv1.SchoolKind_SCHOOL_KIND_MIDDLE
	hi   = assetsv1.SchoolKind_SCHOOL_KIND_HIGH
	nine = assetsv1.SchoolKind_SCHOOL_KIND_NINE_YEAR
)

// Schools of the demo district 青山区.
var Schools = []School{
	{"qs-shiyan-xx", "青山区实验小学", pri, false, 36},
	{"qs-shipai-zx", "石牌中心小学", pri, false, 24},
	{"qs-chengguan-xx", "城关小学", pri, false, 30},
	{"qs-dongfeng-xx", "东风小学", pri, false, 18},
	{"qs-hongqi-xx", "红旗小学", pri, false, 12},
	{"qs-xinhua-xx", "新华小学", pri, false, 24},
	{"qs-binjiang-xx", "滨江小学", pri, false, 18},
	{"qs-lianhe-xx", "联合小学", pri, true, 12},
	{"qs-yizhong", "青山区第一中学", hi, true, 36},
	{"qs-erzhong", "青山区第二中学", hi, true, 30},
	{"qs-zhigao", "青山区职业高级中学", hi, true, 24},
	{"qs-shiyan-cz", "实验初级中学", mid, false, 24},
	{"qs-chengnan-cz", "城南初级中学", mid, false, 18},
	{"qs-xiangyang-cz", "向阳初级中学", mid, true, 18},
	{"qs-jiangbei-cz", "江北初级中学", mid, false, 15},
	{"qs-huayuan-jn", "花园九年一贯制学校", nine, false, 27},
	{"qs-shanyang-jn", "山阳九年一贯制学校", nine, true, 18},
	{"qs-teshu-jn", "青山区特殊教育学校", nine, true, 9},
	{"qs-jiguan-yey", "青山区机关幼儿园", kg, false, 12},
	{"qs-shiyan-yey", "实验幼儿园", kg, false, 15},
	{"qs-chengdong-yey", "城东幼儿园", kg, false, 9},
	{"qs-xingguang-yey", "星光幼儿园", kg, false, 9},
	{"qs-taoyuan-yey", "桃源幼儿园", kg, false, 6},
	{"qs-shanyang-yey", "山阳中心幼儿园", kg, true, 6},
}

type item struct {
	name, category, model string
	priceFen              int64
	qty                   int64
	location, department  string
	perClass              bool
	kinds                 []assetsv1.SchoolKind // empty: every kind
	boardingOnly          bool
	// scale, when set, multiplies the quantity (books, dormitory beds) or, for buildings
	// (quantity 1), the price by the school's size in classes over 24.
	scale bool
}

var (
	all       []assetsv1.SchoolKind
	schools   = []assetsv1.SchoolKind{pri, mid, hi, nine}
	secondary = []assetsv1.SchoolKind{mid, hi, nine}
)

// The catalogue: prices are 2020s market prices in fen.
var items = []item{
	{"教学楼", "1", "钢筋混凝土框架 四层", 1_850_000_000, 1, "校园", "总务处", false, all, false, true},
	{"学生宿舍楼", "1", "钢筋混凝土框架 五层", 1_200_000_000, 1, "校园", "总务处", false, all, true, true},
	{"食堂", "1", "砖混结构 两层", 380_000_000, 1, "校园", "总务处", false, all, false, true},
	{"多媒体教学一体机", "2", "希沃 F86EA", 1_280_000, 1, "", "教务处", true, all, false, false},
	{"空调", "2", "格力 KFR-72LW", 629_900, 2, "", "总务处", true, all, false, false},
	{"学生课桌椅（套）", "6", "单人升降式", 38_000, 45, "", "总务处", true, schools, false, false},
	{"幼儿桌椅（套）", "6", "榉木 六人桌", 96_000, 5, "", "保教处", true, []assetsv1.SchoolKind{kg}, false, false},
	{"台式计算机", "2", "联想 启天M437", 469_900, 50, "计算机教室", "信息中心", false, schools, false, false},
	{"服务器", "2", "华为 2288H V5", 3_580_000, 1, "网络中心机房", "信息中心", false, all, false, false},
	{"打印复印一体机", "2", "理光 MP 2555SP", 1_850_000, 2, "行政楼文印室", "办公室", false, all, false, false},
	{"办公桌椅（套）", "6", "钢木结构", 120_000, 40, "行政楼", "办公室", false, all, false, false},
	{"档案柜", "6", "钢制 五节", 98_000, 20, "档案室", "办公室", false, all, false, false},
	{"钢琴", "3", "珠江 UP118", 1_800_000, 2, "音乐教室", "艺术组", false, all, false, false},
	{"学生显微镜", "3", "奥林巴斯 CX23", 520_000, 30, "生物实验室", "理化生组", false, secondary, false, false},
	{"通风橱", "3", "实验室专用 1.5米", 2_600_000, 4, "化学实验室", "理化生组", false, secondary, false, false},
	{"篮球架", "3", "移动式 液压", 650_000, 4, "运动场", "体育组", false, schools, false, false},
	{"大型组合滑梯", "3", "户外 塑料组合", 4_800_000, 1, "户外活动场", "保教处", false, []assetsv1.SchoolKind{kg}, false, false},
	{"留样冰箱", "2", "海尔 BC-93", 199_900, 1, "食堂留样间", "总务处", false, all, false, false},
	{"消毒柜", "2", "康宝 ZTP380H", 280_000, 2, "食堂", "总务处", false, all, false, false},
	{"图书", "5", "各类图书（批）", 2_850, 300, "图书馆", "图书室", false, schools, false, true},
	{"幼儿绘本", "5", "绘本（批）", 3_500, 80, "图书角", "保教处", false, []assetsv1.SchoolKind{kg}, false, true},
	{"校史陈列品", "4", "校史馆展品（批）", 1_500_000, 1, "校史馆", "办公室", false, []assetsv1.SchoolKind{hi}, false, false},
	{"宿舍床铺（套）", "6", "钢制上下铺", 68_000, 10, "学生宿舍楼", "政教处", false, all, true, true},
}

var custodians = []string{"王老师", "李老师", "张老师", "刘老师", "陈老师", "杨老师", "赵老师", "黄老师", "周老师", "吴老师", "徐老师", "孙老师"}

func applies(it item, s School) bool {
	if it.boardingOnly && !s.Boarding {
		return false
	}
	if len(it.kinds) == 0 {
		return true
	}
	for _, k := range it.kinds {
		if k == s.Kind {
			return true
		}
	}
	return false
}

func hash(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// Assets returns the asset registrations of school s, deterministic for a given s.
func Assets(s School) []*assetsv1.RegisterAssetRequest {
	var out []*assetsv1.RegisterAssetRequest
	seq := 0
	add := func(it item, loc, cust string, n int) {
		seq++
		qty, price := it.qty, it.priceFen
		if it.scale {
			if qty == 1 {
				price = price * int64(max(s.Classes, 6)) / 24
			} else {
				qty *= int64(s.Classes)
			}
		}
		h := hash(s.ID, it.name, fmt.Sprint(n))
		// Spread acquisitions over 2008–2025 (deterministic), buildings first.
		year := 2008 + int(h%18)
		if it.category == "1" {
			year = 2000 + int(h%8)
		}
		on := time.Date(year, time.Month(1+h%12), 1+int(h%28), 0, 0, 0, 0, time.UTC)
		tag := fmt.Sprintf("ZC%d-%s-%04d", year, it.category, seq)
		out = append(out, &assetsv1.RegisterAssetRequest{
			RequestId: fmt.Sprintf("demo-%s-%s", s.ID, tag), SchoolId: s.ID, Tag: tag, Name: it.name,
			Category: it.category, Model: it.model, UnitPriceFen: price, Quantity: qty,
			AcquiredOn: on.Format("2006-01-02"), Source: assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE,
			FundingSource: "财政拨款", Location: loc, Department: it.department, Custodian: cust,
		})
	}
	for _, it := range items {
		if !applies(it, s) {
			continue
		}
		if it.perClass {
			for c := 1; c <= s.Classes; c++ {
				room := fmt.Sprintf("教学楼%d%02d", 1+(c-1)/10, 1+(c-1)%10)
				add(it, room, custodians[(c+len(s.ID))%len(custodians)], c)
			}
			continue
		}
		add(it, it.location, custodians[int(hash(s.ID, it.name))%len(custodians)], 0)
	}
	return out
}

// TokenFunc signs a token for a role in a school.
type TokenFunc func(role auth.Role, school, name string) (string, error)

// Result counts what seeding did.
type Result struct {
	Schools, Assets int
	// Kept counts catalogue entries an earlier, different seed already holds.
	Kept int
}

// Seed registers the demo schools and their assets through conn (the assets service).
// Concurrency bounds the calls in flight.
func Seed(ctx context.Context, conn grpc.ClientConnInterface, token TokenFunc, concurrency int, progress func(done, total int)) (Result, error) {
	client := assetsv1.NewAssetsServiceClient(conn)
	admin, err := token(auth.RoleBureauAdmin, "", "教育局装备科")
	if err != nil {
		return Result{}, err
	}
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+admin)
	for _, s := range Schools {
		if _, err := client.RegisterSchool(actx, &assetsv1.RegisterSchoolRequest{RequestId: "demo-school-" + s.ID,
			SchoolId: s.ID, Name: s.Name, Kind: s.Kind, Boarding: s.Boarding}); err != nil {
			return Result{}, fmt.Errorf("demo: school %s: %w", s.ID, err)
		}
	}
	type job struct {
		ctx context.Context
		req *assetsv1.RegisterAssetRequest
	}
	var jobs []job
	for _, s := range Schools {
		tok, err := token(auth.RoleLogisticsDirector, s.ID, s.Name+"总务主任")
		if err != nil {
			return Result{}, err
		}
		sctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		for _, r := range Assets(s) {
			jobs = append(jobs, job{sctx, r})
		}
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(max(1, concurrency))
	var mu sync.Mutex
	done, keptN := 0, 0
	for _, j := range jobs {
		g.Go(func() error {
			if _, err := client.RegisterAsset(j.ctx, j.req); err != nil {
				// A data folder seeded by an older demo catalogue keeps its assets.
				if !kept(err) {
					return fmt.Errorf("demo: asset %s of %s: %w", j.req.Tag, j.req.SchoolId, err)
				}
				mu.Lock()
				keptN++
				mu.Unlock()
			}
			if progress != nil {
				mu.Lock()
				done++
				progress(done, len(jobs))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	return Result{Schools: len(Schools), Assets: len(jobs) - keptN, Kept: keptN}, nil
}

// kept reports whether a registration was refused because an earlier seed holds the tag.
func kept(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason == "REQUEST_ID_REUSED" || ei.Reason == "ASSET_TAG_TAKEN"
		}
	}
	return false
}

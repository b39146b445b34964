"""The responsibility list (属地管理清单): matters, their fields, primary and cooperating
departments, level, severity and the step limits in working hours."""

from __future__ import annotations

import pandas as pd

# the ten fields (领域) of the responsibility list
FIELDS = {
    "NR": ("自然资源", "natural resources"),
    "EE": ("生态环境", "ecology and environment"),
    "HC": ("住房城乡建设", "housing and construction"),
    "CM": ("城市管理", "city management"),
    "TR": ("交通运输", "transport"),
    "WA": ("水务", "water affairs"),
    "MS": ("市场监管", "market supervision"),
    "ES": ("应急管理", "emergency management and work safety"),
    "HE": ("卫生健康", "health"),
    "CT": ("文化旅游", "culture and tourism"),
}

# code, name, name_en, field, primary, cooperating, level, group, severity, allow_outside,
# limits (dispatch, accept, handle, verify) in working hours, season note
# code|name|name_en|field|primary|cooperating|level|group|severity|allow_outside|
# limits dispatch,accept,handle,verify (working hours)|season note
MATTERS_TABLE = """
CG01|乱设摊|Illegal street stalls|CM|D01|D05;D10|grid|WG02|1|0|0.5,1,4,8|weekends and evenings, more in summer
CG02|跨门营业|Business spilling out of the shop|CM|D01|D05|grid|WG02|1|0|0.5,1,8,8|
CG03|违规广告|Illegal banners and advertising|CM|D01|D10|grid|WG02|1|0|0.5,1,24,8|
CG04|垃圾暴露|Exposed garbage|CM|D10|D14|grid|WG02|1|0|0.5,1,4,8|more in summer
CG05|乱堆物|Materials piled in public space|CM|D01|D14|grid|WG02|1|0|0.5,1,24,8|
CG06|违章建筑|Illegal construction|CM|D01|D09;D08;X04|town|WG02|2|0|1,2,72,24|
CG07|破墙开门|Walls broken to open shop doors|HC|D01|D08;D05|town|WG02|2|0|1,2,48,24|
CG08|群租|Group renting|HC|D08|D02;D14|town|WG05|2|0|1,4,72,24|
CG09|危旧房|Dilapidated housing|HC|D08|D07;X03|town|WG05|2|0|0.5,1,24,24|flood season June-September
CG10|违规装修|Illegal renovation work|HC|D08|D01|town|WG05|1|0|1,2,48,24|
CG11|工地夜间施工|Night-time construction work|HC|D01|X03;X01|town|WG02|1|0|0.5,1,8,8|
CG12|无证照经营|Unlicensed business|MS|D05|D01|town|WG01|1|0|1,2,72,24|
CG13|食品安全隐患|Food safety risk|MS|D05|X05|town|WG01|2|0|0.5,1,24,24|more in summer
CG14|非法行医|Illegal medical practice|HE|X06|D05;D02|county|WG03|2|0|1,4,120,24|
CG15|病媒生物孳生|Breeding of rats and mosquitoes|HE|D17|D10;D14|town|WG03|1|0|1,2,48,24|summer
CG16|地下工厂|Underground factory|ES|D07|D03;D05;D02|town|WG04|3|0|0.5,1,24,24|
CG17|安全隐患|Safety hazard|ES|D07|D03;D13|town|WG04|2|0|0.5,1,24,24|
CG18|消防通道堵塞|Blocked fire lane|ES|D03|D01;D14|grid|WG04|2|0|0.5,1,4,8|
CG19|电动自行车违规充电|Illegal e-bike charging|ES|D03|D14;D02|grid|WG04|2|0|0.5,1,8,8|winter
CG20|烟花爆竹违规燃放|Illegal fireworks|ES|D02|D03|grid|WG04|2|0|0.25,0.5,2,4|Spring Festival and Lantern Festival
CG21|燃气安全隐患|Gas safety hazard|ES|D07|X09;D03|town|WG04|3|0|0.25,0.5,4,8|winter
CG22|占道停车|Illegal parking on the road|TR|D04|D01|grid|WG02|1|0|0.5,1,2,8|weekdays, rush hours
CG23|共享单车乱停放|Shared bicycles parked in disorder|TR|D12|D04|grid|WG02|1|0|0.5,1,4,8|rush hours
CG24|道路破损|Damaged road surface|TR|D12|X08|town|WG02|2|0|1,2,72,24|
CG25|非法客运|Unlicensed taxis|TR|D04|X08;D02|town|WG04|1|0|1,2,48,24|near metro stations
CG26|窨井盖缺失损坏|Missing or damaged manhole cover|WA|D12|X02;D04|grid|WG02|3|0|0.25,0.5,4,8|
CG27|路灯损坏|Broken street light|CM|D12|X08|town|WG02|1|0|1,2,48,24|
CG28|河道污染|River pollution|WA|D12|X02;X01|town|WG02|2|1|0.5,1,48,24|summer
CG29|道路积水|Waterlogged road|WA|D12|X02|town|WG02|2|0|0.25,0.5,8,8|plum rain and typhoon season June-September
CG30|违法排污|Illegal sewage discharge|WA|X02|X01;D01|county|WG02|2|1|1,4,120,24|summer
CG31|餐饮油烟扰民|Restaurant cooking fumes|EE|D01|X01|town|WG02|1|0|1,2,72,24|summer
CG32|工地扬尘|Construction dust|EE|D01|X01;X03|town|WG02|1|1|0.5,1,24,8|spring and autumn
CG33|露天焚烧|Open burning|EE|D01|X01;D03|grid|WG02|2|1|0.25,0.5,2,4|winter
CG34|噪声扰民|Noise nuisance|EE|D02|D01;X01|grid|WG04|1|0|0.5,1,4,8|summer nights
CG35|违法占地|Illegal occupation of land|NR|D09|D01;X07|town|WG01|2|0|1,4,72,24|
CG36|绿化损坏|Damaged greenery|NR|D10|D01|grid|WG02|1|0|0.5,1,24,8|summer
CG37|地面塌陷|Ground subsidence|NR|D09|X07;D12|county|WG04|3|0|0.25,0.5,8,8|flood season
CG38|无证娱乐场所|Unlicensed entertainment venue|CT|D11|D02;D05|town|WG03|1|0|1,2,72,24|
CG39|广场舞噪声|Square-dance noise|CT|D11|D02;D14|grid|WG03|1|0|0.5,1,4,8|summer evenings
CG40|违规户外演出|Unauthorised outdoor performance|CT|D11|D02;D01|grid|WG03|1|0|0.5,1,4,8|holidays
"""


def _parse_matters(text: str) -> list[tuple]:
    out = []
    for line in text.strip().splitlines():
        f = line.split("|")
        limits = tuple(float(x) if "." in x else int(x) for x in f[10].split(","))
        out.append((*f[:8], int(f[8]), int(f[9]), limits, f[11]))
    return out


MATTERS = _parse_matters(MATTERS_TABLE)


def responsibility_table(departments: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """responsibility_list.csv, every department and group it names checked to exist."""
    rl = pd.DataFrame(
        [
            {
                "code": m[0],
                "name": m[1],
                "name_en": m[2],
                "field": FIELDS[m[3]][0],
                "field_en": FIELDS[m[3]][1],
                "primary_department": m[4],
                "cooperating_departments": m[5],
                "level": m[6],
                "group": m[7],
                "default_severity": m[8],
                "allow_outside": m[9],
                "limit_dispatch_h": m[10][0],
                "limit_accept_h": m[10][1],
                "limit_handle_h": m[10][2],
                "limit_verify_h": m[10][3],
                "season": m[11],
            }
            for m in MATTERS
        ]
    )
    dept = set(departments["code"])
    assert set(rl["primary_department"]) <= dept
    assert all(set(c.split(";")) <= dept for c in rl["cooperating_departments"])
    assert set(rl["group"]) <= set(groups["code"])
    assert rl["field"].nunique() == 10 and len(rl) >= 34
    return rl

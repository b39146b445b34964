"""How reports arise, matter by matter: how often, where (location model), at which hours,
on which days and seasons, from which source; and the descriptions' templates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .workdays import N_DAYS

# weight, location model, hour profile, weekday profile, season, (patrol, hotline, camera, resident)
GEN = {
    "CG01": (15.0, "market", "stall", "weekend", "summer_mild", (0.55, 0.10, 0.30, 0.05)),
    "CG02": (7.0, "market", "day", "flat", "flat", (0.65, 0.10, 0.20, 0.05)),
    "CG03": (5.0, "street", "day", "weekday", "flat", (0.75, 0.05, 0.10, 0.10)),
    "CG04": (9.0, "area", "morning", "flat", "summer_mild", (0.60, 0.15, 0.10, 0.15)),
    "CG05": (5.0, "mixed", "day", "flat", "flat", (0.70, 0.10, 0.05, 0.15)),
    "CG06": (2.0, "old", "day", "weekday", "spring_autumn", (0.50, 0.30, 0.00, 0.20)),
    "CG07": (0.8, "street", "day", "weekday", "flat", (0.70, 0.20, 0.00, 0.10)),
    "CG08": (2.5, "old", "evening", "flat", "flat", (0.30, 0.50, 0.00, 0.20)),
    "CG09": (0.5, "old", "day", "flat", "rain", (0.60, 0.30, 0.00, 0.10)),
    "CG10": (1.2, "area", "day", "weekday", "flat", (0.30, 0.50, 0.00, 0.20)),
    "CG11": (1.2, "construction", "night", "flat", "flat", (0.05, 0.80, 0.00, 0.15)),
    "CG12": (2.0, "market", "day", "weekday", "flat", (0.70, 0.15, 0.00, 0.15)),
    "CG13": (0.8, "market", "day", "flat", "summer", (0.40, 0.40, 0.00, 0.20)),
    "CG14": (0.25, "old", "day", "weekday", "flat", (0.40, 0.50, 0.00, 0.10)),
    "CG15": (0.8, "area", "day", "flat", "summer", (0.50, 0.30, 0.00, 0.20)),
    "CG16": (0.25, "old", "day", "weekday", "flat", (0.60, 0.30, 0.00, 0.10)),
    "CG17": (2.5, "mixed", "day", "weekday", "flat", (0.70, 0.15, 0.05, 0.10)),
    "CG18": (2.5, "area", "day", "flat", "flat", (0.65, 0.15, 0.10, 0.10)),
    "CG19": (2.5, "old", "evening", "flat", "winter", (0.50, 0.25, 0.10, 0.15)),
    "CG20": (1.2, "area", "night", "flat", "fireworks", (0.30, 0.50, 0.10, 0.10)),
    "CG21": (0.5, "old", "evening", "flat", "winter", (0.30, 0.50, 0.00, 0.20)),
    "CG22": (9.0, "street", "commute", "weekday", "flat", (0.50, 0.15, 0.30, 0.05)),
    "CG23": (4.0, "metro", "commute", "weekday", "flat", (0.60, 0.05, 0.30, 0.05)),
    "CG24": (1.5, "street", "day", "flat", "rain_mild", (0.70, 0.20, 0.00, 0.10)),
    "CG25": (0.8, "metro", "evening", "flat", "flat", (0.60, 0.20, 0.20, 0.00)),
    "CG26": (1.8, "street", "allday", "flat", "rain_mild", (0.60, 0.30, 0.00, 0.10)),
    "CG27": (2.5, "street", "night", "flat", "winter_mild", (0.60, 0.25, 0.00, 0.15)),
    "CG28": (1.5, "river", "day", "flat", "summer", (0.70, 0.20, 0.00, 0.10)),
    "CG29": (1.0, "street", "allday", "flat", "rain", (0.40, 0.40, 0.15, 0.05)),
    "CG30": (0.3, "river", "day", "flat", "summer", (0.60, 0.30, 0.00, 0.10)),
    "CG31": (2.0, "market", "evening", "flat", "summer", (0.20, 0.60, 0.00, 0.20)),
    "CG32": (1.2, "construction", "day", "weekday", "spring_autumn", (0.40, 0.50, 0.00, 0.10)),
    "CG33": (0.4, "area", "evening", "flat", "winter", (0.50, 0.30, 0.10, 0.10)),
    "CG34": (3.0, "area", "night", "flat", "summer", (0.10, 0.75, 0.00, 0.15)),
    "CG35": (0.3, "area", "day", "weekday", "flat", (0.80, 0.10, 0.00, 0.10)),
    "CG36": (1.5, "street", "day", "flat", "summer", (0.75, 0.10, 0.05, 0.10)),
    "CG37": (0.15, "street", "allday", "flat", "rain", (0.50, 0.40, 0.00, 0.10)),
    "CG38": (0.3, "market", "evening", "flat", "flat", (0.30, 0.50, 0.00, 0.20)),
    "CG39": (1.5, "area", "evening_late", "flat", "summer", (0.10, 0.70, 0.00, 0.20)),
    "CG40": (0.4, "metro", "evening", "weekend", "flat", (0.50, 0.30, 0.10, 0.10)),
}

TEMPLATES = {
    "CG01": [
        "{road}{no}号门口有流动摊贩占道经营",
        "{road}人行道上有人摆摊卖水果",
        "{road}{no}号附近早点摊占用人行道",
    ],
    "CG02": ["{road}{no}号商铺跨门营业，货物堆到人行道", "{road}{no}号饭店在门外摆桌经营"],
    "CG03": [
        "{road}{no}号附近悬挂违规横幅",
        "{road}沿街立柱张贴小广告",
        "{road}{no}号门前摆放落地广告牌",
    ],
    "CG04": ["{road}{no}号旁垃圾箱满溢，垃圾暴露", "{road}沿线有生活垃圾堆放未清运"],
    "CG05": ["{road}{no}号楼道外乱堆杂物", "{road}{no}号旁建筑垃圾占用公共区域"],
    "CG06": ["{road}{no}号屋顶正在搭建违章建筑", "{road}{no}号底楼擅自扩建"],
    "CG07": ["{road}{no}号居民楼底层破墙开门作商铺", "{road}{no}号住宅擅自开门开窗"],
    "CG08": ["{road}{no}号疑似群租，进出人员多", "{road}{no}号一套房内隔出多间出租"],
    "CG09": ["{road}{no}号老房外墙开裂，有坠落风险", "{road}{no}号房屋漏雨，墙体松动"],
    "CG10": ["{road}{no}号装修拆除承重墙", "{road}{no}号违规装修噪声大"],
    "CG11": ["{road}工地夜间施工噪声扰民", "{road}{no}号附近工地夜间打桩"],
    "CG12": ["{road}{no}号店铺无营业执照经营", "{road}{no}号小作坊无证经营"],
    "CG13": ["{road}{no}号熟食店卫生条件差", "{road}{no}号饭店疑似使用过期食材"],
    "CG14": ["{road}{no}号出租屋内有人非法行医", "{road}{no}号无证诊所挂牌看病"],
    "CG15": ["{road}{no}号周边老鼠出没", "{road}{no}号积水处蚊虫孳生"],
    "CG16": ["{road}{no}号民房内疑似地下加工厂", "{road}{no}号仓库内有人违规生产"],
    "CG17": ["{road}{no}号店招松动有坠落隐患", "{road}{no}号临街电线私拉乱接"],
    "CG18": ["{road}{no}号小区消防通道被车辆堵塞", "{road}{no}号楼道堆物堵塞消防通道"],
    "CG19": ["{road}{no}号有居民飞线给电动车充电", "{road}{no}号楼道内电动自行车充电"],
    "CG20": ["{road}{no}号附近有人燃放烟花爆竹", "{road}禁放区域燃放鞭炮"],
    "CG21": ["{road}{no}号餐馆煤气罐摆放不规范", "{road}{no}号闻到燃气泄漏气味"],
    "CG22": ["{road}{no}号门前机动车占道停放", "{road}沿线车辆违停影响通行"],
    "CG23": ["{road}{no}号附近共享单车乱停放", "{road}人行道共享单车堆积"],
    "CG24": ["{road}{no}号门前路面坑洼", "{road}人行道地砖破损"],
    "CG25": ["{road}地铁口有黑车拉客", "{road}{no}号附近非法营运车辆候客"],
    "CG26": ["{road}{no}号门前窨井盖缺失", "{road}窨井盖破损下陷，存在安全隐患"],
    "CG27": ["{road}{no}号附近路灯不亮", "{road}沿线多盏路灯损坏"],
    "CG28": ["走马塘{road}段河面漂浮垃圾", "走马塘{road}段水体发黑发臭"],
    "CG29": ["{road}{no}号附近道路积水严重", "{road}下立交积水"],
    "CG30": ["走马塘{road}段有排水口偷排污水", "{road}{no}号向雨水管道排放污水"],
    "CG31": ["{road}{no}号餐饮店油烟扰民", "{road}{no}号烧烤店油烟直排"],
    "CG32": ["{road}工地裸土未覆盖，扬尘大", "{road}{no}号工地渣土车带泥上路"],
    "CG33": ["{road}{no}号附近有人焚烧垃圾", "{road}绿地内露天焚烧树叶"],
    "CG34": ["{road}{no}号夜间噪声扰民", "{road}{no}号商铺高音喇叭扰民"],
    "CG35": ["{road}{no}号空地被擅自圈占", "{road}{no}号擅自占用集体土地堆放物料"],
    "CG36": ["{road}{no}号绿化带被踩踏毁坏", "{road}行道树被擅自砍伐"],
    "CG37": ["{road}{no}号门前路面塌陷", "{road}人行道出现塌陷坑洞"],
    "CG38": ["{road}{no}号无证歌舞厅营业", "{road}{no}号棋牌室疑似无证经营"],
    "CG39": ["{road}{no}号广场舞音响声音过大", "{road}绿地广场舞噪声扰民"],
    "CG40": ["{road}{no}号商场门口违规搭台演出", "{road}路边有人违规演出占道"],
}


def hour_profile(kind: str) -> np.ndarray:
    """The share of reports by hour of day for one daily pattern (sums of bumps)."""
    h = np.arange(24) + 0.5
    bumps = {
        "stall": [(7.0, 1.2, 1.0), (11.8, 1.0, 0.5), (18.8, 1.8, 1.6)],
        "day": [(10.0, 1.5, 1.0), (15.0, 1.8, 1.0)],
        "morning": [(8.0, 1.5, 1.2), (14.0, 2.0, 0.6)],
        "evening": [(19.5, 2.0, 1.0), (12.0, 2.0, 0.3)],
        "night": [(22.3, 1.8, 1.0), (1.0, 1.5, 0.35)],
        "evening_late": [(20.0, 1.3, 1.0)],
        "commute": [(8.0, 1.0, 1.0), (18.0, 1.2, 1.0), (13.0, 3.0, 0.3)],
        "allday": [(12.0, 4.0, 1.0)],
    }[kind]
    p = np.full(24, 0.02 if kind != "allday" else 0.3)
    for mu, sd, w in bumps:
        d = np.abs(h - mu)
        d = np.minimum(d, 24 - d)
        p += w * np.exp(-0.5 * (d / sd) ** 2)
    return p / p.sum()


SEASONS = {
    "flat": [1] * 12,
    "summer": [0.5, 0.5, 0.6, 0.8, 1.2, 1.8, 2.4, 2.4, 1.6, 1.0, 0.6, 0.5],
    "summer_mild": [0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.2, 1.1, 0.9, 0.8],
    "winter": [1.8, 1.6, 1.1, 0.8, 0.6, 0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 1.6],
    "winter_mild": [1.3, 1.2, 1.0, 0.9, 0.85, 0.8, 0.8, 0.85, 0.9, 1.0, 1.15, 1.3],
    "rain": [0.35, 0.35, 0.4, 0.5, 1.0, 3.5, 3.0, 2.5, 2.2, 0.8, 0.4, 0.35],
    "rain_mild": [0.85, 0.85, 0.85, 0.9, 1.0, 1.6, 1.5, 1.4, 1.3, 1.0, 0.85, 0.85],
    "spring_autumn": [0.8, 0.8, 1.3, 1.4, 1.2, 0.8, 0.8, 0.8, 1.2, 1.3, 1.2, 0.8],
}


def day_weights(days: pd.DataFrame, dow: str, season: str) -> np.ndarray:
    """The share of reports by day: season by month, workdays or weekends, festivals."""
    d = days.iloc[:N_DAYS]
    if season == "fireworks":
        w = np.full(N_DAYS, 0.01)
        spikes = {
            "2025-12-31": 3,
            "2026-01-01": 1.5,
            "2026-02-16": 30,
            "2026-02-17": 15,
            "2026-02-18": 8,
            "2026-02-19": 5,
            "2026-02-20": 4,
            "2026-02-21": 10,
            "2026-02-22": 3,
            "2026-02-23": 3,
            "2026-03-03": 10,
        }
        for i, date in enumerate(d["date"]):
            if pd.Timestamp("2026-02-08") <= date <= pd.Timestamp("2026-03-05"):
                w[i] = 1.0
            w[i] = spikes.get(date.strftime("%Y-%m-%d"), w[i])
        return w / w.sum()
    w = np.array([SEASONS[season][m - 1] for m in d["month"]], dtype=float)
    work = d["workday"].to_numpy()
    if dow == "weekend":
        w *= np.where(work, 0.85, 1.6)
    elif dow == "weekday":
        w *= np.where(work, 1.15, 0.6)
    # Shanghai empties over the Spring Festival
    date = d["date"]
    w *= np.where((date >= "2026-02-15") & (date <= "2026-02-23"), 0.55, 1.0)
    w *= np.where(
        ((date >= "2026-02-10") & (date < "2026-02-15"))
        | ((date > "2026-02-23") & (date <= "2026-02-28")),
        0.8,
        1.0,
    )
    return w / w.sum()

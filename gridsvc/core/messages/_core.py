"""Messages of gridsvc.core: coordinates, layers, the responsibility list, the workflow, calendars."""

# fmt: off
CORE: dict[str, dict[str, str]] = {
    # matching.py: why a point is not matched (the /match answer's and match's reason)
    "reason.out_of_range": {"zh": "坐标超出范围：经度应在 [-180, 180]，纬度应在 [-90, 90]", "en": "coordinates out of range: longitude must be in [-180, 180], latitude in [-90, 90]"},
    "reason.missing": {"zh": "坐标缺失或不是数字", "en": "coordinates missing or not numbers"},
    "reason.swapped": {"zh": "经纬度疑似颠倒：交换后的点位在辖区内", "en": "longitude and latitude look swapped: the swapped point lies in the jurisdiction"},
    "reason.gap": {"zh": "在辖区内，但不在任何网格中（网格图层有缝隙）", "en": "inside the jurisdiction but in no grid (a gap in the grid layer)"},
    "reason.too_far": {"zh": "在辖区之外，距离太远无法测量（EPSG:{epsg} 在那里没有坐标）", "en": "outside the jurisdiction, too far from it to measure (EPSG:{epsg} has no coordinates there)"},
    "reason.outside": {"zh": "在辖区之外，距辖区边界 {metres:.0f} 米；最近的网格是 {grid}", "en": "outside the jurisdiction, {metres:.0f} m from its boundary; nearest grid {grid}"},
    "reason.outside_in": {"zh": "在辖区之外，距辖区边界 {metres:.0f} 米；最近的网格是 {grid}（{town}）", "en": "outside the jurisdiction, {metres:.0f} m from its boundary; nearest grid {grid} (town {town})"},
    # splicing.py: a town planner's upload
    "splice.outside": {"zh": "{code} 超出街镇 {town} 的范围{spread}{where}", "en": "{code} lies outside town {town}{spread}{where}"},
    "splice.in": {"zh": "，位于 {towns:list}", "en": ", in {towns:list}"},
    "splice.other_town": {"zh": "{code} 是街镇 {other} 的要素；只有区里可以重划它", "en": "{code} is a feature of town {other}; only the district redraws it"},
    # crs.py
    "crs.epsg_unknown": {"zh": "EPSG:{code} 不是 PROJ 认识的坐标系", "en": "EPSG:{code} is not a coordinate system PROJ knows"},
    "crs.not_horizontal": {"zh": "EPSG:{code}（{name}）不是二维平面坐标系；点位需要地理坐标系或投影坐标系", "en": "EPSG:{code} ({name}) is not a horizontal 2D coordinate system; points need a geographic or projected CRS"},
    "crs.unknown": {"zh": "未知坐标系 {name!r}；请用 wgs84、cgcs2000、gcj02、bd09 或 EPSG:<代码>", "en": "unknown coordinate system {name!r}; use wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>"},
    "crs.outside_zones": {"zh": "经度 {lon} 不在我国 CGCS2000 高斯-克吕格投影带内（东经 75° 至 135°）", "en": "longitude {lon} is outside China's CGCS2000 Gauss-Krüger zones (75°E to 135°E)"},
    # draft_edits.py
    "edit.geometry_not_object": {"zh": "要素的几何必须是 GeoJSON 几何对象", "en": "the feature's geometry must be a GeoJSON geometry object"},
    "edit.geometry_unbuildable": {"zh": "要素的几何无法构建：{reason}", "en": "the feature's geometry cannot be built: {reason}"},
    "edit.geometry_type": {"zh": "{kind:word}要素应为 {allowed:or}；收到的是 {got}", "en": "a {kind} feature is a {allowed:or}; got a {got}"},
    "edit.geometry_empty": {"zh": "{kind:word}要素应为 {allowed:or}；收到的是空的 {got}", "en": "a {kind} feature is a {allowed:or}; got an empty {got}"},
    "edit.geometry_not_finite": {"zh": "要素的几何中有坐标不是有限数值", "en": "the feature's geometry has a coordinate that is not a finite number"},
    "edit.coordinates_not_in_crs": {"zh": "要素的坐标不在 {crs} 中（换算后落在地球之外）；请按 Content-Crs 所指的坐标系及其轴序发送坐标", "en": "the feature's coordinates are not in {crs} (they fall outside the Earth there); send them in the CRS named by Content-Crs, in its axis order"},
    "edit.no_geometry": {"zh": "这次编辑没有涉及任何几何", "en": "an edit touches no geometry"},
    # evaluation.py
    "period.no_zone": {"zh": "时段的{name}时间 {moment} 没有时区", "en": "period {name} {moment} has no time zone"},
    "period.order": {"zh": "时段的结束时间必须晚于开始时间；收到的是 {start} 至 {end}", "en": "the period must end after it starts; got {start} to {end}"},
    "period.too_long": {"zh": "一个考核时段最长 {most} 天，收到的是 {days} 天：请一年一年地考核", "en": "a period is at most {most} days; got {days}: evaluate a year at a time"},
    "calendar.no_hours": {"zh": "工作日历在十年内凑不满 {hours:g} 个工作小时", "en": "the calendar holds no {hours:g} working hours in ten years"},
    "evaluation.no_event": {"zh": "案件在 {as_of} 之前没有任何记录，连上报也没有", "en": "the case has no event by {as_of}, not even its report"},
    "evaluation.weights": {"zh": "考核权重必须都不小于 0 且合计为 1；收到的是 {shares}", "en": "score weights must be ≥ 0 and add up to 1; got {shares}"},
    "evaluation.min_cases": {"zh": "min_cases 至少为 1；收到的是 {min_cases}", "en": "min_cases must be at least 1; got {min_cases}"},
    "evaluation.town_weight": {"zh": "{name}部门的街镇考核权重必须在 {least} 到 1 之间（街镇考核至少占 {least:.0%}）；收到的是 {weight}", "en": "the town's weight for {name} departments must be between {least} and 1 (the town's assessment weighs at least {least:.0%}); got {weight}"},
    "evaluation.line_score_unknown": {"zh": "条线考核分 {code!r}：没有这个部门", "en": "line score for {code!r}: no such department"},
    "evaluation.line_score_own": {"zh": "条线考核分 {code!r}：{kind}部门属街镇自身，不作自下而上的考核；条线考核分只给区级部门和派驻机构", "en": "line score for {code!r}: a {kind} department is the town's own and is not scored bottom-up; line scores are for county departments and stationed agencies"},
    "evaluation.line_score_range": {"zh": "条线考核分 {code!r} 必须在 0 到 100 之间；收到的是 {score}", "en": "line score for {code!r} must be between 0 and 100; got {score}"},
    # hotspots.py
    "hotspots.scheme": {"zh": "未知的分级方法 {scheme!r}；可用的有 {schemes:list}", "en": "unknown classification {scheme!r}; expected one of {schemes:list}"},
    "hotspots.classes": {"zh": "分级图至少需要 2 级；收到的是 k={k}", "en": "a choropleth needs at least 2 classes; got k={k}"},
    "hotspots.sizes": {"zh": "Gi* 有 {areas} 个区域，却有 {values} 个数值", "en": "{areas} areas but {values} values for Gi*"},
    "hotspots.heat_bins": {"zh": "热力图的格子大小和最大格数都必须为正", "en": "heat bins need a positive size and a positive maximum count"},
    "hotspots.period": {"zh": "未知的时段 {freq!r}；可用 month（月）或 week（周）", "en": "unknown period {freq!r}; expected month or week"},
    # layers.py
    "layer.no_crs": {"zh": "{kind:word}图层没有坐标系", "en": "the {kind} layer has no coordinate reference system"},
    "layer.wrong_crs": {"zh": "{kind:word}图层必须是 {wanted}（CGCS2000）；收到的是 {got}；用图层导入功能读入即可自动转换", "en": "the {kind} layer must be in {wanted} (CGCS2000); got {got}; reproject it with layer loading, which does so"},
    "layer.missing_columns": {"zh": "{kind:word}图层缺少字段 {columns:list}", "en": "the {kind} layer lacks the column(s) {columns:list}"},
    "layer.no_geometry": {"zh": "{kind:word}图层没有一个要素带几何；无从定位、量算或比较", "en": "the {kind} layer has no feature with a geometry; there is nothing to place, measure or compare"},
    # matching.py
    "match.swapped": {"zh": "{where}：经纬度疑似颠倒；点 (lon={lat}, lat={lon}) 在辖区之内。请先写经度。", "en": "{where}: longitude and latitude look swapped; the point (lon={lat}, lat={lon}) lies in the jurisdiction. Send longitude first."},
    "match.out_of_range": {"zh": "{where}：{reason}", "en": "{where}: {reason}"},
    # repair.py
    "repair.unknown": {"zh": "未知的修复方式 {unknown:list}；可用的有 {offered:list}", "en": "unknown repair(s) {unknown:list}; offered: {offered:list}"},
    # routing.py (the responsibility list 属地管理清单)
    "list.duplicate_matter": {"zh": "属地管理清单中事项编码 {code!r} 重复", "en": "duplicate matter code {code!r} in the responsibility list"},
    "list.town_adds": {"zh": "街镇 {town} 改写了事项 {code!r}，但区里的清单中没有这个事项；街镇只能修改事项，不能新增", "en": "town {town} overrides matter {code!r}, which the district's list does not have; a town changes a matter, it adds none"},
    "list.town_twice": {"zh": "街镇 {town} 两次改写了事项 {code!r}", "en": "town {town} overrides matter {code!r} twice"},
    "list.empty_category": {"zh": "未知类别 {code!r}：属地管理清单是空的", "en": "unknown category {code!r}: the responsibility list is empty"},
    "list.unknown_category": {"zh": "未知类别 {code!r}；有效的编码：{shown:list}{more}", "en": "unknown category {code!r}; valid codes: {shown:list}{more}"},
    "list.more_codes": {"zh": " 等，另有 {rest} 个（共 {total} 个）", "en": " and {rest} more ({total} in all)"},
    "list.bad_value": {"zh": "属地管理清单，事项 {where}：{name} = {value!r} 无效；应为 {allowed}", "en": "responsibility list, matter {where}: {name} = {value!r} is not valid; expected {allowed}"},
    "list.missing_column": {"zh": "属地管理清单，事项 {where}：缺少 {name!r} 列", "en": "responsibility list, matter {where}: the column {name!r} is missing"},
    # validation.py
    "validation.blocking": {"zh": "{kind:word}图层有 {blocking} 个阻止发布的问题（{summary}）；第一个：{first}", "en": "the {kind} layer has {blocking} blocking problem(s) ({summary}); first: {first}"},
    "validation.sliver": {"zh": "细碎缝隙的面积阈值必须不小于 0 m²；收到的是 {sliver_m2}", "en": "the sliver area must be 0 m² or more; got {sliver_m2}"},
    "validation.parent_kind": {"zh": "{kind:word}图层应对照{expected:or}图层检查，而不是{parent:word}图层", "en": "a {kind} layer is checked against a {expected:or} layer, not {parent}"},
    "validation.no_parent": {"zh": "{kind:word}图层没有上级图层可对照，而收到了{parent:word}图层", "en": "a {kind} layer is checked against no parent layer, not {parent}"},
    # workflow.py (the case loop: 上报、派遣、处置、核查、结案)
    "workflow.colour_steps": {"zh": "督办颜色只能升 0 级或以上；收到的是 {steps}", "en": "a colour climbs by 0 or more steps; got {steps}"},
    "workflow.severity": {"zh": "紧急程度 {severity!r} 无效；应为 1（一般）、2（较重）或 3（紧急）", "en": "severity {severity!r} is not valid; expected 1 (general), 2 (serious) or 3 (urgent)"},
    "workflow.no_district": {"zh": "没有区中心可以提交：本部署只有一个街镇", "en": "there is no district centre to refer to: this deployment is a single town"},
    "workflow.district_holds": {"zh": "案件已提交区中心；现在由区级密钥办理", "en": "the case is with the district centre (referred); a district key acts on it now"},
    "workflow.small_loop_only": {"zh": "只有网格级（小循环）案件可以自行处置；这件是{level:word}级案件，应派遣到责任部门", "en": "only a grid-level (small loop) case can be fixed on the spot; this one is {level}-level and goes to its department"},
    "workflow.illegal": {"zh": "案件当前为“{current:word}”，不能{action:word}；{role:word}可做的操作：{allowed:words}", "en": "cannot {action} a case that is {current}; allowed for {role}: {allowed:list}"},
    "workflow.role": {"zh": "{role:word}不能{action:word}；可以的角色：{may:words}", "en": "role {role} may not {action}; roles that may: {may:list}"},
    "workflow.unknown_action": {"zh": "未知操作 {action!r}；可用的操作：{actions:list}", "en": "unknown action {action!r}; actions: {actions:list}"},
    "workflow.missing_fields": {"zh": "{action:word}需要填写 {missing:list}：请给出非空的值", "en": "{action} needs {missing:list}: give a non-empty value"},
    "workflow.naive_time": {"zh": "{what} = {moment} 没有时区；请带上时差", "en": "{what} = {moment} has no time zone; give it an offset"},
    "workflow.no_steps": {"zh": "案件流程记录至少要有一步", "en": "a case history needs at least one step"},
    "workflow.last_step_open": {"zh": "案件流程记录的最后一步是当前一步：left_at 必须为 None", "en": "the last step of a case history is the current one: left_at must be None"},
    "workflow.step_not_left": {"zh": "步骤 {status} 不是最后一步，却没有 left_at", "en": "step {status} is not the last one but has no left_at"},
    "workflow.step_order": {"zh": "步骤 {status} 于 {entered} 开始、{left} 结束，早于 {next_status} 开始的 {next_entered}：步骤必须按时间先后排列", "en": "step {status} entered {entered} and left {left}, before {next_status} entered {next_entered}: steps must be in time order"},
    # worktime.py (the work calendar 工作日历)
    "calendar.workweek": {"zh": "工作周 {workweek} 必须包含 0（周一）到 6 之间的某些日子", "en": "workweek {workweek} must hold some of the weekdays 0 (Monday)..6"},
    "calendar.both": {"zh": "节假日表把 {day} 同时列为节假日和工作日", "en": "holiday calendar lists {day} as both a holiday and a workday"},
    "calendar.naive": {"zh": "时间 {moment} 没有时区；请带上时差，例如 +08:00", "en": "datetime {moment} has no time zone; send it with an offset, e.g. +08:00"},
    "calendar.unknown_zone": {"zh": "未知时区 {name!r}；请用 IANA 名称，例如 Asia/Shanghai", "en": "unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"},
    "calendar.no_periods": {"zh": "工作日历至少需要一个工作时段", "en": "a work calendar needs at least one working period"},
    "calendar.periods_order": {"zh": "工作时段必须按先后排列且互不重叠；收到的 {begin}-{end} 在一个于 {previous_end} 结束的时段之后", "en": "working periods must be in order and not overlap; got {begin}-{end} after one ending at {previous_end}"},
    "calendar.period_zone": {"zh": "工作时段时间 {moment} 必须是不带时区的钟点", "en": "working period time {moment} must be a wall-clock time without zone"},
    "calendar.hours": {"zh": "工作小时数必须在 0 到 {most:g} 之间；收到的是 {hours!r}", "en": "working hours must be between 0 and {most:g}; got {hours!r}"},
    "calendar.bad_date": {"zh": "节假日表：日期 {raw!r} 不是 ISO 日期（YYYY-MM-DD）", "en": "holiday calendar: date {raw!r} is not an ISO date (YYYY-MM-DD)"},
    "calendar.bad_flag": {"zh": "节假日表，{raw_date}：is_workday = {raw_flag!r}；应为 0（节假日）或 1", "en": "holiday calendar, {raw_date}: is_workday = {raw_flag!r}; expected 0 (holiday) or 1"},
}
# fmt: on
